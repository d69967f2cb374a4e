#!/usr/bin/python3
"""GstHicomexMeta from Python through GObject introspection (GstHicomex-1.0).

Runs pipelines/hicomex-meta-print.py (a pad probe reading the meta with the
introspected accessors) on real face photos and a short H.264 clip made of one,
runs the same pipeline through gst-launch-1.0 ending in
`hicomex ! hicomexexport format=jsonl`, and checks the Python side read the
same frames, faces (ids, order, boxes, landmarks), AU probabilities, presence
and intensities as the exporter wrote (JSON values are rounded: boxes and
landmarks to 0.1 px, probabilities to 1e-3, intensities to 0.01). Also checks
the accessors in-process on a hand-made meta (bounds, no intensity, present
AUs) and the example's errors. Needs Debian's python3 with python3-gi and
python3-gst-1.0. Prints one line per case and a final "N passed, N failed".
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import media_paths  # noqa: E402  (tests/support: the photos every test uses)

FACE_PHOTO = media_paths.GRACE_HOPPER
NO_FACE_PHOTO = media_paths.LANDSCAPE

BOX_TOL = 0.1       # JSON: one decimal
PROB_TOL = 1e-3     # JSON: three decimals
INT_TOL = 0.011     # JSON: two decimals


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


class Cases:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="hicomex-gi-")
        self.example = os.path.join(args.source, "pipelines", "hicomex-meta-print.py")

    # --- helpers -------------------------------------------------------------

    def run_example(self, *argv, expect_rc=0):
        p = subprocess.run([sys.executable, self.example] + list(argv), capture_output=True,
                           text=True, timeout=240)
        if expect_rc is not None:
            check(p.returncode == expect_rc,
                  f"hicomex-meta-print {' '.join(argv)}: exit {p.returncode}\n{p.stdout}{p.stderr}")
        return p

    def export(self, path, still, frames, name):
        """hicomexexport's JSON lines for the same input and pipeline."""
        out = os.path.join(self.tmp, name + ".jsonl")
        freeze = (["imagefreeze", f"num-buffers={frames}", "!", "videoconvert", "!"]
                  if still else [])
        cmd = (["gst-launch-1.0", "-q", "filesrc", f"location={path}", "!", "decodebin", "!",
                "videoconvert", "!"] + freeze +
               ["hicomex", "!", "hicomexexport", f"location={out}", "format=jsonl",
                "overwrite=true", "!", "fakesink"])
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
        check(p.returncode == 0, f"gst-launch failed ({p.returncode}): {p.stdout}{p.stderr}")
        rows = [json.loads(line) for line in open(out)] if os.path.exists(out) else []
        return rows

    def compare(self, path, frames, still, name, video_frames=None):
        """Runs the example (--json and text) and the exporter; compares them.
        frames: what the example is asked for; video_frames: frames in the
        video (the exporter sees them all)."""
        argv = ([f"--frames={frames}"] if frames else []) + ([path])
        js = self.run_example("--json", *argv)
        recs = [json.loads(line) for line in js.stdout.splitlines() if line.startswith("{")]
        want_frames = frames or video_frames
        check(len(recs) == want_frames,
              f"{len(recs)} frames read in Python, expected {want_frames}")
        check([r["frame"] for r in recs] == list(range(1, want_frames + 1)),
              f"frame numbers {[r['frame'] for r in recs]}")
        check(all(r["meta"] for r in recs), "a frame without GstHicomexMeta")

        rows = self.export(path, still, want_frames, name)
        rows = [r for r in rows if r["frame"] <= want_frames]
        by_frame = {}
        for r in rows:
            by_frame.setdefault(r["frame"], []).append(r)

        n_faces = n_present = n_aus_checked = 0
        for rec in recs:
            faces = rec["faces"]
            exp = by_frame.get(rec["frame"], [])
            check([f["face_id"] for f in faces] == [e["face_id"] for e in exp],
                  f"frame {rec['frame']}: face ids {[f['face_id'] for f in faces]} in Python, "
                  f"{[e['face_id'] for e in exp]} in the exporter's JSON")
            au_keys = ["AU%02d" % a for a in rec["au_ids"]]
            for f, e in zip(faces, exp):
                where = f"frame {rec['frame']} face {f['face_id']}"
                n_faces += 1
                for k in range(4):
                    check(abs(f["box"][k] - e["box"][k]) <= BOX_TOL,
                          f"{where}: box {f['box']} vs {e['box']}")
                check(len(f["landmarks"]) == 68 == len(e["landmarks"]), f"{where}: landmarks count")
                for (x, y), (ex, ey) in zip(f["landmarks"], e["landmarks"]):
                    check(abs(x - ex) <= BOX_TOL and abs(y - ey) <= BOX_TOL,
                          f"{where}: landmark ({x}, {y}) vs ({ex}, {ey})")
                check(f["success"] == e["success"], f"{where}: success")
                check(list(f["aus"]) == au_keys and sorted(e["aus"]) == sorted(au_keys),
                      f"{where}: AUs {list(f['aus'])} vs {list(e['aus'])}")
                present_json = [int(k[2:]) for k in au_keys if e["aus"][k]["c"] == 1]
                check(f["present"] == present_json,
                      f"{where}: present AUs {f['present']} in Python, {present_json} in the JSON")
                n_present += len(f["present"])
                for k in au_keys:
                    a, b = f["aus"][k], e["aus"][k]
                    check(abs(a["p"] - b["p"]) <= PROB_TOL, f"{where} {k}: p {a['p']} vs {b['p']}")
                    check(a["c"] == b["c"], f"{where} {k}: c {a['c']} vs {b['c']}")
                    check(("i" in a) == ("i" in b) == rec["has_intensity"],
                          f"{where} {k}: intensity present in Python {'i' in a}, in the JSON "
                          f"{'i' in b}, has_intensity {rec['has_intensity']}")
                    if "i" in b:
                        check(abs(a["i"] - b["i"]) <= INT_TOL, f"{where} {k}: i {a['i']} vs {b['i']}")
                        check(abs(a["i_raw"] - b["i_raw"]) <= INT_TOL,
                              f"{where} {k}: i_raw {a['i_raw']} vs {b['i_raw']}")
                    n_aus_checked += 1
        check(n_faces > 0, "no face found")
        check(n_faces == len(rows), f"{n_faces} faces in Python, {len(rows)} rows in the JSON")
        if any(au["c"] for r in rows for au in r["aus"].values()):
            check(n_present > 0, "no AU present in Python though the JSON has some")

        # The text output says the same (ids and present AUs per frame).
        txt = self.run_example(*argv).stdout.splitlines()
        want = []
        for rec in recs:
            if not rec["faces"]:
                want.append(f"frame {rec['frame']} no face")
            for f in rec["faces"]:
                want.append(f"frame {rec['frame']} face {f['face_id']} AUs present: "
                            + (" ".join(map(str, f["present"])) or "none"))
        check(txt == want, f"text output {txt} vs {want}")
        return (f"{len(recs)} frames, {n_faces} faces, {n_aus_checked} AU values, "
                f"{n_present} present, intensity {recs[0]['has_intensity']}")

    def clip(self, frames):
        """A short video of the face photo: H.264 in MP4 when x264enc is
        there, else Motion JPEG in AVI."""
        h264 = subprocess.run(["gst-inspect-1.0", "x264enc"], capture_output=True).returncode == 0
        path = os.path.join(self.tmp, "clip.mp4" if h264 else "clip.avi")
        enc = (["x264enc", "!", "mp4mux"] if h264 else ["jpegenc", "!", "avimux"])
        subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={FACE_PHOTO}", "!",
                        "jpegdec", "!", "videoconvert", "!", "videoscale", "!",
                        "video/x-raw,width=384,height=384", "!", "imagefreeze",
                        f"num-buffers={frames}", "!", "video/x-raw,framerate=25/1", "!",
                        "videoconvert", "!"] + enc + ["!", "filesink", f"location={path}"],
                       check=True, capture_output=True, timeout=120)
        return path

    # --- cases ---------------------------------------------------------------

    def face_photo_one_frame(self):
        return self.compare(FACE_PHOTO, None, True, "photo", video_frames=1)

    def face_photo_three_frames(self):
        return self.compare(FACE_PHOTO, 3, True, "photo3")

    def video_clip_cut_after_four_frames(self):
        return self.compare(self.clip(6), 4, False, "clip", video_frames=6)

    def group_photo_two_frames(self):
        group = media_paths.sample_photo(self.args.source, 1)
        if not os.path.exists(group):
            return "skipped: no " + group
        note = self.compare(group, 2, True, "group")
        recs = [json.loads(line) for line in
                self.run_example("--json", "--frames=1", group).stdout.splitlines()]
        check(len(recs[0]["faces"]) >= 2, "expected several faces in " + group)
        return note

    def photo_without_a_face(self):
        p = self.run_example("--json", NO_FACE_PHOTO)
        recs = [json.loads(line) for line in p.stdout.splitlines()]
        check(len(recs) == 1 and recs[0]["meta"] and recs[0]["faces"] == [],
              f"expected one frame with a meta and no face: {p.stdout}")
        check(self.run_example(NO_FACE_PHOTO).stdout.strip() == "frame 1 no face", "text output")
        return "meta with 0 faces"

    def errors_name_the_problem(self):
        missing = os.path.join(self.tmp, "no-such-photo.jpg")
        p = self.run_example(missing, expect_rc=1)
        check(missing in p.stderr, f"missing file not named: {p.stderr}")
        # Outside the source tree with no paths set: typelib not found.
        alone = os.path.join(self.tmp, "alone")
        os.makedirs(alone, exist_ok=True)
        copy = os.path.join(alone, "hicomex-meta-print.py")
        shutil.copy(self.example, copy)
        env = {k: v for k, v in os.environ.items()
               if k not in ("GI_TYPELIB_PATH", "GST_PLUGIN_PATH", "LD_LIBRARY_PATH")}
        p = subprocess.run([sys.executable, copy, FACE_PHOTO], capture_output=True, text=True,
                           env=env, timeout=60)
        check(p.returncode == 1 and "GI_TYPELIB_PATH" in p.stderr,
              f"no typelib: exit {p.returncode}, {p.stderr}")
        # Typelib and library there, plugin not: names GST_PLUGIN_PATH.
        env["GI_TYPELIB_PATH"] = os.environ["GI_TYPELIB_PATH"]
        env["LD_LIBRARY_PATH"] = os.environ["LD_LIBRARY_PATH"]
        env["GST_REGISTRY"] = os.path.join(self.tmp, "registry-no-plugin.bin")
        p = subprocess.run([sys.executable, copy, FACE_PHOTO], capture_output=True, text=True,
                           env=env, timeout=60)
        check(p.returncode == 1 and "GST_PLUGIN_PATH" in p.stderr,
              f"no plugin: exit {p.returncode}, {p.stderr}")
        return "missing file, typelib, plugin"

    def accessors_in_process(self):
        """The introspected API on hand-made metas: what Python sees."""
        import ctypes
        # LD_LIBRARY_PATH counts only from the process start: load the
        # library by path, the typelib then finds it by its soname.
        ctypes.CDLL(os.path.join(self.args.build, "gst-plugin", "libgsthicomexmeta.so.0"))
        import gi
        gi.require_version("Gst", "1.0")
        gi.require_version("GstHicomex", "1.0")
        from gi.repository import Gst, GstHicomex
        Gst.init(None)
        buf = Gst.Buffer.new()
        check(GstHicomex.buffer_get_hicomex_meta(buf) is None, "meta on an empty buffer")
        meta = GstHicomex.buffer_add_hicomex_meta_full(buf, "m-1", [1, 12, 25], True)
        check(isinstance(meta, GstHicomex.HicomexMeta), f"type {type(meta)}")
        for tid, x in ((4, 10.5), (9, 50.0)):
            face = meta.add_face()
            face.track_id = tid
            face.x = x
            face.width = 20.0
        meta = GstHicomex.buffer_get_hicomex_meta(buf)
        check(meta.model_id == "m-1" and meta.n_aus == 3 and meta.has_intensity, "scalars")
        check(meta.get_au_ids() == [1, 12, 25] and meta.au_ids == [1, 12, 25], "au ids")
        check(meta.get_n_faces() == 2 and meta.n_faces == 2, "n_faces")
        check(meta.get_face(1).track_id == 9 and meta.get_face(1).x == 50.0, "face 1")
        check(meta.get_face(2) is None, "face out of range")
        check(meta.find_au(12) == 1 and meta.find_au(7) == -1, "find_au")
        check(meta.get_au_probabilities(0) == [0.0, 0.0, 0.0], "probabilities")
        check(meta.get_au_occurrences(0) == [False, False, False], "occurrences")
        check(meta.get_present_aus(0) == [], "present AUs of a zeroed face")
        check(meta.get_au_intensities(1) == [0.0] * 3 == meta.get_au_intensities_raw(1),
              "intensities")
        check(meta.get_au_intensity(1, 12) == (True, 0.0, 0.0), "get_au_intensity")
        lm = meta.get_landmarks(0)
        check(len(lm) == 2 * GstHicomex.HICOMEX_LANDMARK_COUNT == 136, "landmarks")
        check(len(meta.get_face(0).landmarks) == 136, "landmarks field")
        for bad in (meta.get_au_probabilities(2), meta.get_au_occurrences(2),
                    meta.get_au_intensities(2), meta.get_landmarks(2), meta.get_present_aus(2)):
            check(not bad, f"out of range gave {bad}")
        check(meta.get_au_intensity(2, 12)[0] is False, "get_au_intensity out of range")
        # Occurrence-only model: no intensities.
        buf2 = Gst.Buffer.new()
        m2 = GstHicomex.buffer_add_hicomex_meta(buf2, None, [6, 12])
        m2.add_face()
        check(m2.model_id is None and not m2.has_intensity, "occurrence-only scalars")
        check(not m2.get_au_intensities(0) and not m2.get_au_intensities_raw(0),
              "intensities without an intensity head")
        check(m2.get_au_intensity(0, 12)[0] is False, "get_au_intensity without intensity")
        check(len(m2.get_au_probabilities(0)) == 2, "probabilities of occurrence-only")
        # A meta copied with its buffer keeps its faces.
        copy = buf.copy_deep()
        mc = GstHicomex.buffer_get_hicomex_meta(copy)
        check(mc.get_n_faces() == 2 and mc.get_face(0).track_id == 4, "copied meta")
        api = GstHicomex.hicomex_meta_api_get_type()
        check(api.name == "GstHicomexMetaAPI", f"API type {api}")
        return "names, bounds, no intensity, copies"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("-k", "--only", default="", help="run cases whose name contains this")
    args = ap.parse_args()
    gst_dir = os.path.join(args.build, "gst-plugin")
    for var in ("GST_PLUGIN_PATH", "GI_TYPELIB_PATH", "LD_LIBRARY_PATH"):
        os.environ.setdefault(var, gst_dir)
    os.environ.setdefault("HICOMEX_FACE_MODELS", os.path.join(args.source, "face-models"))
    os.environ["HICOMEX_BUILD_DIR"] = args.build  # the example then uses this build dir
    cases = Cases(args)
    names = [n for n in ("accessors_in_process", "face_photo_one_frame", "face_photo_three_frames",
                         "video_clip_cut_after_four_frames", "group_photo_two_frames",
                         "photo_without_a_face", "errors_name_the_problem") if args.only in n]
    passed = failed = 0
    for name in names:
        t0 = time.time()
        try:
            note = getattr(cases, name)()
            print("ok   %-36s %5.1fs  %s" % (name, time.time() - t0, note), flush=True)
            passed += 1
        except Exception as e:  # noqa: BLE001 - report every case
            print("FAIL %-36s %5.1fs  %s" % (name, time.time() - t0, e), flush=True)
            traceback.print_exc()
            failed += 1
    shutil.rmtree(cases.tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if passed and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
