#!/usr/bin/python3
"""hicomex-meta-print: reads the faces and action units the hicomex analyzer
attaches to each frame (GstHicomexMeta) from Python, through GObject
introspection (the GstHicomex typelib), in a pad probe on the analyzer's src
pad. Prints one line per face per frame:

    frame 1 face 0 AUs present: 6 12 25

or, with --json, one JSON object per frame (frames without faces too).

    filesrc ! decodebin ! videoconvert [! imagefreeze num-buffers=N] ! hicomex ! fakesink

Needs Debian's Python with PyGObject (python3-gi, python3-gst-1.0), hence
/usr/bin/python3 rather than the first python3 on PATH. From the source tree
it uses the build tree ($HICOMEX_BUILD_DIR, default build/): its typelib, its
metadata library and its plugin. Installed, it looks beside its prefix, else
GI_TYPELIB_PATH and GST_PLUGIN_PATH must name where they are.
"""
import argparse
import ctypes
import glob
import json
import mimetypes
import os
import sys

NAME = os.path.basename(sys.argv[0]) or "hicomex-meta-print.py"
TYPELIB = "GstHicomex-1.0.typelib"
META_LIB = "libgsthicomexmeta.so.0"
STILL_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pnm",
                  ".ppm", ".pgm")


def die(msg, rc=1):
    print(f"{NAME}: {msg}", file=sys.stderr)
    sys.exit(rc)


def prepend_env(var, path):
    old = os.environ.get(var)
    parts = old.split(os.pathsep) if old else []
    if path not in parts:
        os.environ[var] = os.pathsep.join([path] + parts)


def find_our_files():
    """Points GI_TYPELIB_PATH, GST_PLUGIN_PATH and LD_LIBRARY_PATH at the build
    tree (source tree) or at the installed files (prefix of this script), and
    loads the metadata library by its full path. The typelib names the library
    by its soname only (libgsthicomexmeta.so.0) and the dynamic loader reads
    LD_LIBRARY_PATH only when a process starts; a library already loaded
    under that soname is reused, so loading it here first is enough."""
    here = os.path.dirname(os.path.realpath(__file__))
    root = os.path.dirname(here)
    typelib_dir = plugin_dir = None
    if os.path.isfile(os.path.join(root, "meson.build")) and os.path.isdir(os.path.join(root, "gst-plugin")):
        build = os.environ.get("HICOMEX_BUILD_DIR") or os.path.join(root, "build")
        if not os.path.isabs(build):
            build = os.path.join(root, build)
        gst_dir = os.path.join(build, "gst-plugin")
        if os.path.isfile(os.path.join(gst_dir, TYPELIB)):
            typelib_dir = gst_dir
        if os.path.isfile(os.path.join(gst_dir, "libgsthicomex.so")):
            plugin_dir = gst_dir
    else:  # installed: PREFIX/bin/this, PREFIX/lib[/<multiarch>]/...
        for d in sorted(glob.glob(os.path.join(root, "lib*", "girepository-1.0")) +
                        glob.glob(os.path.join(root, "lib*", "*", "girepository-1.0"))):
            if os.path.isfile(os.path.join(d, TYPELIB)):
                typelib_dir = d
                break
        for d in sorted(glob.glob(os.path.join(root, "lib*", "gstreamer-1.0")) +
                        glob.glob(os.path.join(root, "lib*", "*", "gstreamer-1.0"))):
            if os.path.isfile(os.path.join(d, "libgsthicomex.so")):
                plugin_dir = d
                break
    if typelib_dir:
        prepend_env("GI_TYPELIB_PATH", typelib_dir)
        lib_dir = typelib_dir if typelib_dir.endswith("gst-plugin") else os.path.dirname(typelib_dir)
        lib = os.path.join(lib_dir, META_LIB)
        if os.path.isfile(lib):
            prepend_env("LD_LIBRARY_PATH", lib_dir)  # for child processes
            ctypes.CDLL(lib)
    if plugin_dir:
        prepend_env("GST_PLUGIN_PATH", plugin_dir)


