#!/usr/bin/python3
"""hicomexexport location=mqtt://...: real Debian mosquitto broker on a free
loopback port, a real subscriber (mosquitto_sub), real pipelines on a real face
photo. Checks delivery, order, the JSON schema, broker outages (QoS 1 with a
large queue: nothing missing; a small queue: the reported drop count equals
what is missing), a broker that is down at start, wrong host/port, bad
credentials, TLS, and hicomex-rtsp --mqtt. Prints one line per case and a
final "N passed, N failed"."""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import media_paths  # noqa: E402  (tests/support: the photos every test uses)

FACE_PHOTO = media_paths.GRACE_HOPPER


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """A mosquitto broker on loopback; persistent sessions survive restarts
    (saved on SIGTERM) so a subscriber misses nothing while it is down."""

    def __init__(self, workdir, port=None, password_file=None, tls=None):
        self.dir = workdir
        self.port = port or free_port()
        self.proc = None
        # Run as us: as root, mosquitto would drop to its own user, which
        # cannot read our private temp dir.
        import getpass
        conf = [f"user {getpass.getuser()}", f"listener {self.port} 127.0.0.1",
                "persistence true", f"persistence_location {workdir}/",
                "max_queued_messages 100000", "max_inflight_messages 0"]
        if password_file:
            conf += ["allow_anonymous false", f"password_file {password_file}"]
        else:
            conf += ["allow_anonymous true"]
        if tls:
            conf += [f"cafile {tls['ca']}", f"certfile {tls['cert']}", f"keyfile {tls['key']}"]
        self.conf = os.path.join(workdir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")

    def start(self):
        self.log = open(os.path.join(self.dir, "broker.log"), "a")
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("mosquitto exited: " + open(self.log.name).read())
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not listen on port %d" % self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # saves the persistent sessions
            self.proc.wait(10)
        self.proc = None


class Subscriber:
    """mosquitto_sub with a persistent session (QoS 1), printing topic and payload."""

    def __init__(self, broker, topic, workdir, extra=()):
        self.out_path = os.path.join(workdir, "sub-%d.txt" % time.monotonic_ns())
        self.out = open(self.out_path, "w")
        self.proc = subprocess.Popen(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-t", topic, "-v",
             "-q", "1", "-c", "-i", "hicomex-test-sub-%d" % os.getpid()] + list(extra),
            stdout=self.out, stderr=subprocess.STDOUT)
        time.sleep(0.4)

    def messages(self, settle=1.0):
        time.sleep(settle)
        self.proc.terminate()
        self.proc.wait(5)
        self.out.close()
        msgs = []
        for line in open(self.out_path):
            topic, _, payload = line.rstrip("\n").partition(" ")
            try:
                msgs.append((topic, json.loads(payload)))
            except ValueError:
                msgs.append((topic, {"unparsed": line}))
        return msgs


def pipeline(url, frames, live=False, props=""):
    src = (f"filesrc location={FACE_PHOTO} ! jpegdec ! videoscale ! video/x-raw,width=256,height=256 "
           f"! imagefreeze num-buffers={frames}" + (" is-live=true" if live else "") +
           " ! video/x-raw,framerate=30/1 ! videoconvert")
    return (f"{src} ! hicomex ! hicomexexport location={url} {props} ! fakesink sync=false")


def gst_launch(desc, timeout=120, env=None):
    t0 = time.time()
    p = subprocess.run(["gst-launch-1.0", "-m"] + desc.split(), capture_output=True, text=True,
                       timeout=timeout, env=env)
    return p.returncode, p.stdout + p.stderr, time.time() - t0


def stats_of(output):
    """The last hicomex-mqtt-stats message gst-launch printed."""
    found = re.findall(r"hicomex-mqtt-stats,[^\n]*", output)
    if not found:
        return None
    last = found[-1]
    return {k: int(v) for k, v in re.findall(r"(published|dropped|queued|reconnects)=\(guint64\)(\d+)", last)}


