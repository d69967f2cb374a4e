// BlazeFace through OpenCV DNN: letterbox to the square input, run the ONNX
// net, decode the anchors and map the faces back to image pixels.
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <stdexcept>

#include "face/blazeface_decode.h"
#include "face/detectors.h"
#include "hicomex/errors.h"
#include "hicomex/model_paths.h"

namespace hicomex {
namespace {

class BlazeFaceDetector final : public FaceDetector {
 public:
  BlazeFaceDetector(BlazeFaceModel model, const FaceDetectorOptions& options)
      : options_(options),
        name_(model == BlazeFaceModel::Front128 ? "blazeface" : "blazeface-back"),
        input_size_(model == BlazeFaceModel::Front128 ? 128 : 256),
        anchors_(blazeface::make_anchors()) {
    path_ = options.model_path.empty()
                ? face_model_path(model == BlazeFaceModel::Front128 ? "face_detection_front_128x128_barracuda.onnx"
                                                                    : "face_detection_back_256x256_barracuda.onnx")
                : options.model_path;
    std::error_code ec;
    if (!std::filesystem::exists(path_, ec))
      throw ModelFileError(ModelFileError::Kind::NotFound, path_, "BlazeFace model not found: " + path_);
    try {
      net_ = cv::dnn::readNetFromONNX(path_);
    } catch (const cv::Exception& e) {
      throw ModelFileError(ModelFileError::Kind::Corrupt, path_,
                           "cannot load BlazeFace model " + path_ + ": " + e.what());
    }
    if (net_.empty())
      throw ModelFileError(ModelFileError::Kind::Corrupt, path_,
                           "cannot load BlazeFace model " + path_ + ": empty network");
    out_names_ = net_.getUnconnectedOutLayersNames();
    // One forward pass now, so a model with the wrong layout fails at load
    // time with its path rather than on the first frame.
    run(cv::Mat(input_size_, input_size_, CV_8UC3, cv::Scalar::all(0)));
  }

  std::string name() const override { return name_; }

  std::vector<Detection> detect(const cv::Mat& rgb) override {
    check_rgb_input(rgb, "BlazeFace detect");
    // Letterbox: scale the long side to the input size, centre, pad black
    // (MediaPipe's keep_aspect_ratio), so faces keep their proportions.
    const double scale = double(input_size_) / std::max(rgb.cols, rgb.rows);
    const int w = std::max(1, int(std::lround(rgb.cols * scale)));
    const int h = std::max(1, int(std::lround(rgb.rows * scale)));
    const int pad_x = (input_size_ - w) / 2;
    const int pad_y = (input_size_ - h) / 2;
    cv::Mat square(input_size_, input_size_, CV_8UC3, cv::Scalar::all(0));
    cv::resize(rgb, square(cv::Rect(pad_x, pad_y, w, h)), cv::Size(w, h), 0, 0,
               scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);

    std::vector<Detection> faces = run(square);
    const float sx = float(w) / rgb.cols, sy = float(h) / rgb.rows;
    for (auto& f : faces) {
      f.box = {(f.box.x - pad_x) / sx, (f.box.y - pad_y) / sy, f.box.width / sx, f.box.height / sy};
      for (auto& k : f.keypoints) k = {(k.x - pad_x) / sx, (k.y - pad_y) / sy};
    }
    apply_size_and_count_limits(faces, options_);
    return faces;
  }

 private:
  // Runs the net on a square RGB image of the input size; detections in input pixels.
  std::vector<Detection> run(const cv::Mat& square) {
    cv::Mat input;
    square.convertTo(input, CV_32FC3, 1.0 / 127.5, -1.0);  // [-1, 1]
    // The interleaved HxWx3 float image is exactly the NHWC tensor the model wants.
    const int shape[4] = {1, input_size_, input_size_, 3};
    net_.setInput(cv::Mat(4, shape, CV_32F, input.data));
    std::vector<cv::Mat> outs;
    net_.forward(outs, out_names_);

    // Outputs: scores (1,512,1), (1,384,1), regressors (1,512,16), (1,384,16);
    // pick them by shape, not by name or order.
    const cv::Mat* s[2] = {nullptr, nullptr};
    const cv::Mat* r[2] = {nullptr, nullptr};
    for (const auto& o : outs) {
      const int n = o.dims >= 2 ? o.size[1] : 0;
      const int c = o.dims >= 3 ? o.size[2] : 1;
      const int slot = n == 512 ? 0 : n == 384 ? 1 : -1;
      if (slot < 0 || o.type() != CV_32F) continue;
      if (c == 1) s[slot] = &o;
      if (c == blazeface::kRegressorSize) r[slot] = &o;
    }
    if (!s[0] || !s[1] || !r[0] || !r[1]) {
      throw ModelFileError(ModelFileError::Kind::Corrupt, path_,
                           "BlazeFace model " + path_ +
                               " has unexpected outputs (want scores 1x512x1, 1x384x1 and "
                               "regressors 1x512x16, 1x384x16)");
    }
    scores_.resize(blazeface::kAnchorCount);
    regressors_.resize(blazeface::kAnchorCount * blazeface::kRegressorSize);
    std::copy_n(s[0]->ptr<float>(), 512, scores_.begin());
    std::copy_n(s[1]->ptr<float>(), 384, scores_.begin() + 512);
    std::copy_n(r[0]->ptr<float>(), 512 * 16, regressors_.begin());
    std::copy_n(r[1]->ptr<float>(), 384 * 16, regressors_.begin() + 512 * 16);
    auto faces = blazeface::decode(scores_.data(), regressors_.data(), anchors_, input_size_, options_.score_threshold);
    return blazeface::weighted_blend(std::move(faces), options_.nms_iou);
  }

  FaceDetectorOptions options_;
  std::string name_;
  int input_size_;
  std::vector<blazeface::Anchor> anchors_;
  std::string path_;
  cv::dnn::Net net_;
  std::vector<std::string> out_names_;
  std::vector<float> scores_, regressors_;
};

}  // namespace

std::unique_ptr<FaceDetector> make_blazeface_detector(BlazeFaceModel model, const FaceDetectorOptions& options) {
  return std::make_unique<BlazeFaceDetector>(model, options);
}

}  // namespace hicomex