def parse_args():
    p = argparse.ArgumentParser(
        prog=NAME, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Runs the hicomex analyzer on an image or video file and prints, per frame,\n"
                    "each face's id and present action units, read from the GstHicomexMeta of\n"
                    "the buffers in a Python pad probe (GObject introspection: GstHicomex-1.0).",
        epilog="example:\n  %(prog)s --frames 3 /usr/share/doc/facedetect/examples/grace_hopper_512x512.jpg\n"
               "  frame 1 face 0 AUs present: 9 10 17 24\n  ...")
    p.add_argument("input", help="image (JPEG, PNG, ...) or video file")
    p.add_argument("--frames", type=int, metavar="N",
                   help="a still image is analysed as N frames (imagefreeze; default 1); "
                        "a video stops after N frames (default: all)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object per frame instead: frame, model, au_ids, has_intensity "
                        "and per face face_id, box [x,y,w,h], confidence, success, pose, landmarks, "
                        "present AUs and aus {\"AU12\": {p, c, i, i_raw}} (i, i_raw with an "
                        "intensity model only)")
    p.add_argument("--still", action="store_true",
                   help="treat the input as a still image whatever its name")
    p.add_argument("-p", "--property", action="append", default=[], metavar="NAME=VALUE",
                   help="set a property of the hicomex element (e.g. -p model=weights.safetensors); "
                        "repeatable")
    args = p.parse_args()
    if args.frames is not None and args.frames < 1:
        p.error("--frames must be at least 1")
    return args


def is_still(path):
    kind, _ = mimetypes.guess_type(path)
    return (kind or "").startswith("image/") or path.lower().endswith(STILL_SUFFIXES)