class Cases:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="hicomex-mqtt-")
        import jsonschema
        schema = json.load(open(os.path.join(args.source, "docs/schema/hicomex-results-1.schema.json")))
        jsonschema.Draft202012Validator.check_schema(schema)
        self.validator = jsonschema.Draft202012Validator(schema)

    def clip(self):
        """A short H.264 MP4 of the face photo (what the RTSP server streams)."""
        path = os.path.join(self.tmp, "clip.mp4")
        if not os.path.exists(path):
            subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={FACE_PHOTO}", "!",
                            "jpegdec", "!", "videoconvert", "!", "videoscale", "!",
                            "video/x-raw,width=320,height=320", "!", "imagefreeze",
                            "num-buffers=50", "!", "video/x-raw,framerate=25/1", "!",
                            "videoconvert", "!", "x264enc", "!", "mp4mux", "!", "filesink",
                            f"location={path}"], check=True, capture_output=True)
        return path

    def workdir(self, name):
        d = os.path.join(self.tmp, name)
        os.makedirs(d, exist_ok=True)
        return d

    def check_schema(self, record):
        errors = [e.message for e in self.validator.iter_errors(record)]
        assert not errors, "schema: %s in %s" % (errors[:3], json.dumps(record)[:200])

    def frames_of(self, msgs, topic):
        return [m["frame"] for t, m in msgs if t == topic]

    # --- cases -----------------------------------------------------------
    def every_frame_in_order_and_valid(self):
        d = self.workdir("basic")
        b = Broker(d).start()
        try:
            sub = Subscriber(b, "lab/#", d)
            url = f"mqtt://127.0.0.1:{b.port}/lab/cam1"
            rc, out, _ = gst_launch(pipeline(url, 40, props="per-face-topics=true qos=1"))
            assert rc == 0, out[-2000:]
            msgs = sub.messages()
        finally:
            b.stop()
        frames = self.frames_of(msgs, "lab/cam1")
        assert frames == list(range(1, 41)), frames
        for t, m in msgs:
            self.check_schema(m)
        face_msgs = [m for t, m in msgs if t.startswith("lab/cam1/face/")]
        assert len(face_msgs) >= 40, len(face_msgs)
        first = [m for t, m in msgs if t == "lab/cam1"][0]
        assert first["faces"], "no face in the frame record of a face photo"
        assert first["model"], first.keys()
        face = first["faces"][0]
        assert any(t == "lab/cam1/face/%d" % face["face_id"] for t, _ in msgs)
        st = stats_of(out)
        assert st and st["published"] == len(msgs) and st["dropped"] == 0, st
        return "40 frames + %d face messages, in order, schema-valid" % len(face_msgs)

    def jsonl_file_matches_schema(self):
        d = self.workdir("jsonl")
        path = os.path.join(d, "out.jsonl")
        rc, out, _ = gst_launch(pipeline(path, 5, props="format=jsonl"))
        assert rc == 0, out[-2000:]
        lines = [json.loads(l) for l in open(path)]
        assert len(lines) >= 5, len(lines)
        for rec in lines:
            self.check_schema(rec)
        # And a record that breaks the layout is refused (the check can fail).
        broken = dict(lines[0])
        broken["aus"] = {"AU12": {"p": 1.5, "c": 1}}
        assert list(self.validator.iter_errors(broken)), "schema accepted p=1.5"
        return "%d records valid" % len(lines)

    def outage(self, queue_size):
        d = self.workdir("outage-%d" % queue_size)
        b = Broker(d).start()
        frames = 150  # 5 s at 30 frames/s, live
        url = f"mqtt://127.0.0.1:{b.port}/lab/out"
        sub = Subscriber(b, "lab/out", d)
        desc = pipeline(url, frames, live=True,
                        props=f"qos=1 queue-size={queue_size} drain-timeout=20")
        proc = subprocess.Popen(["gst-launch-1.0", "-m"] + desc.split(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            time.sleep(1.8)
            b.stop()
            time.sleep(1.5)
            b.start()
            out, _ = proc.communicate(timeout=120)
            msgs = sub.messages(settle=2.0)
        finally:
            if proc.poll() is None:
                proc.kill()
            b.stop()
        assert proc.returncode == 0, out[-2000:]
        got = self.frames_of(msgs, "lab/out")
        for _, m in msgs:
            self.check_schema(m)
        st = stats_of(out)
        assert st is not None, out[-2000:]
        missing = sorted(set(range(1, frames + 1)) - set(got))
        firsts = []
        for f in got:
            if f not in firsts:
                firsts.append(f)
        assert firsts == sorted(firsts), "out of order: %s" % firsts
        assert "Lost the connection to MQTT broker" in out, out[-2000:]
        assert st["reconnects"] >= 1, st
        repeats = len(got) - len(set(got))
        return got, missing, st, repeats, out

    def outage_with_a_large_queue_loses_nothing(self):
        got, missing, st, repeats, out = self.outage(10000)
        assert not missing, "missing frames %s; stats %s" % (missing[:20], st)
        assert st["dropped"] == 0, st
        return "150/150 frames after a 1.5 s outage, %d repeats, reconnects %d" % (repeats, st["reconnects"])

    def outage_with_a_small_queue_reports_what_it_dropped(self):
        got, missing, st, repeats, out = self.outage(5)
        assert missing, "a 5-message queue lost nothing in a 1.5 s outage at 30 frames/s?"
        assert st["dropped"] == len(missing), "dropped %d, missing %d: %s" % (
            st["dropped"], len(missing), missing)
        assert "result messages dropped" in out, out[-1500:]
        return "%d missing = %d reported dropped" % (len(missing), st["dropped"])

    def broker_down_at_start_with_connect_timeout_0(self):
        d = self.workdir("late")
        port = free_port()
        b = Broker(d, port=port)
        url = f"mqtt://127.0.0.1:{port}/lab/late"
        # Sessions persist: register the subscriber first, then stop the broker.
        b.start()
        sub = Subscriber(b, "lab/late", d)
        b.stop()
        desc = pipeline(url, 60, live=True, props="connect-timeout=0 drain-timeout=20")
        proc = subprocess.Popen(["gst-launch-1.0", "-m"] + desc.split(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            time.sleep(1.0)
            b.start()
            out, _ = proc.communicate(timeout=120)
            msgs = sub.messages(settle=2.0)
        finally:
            if proc.poll() is None:
                proc.kill()
            b.stop()
        assert proc.returncode == 0, out[-2000:]
        got = set(self.frames_of(msgs, "lab/late"))
        assert got == set(range(1, 61)), sorted(set(range(1, 61)) - got)
        return "started without a broker; 60/60 frames once it came up"

    def wrong_port_is_a_clear_error(self):
        port = free_port()
        url = f"mqtt://127.0.0.1:{port}/lab/x"
        rc, out, secs = gst_launch(pipeline(url, 5, props="connect-timeout=1.5"), timeout=60)
        assert rc != 0, out[-1000:]
        assert f"Could not connect to MQTT broker mqtt://127.0.0.1:{port}/lab/x" in out, out[-1500:]
        assert "refused" in out.lower(), out[-1500:]
        assert secs < 30, secs
        return "error in %.1f s naming the URL" % secs

    def wrong_host_is_a_clear_error(self):
        url = "mqtt://no-such-broker.invalid/lab/x"
        rc, out, secs = gst_launch(pipeline(url, 5, props="connect-timeout=1.5"), timeout=60)
        assert rc != 0, out[-1000:]
        assert "no-such-broker.invalid" in out, out[-1500:]
        assert "resolve" in out, out[-1500:]
        return "error in %.1f s naming the host" % secs

    def bad_url_is_a_settings_error(self):
        rc, out, _ = gst_launch(pipeline("mqtt://127.0.0.1:99999/t", 2), timeout=60)
        assert rc != 0 and "port '99999'" in out, out[-1500:]
        rc, out, _ = gst_launch(pipeline("mqtt://127.0.0.1/", 2), timeout=60)
        assert rc != 0 and "has no topic" in out, out[-1500:]
        return "port and topic named"

    def bad_credentials_are_a_clear_error(self):
        d = self.workdir("auth")
        pw = os.path.join(d, "passwd")
        subprocess.run(["mosquitto_passwd", "-b", "-c", pw, "alice", "s3cret-pw"], check=True,
                       capture_output=True)
        os.chmod(pw, 0o600)
        b = Broker(d, password_file=pw).start()
        try:
            url = f"mqtt://127.0.0.1:{b.port}/lab/auth"
            rc, out, _ = gst_launch(pipeline(url, 5, props="username=alice password=wrong-pw "
                                              "connect-timeout=5"), timeout=60)
            assert rc != 0, out[-1500:]
            assert "not authorised" in out.lower() or "not authorized" in out.lower(), out[-1500:]
            assert "wrong-pw" not in out, "the password was printed"
            sub = Subscriber(b, "lab/auth", d, extra=["-u", "alice", "-P", "s3cret-pw"])
            # Credentials in the URL work too, and are not printed either.
            rc, out, _ = gst_launch(pipeline(f"mqtt://alice:s3cret-pw@127.0.0.1:{b.port}/lab/auth",
                                             5), timeout=60)
            assert rc == 0, out[-1500:]
            assert "s3cret-pw" not in out, "the password was printed"
            msgs = sub.messages()
        finally:
            b.stop()
        assert len(self.frames_of(msgs, "lab/auth")) == 5, msgs[:3]
        return "refused with a clear error; right credentials deliver; no password in output"

    def tls_with_a_ca_file(self):
        d = self.workdir("tls")
        run = lambda *a: subprocess.run(list(a), check=True, capture_output=True, cwd=d)
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=hicomex test CA")
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
            "-out", "server.csr", "-subj", "/CN=localhost")
        with open(os.path.join(d, "ext.cnf"), "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
        b = Broker(d, tls={"ca": d + "/ca.pem", "cert": d + "/server.pem",
                           "key": d + "/server.key"}).start()
        try:
            out_path = os.path.join(d, "sub.txt")
            with open(out_path, "w") as out_f:
                sub = subprocess.Popen(["mosquitto_sub", "-h", "localhost", "-p", str(b.port),
                                        "--cafile", d + "/ca.pem", "-t", "lab/tls", "-q", "1"],
                                       stdout=out_f, stderr=subprocess.STDOUT)
                time.sleep(0.5)
                url = f"mqtts://localhost:{b.port}/lab/tls"
                rc, out, _ = gst_launch(pipeline(url, 5, props=f"ca-file={d}/ca.pem"), timeout=60)
                assert rc == 0, out[-1500:]
                time.sleep(0.5)
                sub.terminate()
                sub.wait(5)
            got = [json.loads(l)["frame"] for l in open(out_path) if l.startswith("{")]
            assert got == [1, 2, 3, 4, 5], open(out_path).read()[:500]
            # Without the CA the server is not trusted: a clear error, no hang.
            rc, out, _ = gst_launch(pipeline(url, 5, props="connect-timeout=2"), timeout=60)
            assert rc != 0 and "Could not connect to MQTT broker mqtts://localhost" in out, out[-1500:]
            rc, out, _ = gst_launch(pipeline(url, 5, props=f"ca-file={d}/missing.pem"), timeout=60)
            assert rc != 0 and "missing.pem" in out, out[-1500:]
        finally:
            b.stop()
        return "5/5 over TLS; untrusted server and missing CA file refused"

    def rtsp_tool_publishes(self):
        tool = os.path.join(self.args.source, "pipelines", "hicomex-rtsp")
        server = os.path.join(self.args.build, "pipelines", "hicomex-rtsp-server")
        if not os.path.exists(server):
            return "SKIP no hicomex-rtsp-server"
        d = self.workdir("rtsp")
        b = Broker(d).start()
        rtsp_port = free_port()
        srv = subprocess.Popen([server, "--port", str(rtsp_port), "--mount", "/face", self.clip()],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            time.sleep(1.5)
            sub = Subscriber(b, "lab/rtsp", d)
            p = subprocess.run([tool, f"rtsp://127.0.0.1:{rtsp_port}/face",
                                "--mqtt", f"mqtt://127.0.0.1:{b.port}/lab/rtsp",
                                "--frames", "20"],
                               capture_output=True, text=True, timeout=120)
            msgs = sub.messages()
        finally:
            srv.terminate()
            srv.wait(5)
            b.stop()
        assert p.returncode == 0, (p.stdout + p.stderr)[-2000:]
        frames = self.frames_of(msgs, "lab/rtsp")
        assert len(frames) >= 20 and frames == sorted(frames), frames
        for _, m in msgs:
            self.check_schema(m)
        assert any(m["faces"] for _, m in msgs), "no face reached the broker"
        return "%d frames from the RTSP camera" % len(frames)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("-k", "--only", default="", help="run cases whose name contains this")
    args = ap.parse_args()
    os.environ["GST_PLUGIN_PATH"] = os.path.join(args.build, "gst-plugin")
    os.environ.setdefault("HICOMEX_FACE_MODELS", os.path.join(args.source, "face-models"))
    os.environ["HICOMEX_BUILD_DIR"] = args.build
    cases = Cases(args)
    names = [n for n in ("every_frame_in_order_and_valid", "jsonl_file_matches_schema",
                         "outage_with_a_large_queue_loses_nothing",
                         "outage_with_a_small_queue_reports_what_it_dropped",
                         "broker_down_at_start_with_connect_timeout_0",
                         "wrong_port_is_a_clear_error", "wrong_host_is_a_clear_error",
                         "bad_url_is_a_settings_error", "bad_credentials_are_a_clear_error",
                         "tls_with_a_ca_file", "rtsp_tool_publishes") if args.only in n]
    passed = failed = 0
    for name in names:
        t0 = time.time()
        try:
            note = getattr(cases, name)()
            print("ok   %-52s %5.1fs  %s" % (name, time.time() - t0, note), flush=True)
            passed += 1
        except Exception as e:  # noqa: BLE001 - report every case
            print("FAIL %-52s %5.1fs  %s" % (name, time.time() - t0, e), flush=True)
            traceback.print_exc()
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
