#include "dlib_reference.h"

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv.h>

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <fstream>
#include <stdexcept>

namespace hicomex::test {

struct DlibReference::Impl {
  dlib::frontal_face_detector detector = dlib::get_frontal_face_detector();
  dlib::shape_predictor predictor;
};

DlibReference::DlibReference() : impl_(std::make_unique<Impl>()) {
  if (!std::ifstream(kDlibPredictor).good()) {
    throw std::runtime_error("dlib shape predictor missing: " + kDlibPredictor + " (apt install libdlib-data)");
  }
  dlib::deserialize(kDlibPredictor) >> impl_->predictor;
}

DlibReference::~DlibReference() = default;

std::vector<DlibFace> DlibReference::faces(const cv::Mat& rgb) {
  // dlib's HOG detector is slow on large photos and finds faces from ~80 px:
  // detect on a half-size copy when the photo is large, predict at full size.
  const double f = std::max(rgb.cols, rgb.rows) > 1000 ? 0.5 : 1.0;
  cv::Mat bgr, small;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  cv::resize(bgr, small, cv::Size(), f, f, cv::INTER_AREA);
  dlib::cv_image<dlib::bgr_pixel> small_img(small), img(bgr);
  std::vector<DlibFace> out;
  for (const auto& r : impl_->detector(small_img)) {
    const dlib::rectangle full(std::lround(r.left() / f), std::lround(r.top() / f), std::lround(r.right() / f),
                               std::lround(r.bottom() / f));
    const dlib::full_object_detection shape = impl_->predictor(img, full);
    DlibFace face;
    face.box = {float(full.left()), float(full.top()), float(full.width()), float(full.height())};
    for (int k = 0; k < 68; ++k) face.points[k] = {float(shape.part(k).x()), float(shape.part(k).y())};
    out.push_back(face);
  }
  return out;
}

double normalised_mean_error(const Landmarks68& points, const Landmarks68& reference, bool with_jaw) {
  const double iod = std::hypot(reference[36].x - reference[45].x, reference[36].y - reference[45].y);
  double sum = 0;
  const int first = with_jaw ? 0 : 17;
  for (int k = first; k < 68; ++k) sum += std::hypot(points[k].x - reference[k].x, points[k].y - reference[k].y);
  return sum / (68 - first) / iod;
}

}  // namespace hicomex::test
