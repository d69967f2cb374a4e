#!/usr/bin/env python3
"""Hostile-but-realistic inputs against the real tools, counted per category.

Re-runs the kinds of cases the reliability review tried (docs/reliability.md lists them):
damaged model files, damaged media, interruptions, a full disk, every pixel
format, property abuse and an RTSP camera nobody answers for. Each case runs a
whole process (hicomex-analyze, gst-launch-1.0 with the built plugin,
hicomex-rtsp) under a time limit and is judged on what a user would see:

  crash     the process died of a signal (SIGSEGV, SIGABRT, ...)
  hang      it ran past its time limit
  lost      rows it had read are missing, or the file ends in half a row
  wrong     it exited as it should not (e.g. 0 on a damaged model), or its
            message does not name the file / value
  ok        everything as documented

Prints a table per category and, with --json FILE, every case. Exit status 0
when every case is ok, 1 otherwise. Run by the test suite (suite "slow").

  reliability.py --build BUILD_DIR --source SOURCE_DIR [--json FILE] [--work DIR]
"""
import argparse
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import media_paths  # noqa: E402  (tests/support: the photos every test uses)

FACE_PHOTO = media_paths.GRACE_HOPPER


class Runner:
    def __init__(self, build, source, work):
        self.build, self.source, self.work = build, source, work
        self.analyze = os.path.join(build, "model/tools/analyze/hicomex-analyze")
        self.model = os.path.join(source, "models/hicomex-default.safetensors")
        self.env = dict(os.environ)
        self.env["GST_PLUGIN_PATH"] = os.path.join(build, "gst-plugin")
        self.env["GST_REGISTRY"] = os.path.join(work, "registry.bin")
        self.env.setdefault("HICOMEX_FACE_MODELS", os.path.join(source, "face-models"))
        self.env["HICOMEX_BUILD_DIR"] = build
        for k in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS"):
            self.env.pop(k, None)
        self.cases = []

    def path(self, name):
        return os.path.join(self.work, name)

    def run(self, argv, timeout, stop_after=None, stop_signal=None):
        """Runs argv; returns (returncode, stdout+stderr text, seconds, timed_out)."""
        t0 = time.monotonic()
        # gst-launch-1.0 prints warnings on stdout: both streams are what the user sees.
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=self.env,
                             start_new_session=True)
        if stop_after is not None:
            time.sleep(stop_after)
            if p.poll() is None:
                p.send_signal(stop_signal)
        try:
            err, _ = p.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            err, _ = p.communicate()
            timed_out = True
        return p.returncode, err.decode("utf-8", "replace"), time.monotonic() - t0, timed_out

    def record(self, category, name, rc, err, timed_out, verdict_if_alive, detail=""):
        if timed_out:
            verdict = "hang"
        elif rc is not None and rc < 0:
            verdict = "crash"
            detail = f"signal {-rc}"
        else:
            verdict = verdict_if_alive
        self.cases.append({"category": category, "case": name, "exit": rc, "verdict": verdict,
                           "detail": detail, "stderr_tail": err.strip().splitlines()[-2:] if err else []})
        print(f"[reliability] {category:12s} {name:40s} exit {rc!s:>4}  {verdict}{(' - ' + detail) if detail else ''}",
              file=sys.stderr)


def whole_lines(path):
    with open(path, "rb") as f:
        data = f.read()
    return not data or data.endswith(b"\n")


def csv_rows(path):
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return max(0, sum(1 for _ in f) - 1)


# ---- damaged model files -----------------------------------------------------

