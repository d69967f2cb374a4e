// State shared by the parts of the face renderer (internal header).
#pragma once
#include <vector>

#include <opencv2/core.hpp>

#include "appearance.h"
#include "au_model.h"
#include "face_renderer.h"

namespace hicomex::synth {

/// Everything the drawing steps need, in the coordinates of a region of
/// interest (ROI) of the supersampled canvas.
struct RenderContext {
  cv::Rect roi;                    ///< region of the canvas being drawn
  std::vector<cv::Point3f> model;  ///< deformed model vertices (model units)
  std::vector<cv::Point3f> image;  ///< projected vertices, ROI pixels; z in pixels
  float unit = 1.f;                ///< ROI pixels per model unit
  const Appearance* look = nullptr;
  const AuIntensities* aus = nullptr;
  const Lighting* light = nullptr;
  Pose canvas_pose;  ///< the pose in supersampled canvas pixels
  cv::Point2f gaze{0.f, 0.f};
  int supersample = 1;

  cv::Point2f pt(int i) const { return {image[i].x, image[i].y}; }
  std::vector<cv::Point2f> pts(std::initializer_list<int> ids) const {
    std::vector<cv::Point2f> out;
    for (int i : ids) out.push_back(pt(i));
    return out;
  }
  /// Projects an extra model-space point (e.g. an ear centre) into ROI pixels.
  cv::Point2f project(const cv::Point3f& m) const;
  float intensity(int au) const { return au_intensity(*aus, au) / 5.f; }
  /// Image direction of the face's "up" (from chin to brow), unit length.
  cv::Point2f up() const;
  cv::Point2f right() const;
};

// Drawing steps, each onto the face albedo (ROI-sized) unless said otherwise.
void draw_brows(const RenderContext& c, cv::Mat3f& albedo);
void draw_eyes(const RenderContext& c, cv::Mat3f& albedo);
void draw_nose(const RenderContext& c, cv::Mat3f& albedo);
void draw_mouth(const RenderContext& c, cv::Mat3f& albedo);
/// Wrinkles, folds and furrows from the AUs and from age: darkens `albedo`.
void draw_creases(const RenderContext& c, cv::Mat3f& albedo);
void draw_facial_hair(const RenderContext& c, cv::Mat3f& albedo);
// Onto the canvas ROI directly:
void draw_body(const RenderContext& c, cv::Mat3f& canvas);
void draw_back_hair(const RenderContext& c, cv::Mat3f& canvas);
void draw_ears(const RenderContext& c, cv::Mat3f& canvas);
void draw_front_hair(const RenderContext& c, cv::Mat3f& canvas, const cv::Mat1f& face_mask);

}  // namespace hicomex::synth