def face_record(meta, index):
    """One face as a dict, every value read through the introspected API."""
    face = meta.get_face(index)
    au_ids = meta.get_au_ids()
    probs = meta.get_au_probabilities(index)
    occ = meta.get_au_occurrences(index)
    intens = meta.get_au_intensities(index) if meta.has_intensity else []
    raws = meta.get_au_intensities_raw(index) if meta.has_intensity else []
    lm = meta.get_landmarks(index)
    aus = {}
    for k, au in enumerate(au_ids):
        rec = {"p": probs[k], "c": int(occ[k])}
        if intens:
            rec["i"] = intens[k]
            rec["i_raw"] = raws[k]
        aus["AU%02d" % au] = rec
    return {
        "face_id": face.track_id,
        "box": [face.x, face.y, face.width, face.height],
        "confidence": face.confidence,
        "detection_score": face.detection_score,
        "success": bool(face.success),
        "pose": {"pitch": face.pitch, "yaw": face.yaw, "roll": face.roll,
                 "tx": face.tx, "ty": face.ty, "tz": face.tz},
        "landmarks": [[lm[2 * i], lm[2 * i + 1]] for i in range(len(lm) // 2)],
        "present": list(meta.get_present_aus(index)),
        "aus": aus,
    }


def main():
    args = parse_args()
    if not os.path.exists(args.input):
        die(f"no such file: {args.input}")
    if not os.path.isfile(args.input) or not os.access(args.input, os.R_OK):
        die(f"cannot read {args.input}")

    find_our_files()
    try:
        import gi
    except ImportError:
        die(f"PyGObject is missing for {sys.executable}: run with /usr/bin/python3 "
            "(Debian: apt-get install python3-gi python3-gst-1.0)")
    try:
        gi.require_version("Gst", "1.0")
        gi.require_version("GstHicomex", "1.0")
        from gi.repository import GLib, Gst, GstHicomex
    except (ValueError, ImportError) as e:
        die(f"cannot load the GstHicomex introspection data ({e}): set GI_TYPELIB_PATH to the "
            f"folder holding {TYPELIB} (and LD_LIBRARY_PATH to the one holding {META_LIB}), e.g. "
            "build/gst-plugin, or run this script from the source tree after building it "
            "(scripts/setup.sh; HICOMEX_BUILD_DIR names another build dir)")

    Gst.init(None)
    try:  # the typelib loads the library on first use
        GstHicomex.hicomex_meta_api_get_type()
    except GLib.Error as e:
        die(f"cannot load the metadata library ({e.message}): set LD_LIBRARY_PATH to the folder "
            f"holding {META_LIB} (e.g. build/gst-plugin) before starting Python, or run this script "
            "from the source tree after building it")
    if Gst.ElementFactory.find("hicomex") is None:
        die("the GStreamer plugin 'hicomex' is not found: set GST_PLUGIN_PATH to the folder holding "
            "libgsthicomex.so (e.g. build/gst-plugin), or run this script from the source tree after "
            "building it (scripts/setup.sh)")

    still = args.still or is_still(args.input)
    if still:
        tail = f"imagefreeze num-buffers={args.frames or 1} ! videoconvert ! "
    else:
        tail = ""  # a video is cut after --frames in the probe
    limit = None if still else args.frames
    desc = f"filesrc name=src ! decodebin ! videoconvert ! {tail}hicomex name=hx ! fakesink"
    try:
        pipeline = Gst.parse_launch(desc)
    except GLib.Error as e:
        die(f"cannot build the pipeline '{desc}': {e.message}")
    pipeline.get_by_name("src").set_property("location", args.input)
    hx = pipeline.get_by_name("hx")
    for prop in args.property:
        name, sep, value = prop.partition("=")
        if not sep or hx.find_property(name) is None:
            die(f"-p {prop}: not a NAME=VALUE of a hicomex property (gst-inspect-1.0 hicomex)")
        Gst.util_set_object_arg(hx, name, value)

    frame = 0
    failure = None

    def stop():
        pipeline.post_message(Gst.Message.new_application(
            pipeline, Gst.Structure.new_empty("hicomex-meta-print-done")))

    def on_buffer(pad, info):
        nonlocal failure
        try:
            return read_buffer(info.get_buffer())
        except Exception as e:  # noqa: BLE001 - stop with the reason, not mid-stream
            if failure is None:
                failure = f"{type(e).__name__}: {e}"
                stop()
            return Gst.PadProbeReturn.DROP

    def read_buffer(buf):
        nonlocal frame
        if limit is not None and frame >= limit:
            return Gst.PadProbeReturn.DROP
        frame += 1  # every buffer counts, as hicomexexport's frame numbers
        meta = GstHicomex.buffer_get_hicomex_meta(buf)
        n_faces = meta.get_n_faces() if meta else 0
        if args.json:
            rec = {"frame": frame, "pts": buf.pts if buf.pts != Gst.CLOCK_TIME_NONE else None,
                   "meta": meta is not None}
            if meta:
                rec.update(model=meta.model_id, au_ids=list(meta.get_au_ids()),
                           has_intensity=bool(meta.has_intensity),
                           faces=[face_record(meta, i) for i in range(n_faces)])
            print(json.dumps(rec), flush=True)
        elif n_faces == 0:
            print(f"frame {frame} no face" if meta else f"frame {frame} no analysis", flush=True)
        else:
            for i in range(n_faces):
                present = " ".join(str(au) for au in meta.get_present_aus(i)) or "none"
                print(f"frame {frame} face {meta.get_face(i).track_id} AUs present: {present}",
                      flush=True)
        if limit is not None and frame == limit:
            stop()
        return Gst.PadProbeReturn.OK

    hx.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, on_buffer)

    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)  # a failure posts an error on the bus
    rc = 0
    msg = bus.timed_pop_filtered(Gst.CLOCK_TIME_NONE, Gst.MessageType.EOS |
                                 Gst.MessageType.ERROR | Gst.MessageType.APPLICATION)
    if msg.type == Gst.MessageType.ERROR:
        err, dbg = msg.parse_error()
        print(f"{NAME}: {args.input}: error from {msg.src.get_name()}: {err.message}",
              file=sys.stderr)
        if dbg:
            print(f"  ({dbg})", file=sys.stderr)
        rc = 1
    pipeline.set_state(Gst.State.NULL)
    if failure:
        print(f"{NAME}: reading the metadata failed: {failure}", file=sys.stderr)
        rc = 1
    elif rc == 0 and frame == 0:
        print(f"{NAME}: no frame reached the analyzer", file=sys.stderr)
        rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
