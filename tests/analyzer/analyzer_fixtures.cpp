#include "analyzer_fixtures.h"

#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <opencv2/imgproc.hpp>

#include "../support/small_model.h"
#include "nn/weights_io.h"

namespace hicomex::test {

std::vector<float> small_model_thresholds() {
  std::vector<float> t;
  for (int i = 0; i < 12; ++i) t.push_back(0.3f + 0.03f * static_cast<float>(i));
  return t;
}

std::string write_small_model(const std::string& path) {
  if (std::filesystem::exists(path)) return path;
  // Small widths (tests/nn's small_options), paper crop size: the real
  // alignment and crop path, at a fraction of the cost.
  HicomexOptions o = test::small_test_options();
  torch::manual_seed(3);
  nn::Hicomex net(o);
  ModelInfo info;
  info.model_id = "hicomex-test-small";
  info.options = o;
  info.thresholds = small_model_thresholds();
  nn::save_hicomex(path, net, info);
  return path;
}

namespace {

// Copies rows of `src` (bytes_per_row each) into a plane with padded stride.
void copy_plane(const std::uint8_t* src, int rows, int bytes_per_row, int padding, OwnedFrame& f, int plane) {
  const int stride = bytes_per_row + padding;
  f.memory[plane].assign(static_cast<size_t>(stride) * rows, 0xEE);
  for (int y = 0; y < rows; ++y)
    std::memcpy(f.memory[plane].data() + static_cast<size_t>(y) * stride, src + static_cast<size_t>(y) * bytes_per_row,
                bytes_per_row);
  f.view.data[plane] = f.memory[plane].data();
  f.view.stride[plane] = stride;
}

}  // namespace

OwnedFrame make_frame(const cv::Mat& rgb, PixelFormat format, int padding) {
  OwnedFrame f;
  f.view.width = rgb.cols;
  f.view.height = rgb.rows;
  f.view.format = format;
  const int W = rgb.cols, H = rgb.rows;
  cv::Mat packed;
  // Channel orders: a 4-byte pixel is built by mixChannels from R, G, B and a filler.
  auto four = [&](std::initializer_list<int> order) {  // order[i] = source channel of byte i, 3 = filler
    cv::Mat filler(rgb.size(), CV_8UC1, cv::Scalar(0x7F));
    cv::Mat src[] = {rgb, filler};
    packed.create(rgb.size(), CV_8UC4);
    std::vector<int> pairs;
    int i = 0;
    for (int c : order) {
      pairs.push_back(c);
      pairs.push_back(i++);
    }
    cv::mixChannels(src, 2, &packed, 1, pairs.data(), 4);
  };
  switch (format) {
    case PixelFormat::RGB: packed = rgb.clone(); break;
    case PixelFormat::BGR: cv::cvtColor(rgb, packed, cv::COLOR_RGB2BGR); break;
    case PixelFormat::RGBA:
    case PixelFormat::RGBx: four({0, 1, 2, 3}); break;
    case PixelFormat::BGRA:
    case PixelFormat::BGRx: four({2, 1, 0, 3}); break;
    case PixelFormat::xRGB: four({3, 0, 1, 2}); break;
    case PixelFormat::xBGR: four({3, 2, 1, 0}); break;
    case PixelFormat::GRAY8: cv::cvtColor(rgb, packed, cv::COLOR_RGB2GRAY); break;
    case PixelFormat::I420:
    case PixelFormat::NV12: {
      if (W % 2 || H % 2) throw std::invalid_argument("make_frame: I420/NV12 test frames need an even size");
      cv::Mat i420;
      cv::cvtColor(rgb, i420, cv::COLOR_RGB2YUV_I420);  // BT.601 limited range
      const int cw = W / 2, ch = H / 2;
      const std::uint8_t* y = i420.data;
      const std::uint8_t* u = y + W * H;
      const std::uint8_t* v = u + cw * ch;
      copy_plane(y, H, W, padding, f, 0);
      if (format == PixelFormat::I420) {
        copy_plane(u, ch, cw, padding, f, 1);
        copy_plane(v, ch, cw, padding, f, 2);
      } else {
        std::vector<std::uint8_t> uv(static_cast<size_t>(W) * ch);
        for (int k = 0; k < cw * ch; ++k) {
          uv[2 * k] = u[k];
          uv[2 * k + 1] = v[k];
        }
        copy_plane(uv.data(), ch, W, padding, f, 1);
      }
      return f;
    }
  }
  copy_plane(packed.data, H, W * static_cast<int>(packed.elemSize()), padding, f, 0);
  return f;
}

}  // namespace hicomex::test
