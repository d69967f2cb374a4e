"""Where the Python tests' real photos are: the same files as media_paths.h
(Debian packages' example images and face-api's group photos), for tests that
run as Python scripts. Import with the tests/support folder on sys.path."""
import os

# One frontal face (package facedetect).
GRACE_HOPPER = "/usr/share/doc/facedetect/examples/grace_hopper_512x512.jpg"
# A landscape without any face (package facedetect).
LANDSCAPE = "/usr/share/doc/facedetect/examples/640px-IceBlockNearJoekullsarlon.jpg"
# One face, turned a little (package python3-skimage).
ASTRONAUT = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"


def face_models_dir(source_root):
    """$HICOMEX_FACE_MODELS if set and not empty, else SOURCE_ROOT/face-models."""
    return os.environ.get("HICOMEX_FACE_MODELS") or os.path.join(source_root, "face-models")


def sample_photo(source_root, n):
    """face-api's group photo sampleN.jpg (N = 1..6) in the face models folder."""
    return os.path.join(face_models_dir(source_root), "samples", "sample%d.jpg" % n)
