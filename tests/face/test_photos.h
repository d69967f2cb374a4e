// Real photos the face tests run on (Debian packages and face-api's demo folder).
#pragma once
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace hicomex::test {

inline const std::string kGraceHopper = "/usr/share/doc/facedetect/examples/grace_hopper_512x512.jpg";
inline const std::string kLandscape = "/usr/share/doc/facedetect/examples/640px-IceBlockNearJoekullsarlon.jpg";
inline const std::string kAstronaut = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";
/// face-api's group photos, in face_models_dir()/samples.
std::vector<std::string> sample_photos();

/// Loads a photo as RGB; fails the test (throws) if it is missing.
cv::Mat load_rgb(const std::string& path);

}  // namespace hicomex::test