def model_variants(r):
    with open(r.model, "rb") as f:
        good = f.read()
    header_len = struct.unpack("<Q", good[:8])[0]
    header = json.loads(good[8:8 + header_len])
    data_start = 8 + header_len
    first = next(k for k in header if k != "__metadata__")
    begin = data_start + header[first]["data_offsets"][0]
    nan = bytearray(good)
    nan[begin:begin + 4] = struct.pack("<f", float("nan"))
    flipped = bytearray(good)
    for i in range(50):
        flipped[data_start + 1000 + i * 997] ^= 0xFF
    bad_header = bytearray(good)
    bad_header[8 + header_len // 2] = 0xFF
    return {
        "empty file": b"",
        "7 bytes": good[:7],
        "truncated to 10 %": good[: len(good) // 10],
        "truncated to 99 %": good[: len(good) * 99 // 100],
        "header length past the end": struct.pack("<Q", len(good)) + good[8:],
        "header length 2^63": struct.pack("<Q", 1 << 63) + good[8:],
        "invalid UTF-8 in the header": bytes(bad_header),
        "50 flipped data bytes": bytes(flipped),
        "a NaN weight": bytes(nan),
        "random bytes": os.urandom(4096),
        "a JPEG renamed": open(FACE_PHOTO, "rb").read()[:5000],
    }


def bad_models(r):
    for name, data in model_variants(r).items():
        path = r.path("bad-model.safetensors")
        with open(path, "wb") as f:
            f.write(data)
        rc, err, _, to = r.run([r.analyze, FACE_PHOTO, "-o", r.path("m.csv"), "--overwrite", "-q",
                                "--model", path], timeout=60)
        ok = rc == 3 and "bad-model.safetensors" in err and "frame #" not in err
        r.record("model file", name, rc, err, to, "ok" if ok else "wrong",
                 "" if ok else "expected exit 3 naming the file")
        rc, err, _, to = r.run(["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=2", "!", "hicomex",
                                f"model={path}", "!", "fakesink"], timeout=60)
        ok = rc == 255 and "bad-model.safetensors" in err
        r.record("model file", name + " (element)", rc, err, to, "ok" if ok else "wrong",
                 "" if ok else "expected a failed start naming the file")
    os.makedirs(r.path("a-folder.safetensors"), exist_ok=True)
    rc, err, _, to = r.run([r.analyze, FACE_PHOTO, "-o", r.path("m.csv"), "--overwrite", "-q", "--model",
                            r.path("a-folder.safetensors")], timeout=60)
    named = "folder" in err or "directory" in err
    r.record("model file", "a folder", rc, err, to, "ok" if rc == 3 and named else "wrong")


# ---- damaged media -------------------------------------------------------------

def make_clip(r, frames=60):
    clip = r.path("clip.mp4")
    if not os.path.exists(clip):
        subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={FACE_PHOTO}", "!", "jpegdec", "!",
                        "videoconvert", "!", "imagefreeze", f"num-buffers={frames}", "!",
                        "video/x-raw,framerate=25/1", "!", "videoconvert", "!", "x264enc", "!", "mp4mux",
                        "faststart=true", "!", "filesink", f"location={clip}"], check=True, env=r.env)
    return clip


def bad_media(r):
    clip = make_clip(r)
    data = open(clip, "rb").read()
    cases = {
        "empty file": (b"", 1),
        "random bytes": (os.urandom(20000), 1),
        "text renamed .mp4": (b"this is not a video\n" * 100, 1),
        "video cut at 30 %": (data[: len(data) * 3 // 10], 1),
    }
    for name, (content, want) in cases.items():
        path = r.path("bad.mp4")
        with open(path, "wb") as f:
            f.write(content)
        out = r.path("bad.csv")
        rc, err, _, to = r.run([r.analyze, path, "-o", out, "--overwrite", "-q"], timeout=120)
        lines = err.strip().splitlines()
        ok = rc == want and "bad.mp4" in err and len(lines) <= 3
        if ok and os.path.exists(out) and not whole_lines(out):
            r.record("media", name, rc, err, to, "lost", "file ends in half a row")
            continue
        r.record("media", name, rc, err, to, "ok" if ok else "wrong",
                 "" if ok else f"expected exit {want}, one message naming the file")


# ---- interruptions -------------------------------------------------------------

def interruptions(r):
    clip = make_clip(r, 60)
    long_clip = r.path("long.mp4")
    if not os.path.exists(long_clip):
        subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={FACE_PHOTO}", "!", "jpegdec", "!",
                        "videoconvert", "!", "imagefreeze", "num-buffers=1500", "!", "video/x-raw,framerate=25/1",
                        "!", "videoconvert", "!", "x264enc", "speed-preset=ultrafast", "!", "mp4mux", "!",
                        "filesink", f"location={long_clip}"], check=True, env=r.env)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        out = r.path(f"sig-{sig.name}.csv")
        rc, err, _, to = r.run([r.analyze, long_clip, "-o", out, "--overwrite", "-q"], timeout=120,
                               stop_after=4.0, stop_signal=sig)
        rows = csv_rows(out)
        told = None
        for line in err.splitlines():
            if "interrupted after" in line:
                told = int(line.split("interrupted after")[1].split()[0])
        if rc == 130 and whole_lines(out) and told is not None and rows == told and rows > 0:
            r.record("interrupt", sig.name, rc, err, to, "ok", f"{rows} rows kept")
        elif rc == 0:
            r.record("interrupt", sig.name, rc, err, to, "ok", "finished before the signal")
        else:
            r.record("interrupt", sig.name, rc, err, to, "lost" if rc == 130 else "wrong",
                     f"rows {rows}, reported {told}")


# ---- full disk and unwritable outputs ------------------------------------------

def write_errors(r):
    for name, location in (("/dev/full", "/dev/full"), ("a read-only file", "/proc/version")):
        rc, err, secs, to = r.run(["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=30", "!", "hicomex", "!",
                                   "hicomexexport", f"location={location}", "overwrite=true", "!", "fakesink"],
                                  timeout=60)
        ok = rc == 1 and location in err
        r.record("write error", name + " (element)", rc, err, to, "ok" if ok else "wrong")
    rc, err, _, to = r.run([r.analyze, FACE_PHOTO, "-o", "/dev/full", "--overwrite", "-q"], timeout=60)
    r.record("write error", "/dev/full (tool)", rc, err, to, "ok" if rc == 2 and "/dev/full" in err else "wrong")
    rc, err, _, to = r.run([r.analyze, FACE_PHOTO, "-o", r.work + "/", "-q"], timeout=60)
    r.record("write error", "output is a folder", rc, err, to, "ok" if rc == 2 and "folder" in err else "wrong")


# ---- every pixel format ---------------------------------------------------------

def pixel_formats(r):
    for fmt in ("RGB", "BGR", "RGBA", "BGRA", "RGBx", "BGRx", "xRGB", "xBGR", "GRAY8", "I420", "NV12"):
        out = r.path(f"fmt-{fmt}.jsonl")
        rc, err, _, to = r.run(["gst-launch-1.0", "-q", "filesrc", f"location={FACE_PHOTO}", "!", "jpegdec", "!",
                                "videoconvert", "!", "imagefreeze", "num-buffers=2", "!",
                                f"video/x-raw,format={fmt}", "!", "hicomex", "!", "hicomexexport",
                                f"location={out}", "format=jsonl", "overwrite=true", "!", "fakesink"], timeout=120)
        faces = sum(1 for _ in open(out)) if os.path.exists(out) else 0
        r.record("pixel format", fmt, rc, err, to, "ok" if rc == 0 and faces == 2 else "wrong",
                 f"{faces} face records")


# ---- property abuse -------------------------------------------------------------

def properties(r):
    cases = [
        # gst-launch-1.0 exits 255 when the pipeline cannot start, 0 after a warning
        ("threshold for a missing AU", ["threshold=AU99=0.5"], 255, "AU99"),
        ("unknown calibration", ["calibration=bogus"], 0, "bogus"),
        ("threads=100000", ["threads=100000"], 0, None),
        ("unknown device", ["device=tpu"], 255, "tpu"),
        ("unknown precision", ["precision=fp8"], 255, "fp8"),
    ]
    for name, props, want, named in cases:
        rc, err, _, to = r.run(["gst-launch-1.0", "videotestsrc", "num-buffers=3", "!", "hicomex", *props,
                                "!", "fakesink"], timeout=120)
        ok = (rc == want) and (named is None or named in err)
        r.record("property", name, rc, err, to, "ok" if ok else "wrong")


# ---- RTSP ----------------------------------------------------------------------

def rtsp(r):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    script = os.path.join(r.source, "pipelines/hicomex-rtsp")
    out = r.path("rtsp.jsonl")
    rc, err, _, to = r.run([script, f"rtsp://127.0.0.1:{port}/cam", "--jsonl", out, "--backoff", "0.2"],
                           timeout=90)
    ok = rc == 1 and "connection refused" in err and not os.path.exists(out)
    r.record("rtsp", "nothing listening", rc, err, to, "ok" if ok else "wrong")


CATEGORIES = {"model file": bad_models, "media": bad_media, "interrupt": interruptions,
              "write error": write_errors, "pixel format": pixel_formats, "property": properties, "rtsp": rtsp}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, help="the meson build folder")
    ap.add_argument("--source", required=True, help="the source tree (models/, pipelines/)")
    ap.add_argument("--json", help="write every case here as JSON")
    ap.add_argument("--work", help="scratch folder (default: a new temporary one, removed at the end)")
    ap.add_argument("--only", help="comma list of categories to run")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="hicomex-reliability-")
    os.makedirs(work, exist_ok=True)
    r = Runner(os.path.abspath(a.build), os.path.abspath(a.source), work)
    chosen = a.only.split(",") if a.only else list(CATEGORIES)
    try:
        for c in chosen:
            CATEGORIES[c](r)
    finally:
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{'category':14s} {'cases':>5s} {'ok':>4s} {'crash':>5s} {'hang':>4s} {'lost':>4s} {'wrong':>5s}")
    for c in chosen:
        cs = [x for x in r.cases if x["category"] == c]
        n = {v: sum(1 for x in cs if x["verdict"] == v) for v in ("ok", "crash", "hang", "lost", "wrong")}
        print(f"{c:14s} {len(cs):5d} {n['ok']:4d} {n['crash']:5d} {n['hang']:4d} {n['lost']:4d} {n['wrong']:5d}")
    bad = [x for x in r.cases if x["verdict"] != "ok"]
    print(f"total: {len(r.cases)} cases, {len(r.cases) - len(bad)} ok, {len(bad)} not ok")
    for x in bad:
        print(f"  NOT OK {x['category']} / {x['case']}: {x['verdict']} {x['detail']} | {' / '.join(x['stderr_tail'])}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(r.cases, f, indent=1)
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
