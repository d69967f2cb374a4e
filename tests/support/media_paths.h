// Where the real photos and sample media of the tests are: Debian packages'
// example images and face-api's group photos in the face-models folder.
// The Python tests read the same paths from media_paths.py beside this file.
#pragma once
#include <string>
#include <vector>

namespace hicomex::test {

/// One frontal face (package facedetect).
inline const std::string kGraceHopper = "/usr/share/doc/facedetect/examples/grace_hopper_512x512.jpg";
/// A landscape without any face (package facedetect).
inline const std::string kLandscape = "/usr/share/doc/facedetect/examples/640px-IceBlockNearJoekullsarlon.jpg";
/// One face, turned a little (package python3-skimage).
inline const std::string kAstronaut = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";

/// This source tree's root folder (fixed at build time).
std::string source_root();
/// This source tree's face-models folder (fixed at build time), whatever
/// HICOMEX_FACE_MODELS says now.
std::string source_face_models_dir();
/// $HICOMEX_FACE_MODELS if set and not empty (meson sets it for every test),
/// else source_face_models_dir().
std::string face_models_dir();
/// face-api's six group photos, face_models_dir()/samples/sample1.jpg .. sample6.jpg.
std::vector<std::string> sample_photos();

}  // namespace hicomex::test
