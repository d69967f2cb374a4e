#include "overlay_painter.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "hicomex/au_catalog.h"

namespace hicomex::gst {
namespace {

struct Rgb {
  double r, g, b;
};

const Rgb kPalette[] = {{255, 64, 64}, {64, 200, 255}, {255, 200, 0},  {200, 80, 255},
                        {0, 230, 120}, {255, 128, 0},  {255, 90, 200}, {160, 255, 60}};
const Rgb kBacking{16, 16, 16};
const Rgb kText{255, 255, 255};
const Rgb kBarOn{60, 220, 90};
const Rgb kBarOff{150, 150, 150};
constexpr double kBackingAlpha = 0.7;

Rgb track_colour(int track_id) {
  const int n = sizeof kPalette / sizeof kPalette[0];
  return kPalette[((track_id % n) + n) % n];
}

// One plane of the frame as a cv::Mat header, with its subsampling and the
// function that turns an RGB colour into this plane's channel values.
struct Plane {
  cv::Mat mat;
  double sx = 1.0, sy = 1.0;
  enum Kind { Packed, Luma, ChromaU, ChromaV, ChromaUV } kind = Packed;
};

// Draws primitives given in frame pixels on every plane, scaled per plane, so
// luma and chroma stay aligned. An optional clip rectangle (frame pixels)
// confines drawing.
class Canvas {
 public:
  explicit Canvas(GstVideoFrame* frame) {
    const GstVideoInfo* info = &frame->info;
    width_ = GST_VIDEO_INFO_WIDTH(info);
    height_ = GST_VIDEO_INFO_HEIGHT(info);
    clip_ = cv::Rect(0, 0, width_, height_);
    const GstVideoFormat fmt = GST_VIDEO_INFO_FORMAT(info);
    auto plane = [&](int p, int comp, int type, Plane::Kind kind) {
      Plane pl;
      const int w = GST_VIDEO_FRAME_COMP_WIDTH(frame, comp);
      const int h = GST_VIDEO_FRAME_COMP_HEIGHT(frame, comp);
      pl.mat = cv::Mat(h, w, type, GST_VIDEO_FRAME_PLANE_DATA(frame, p), GST_VIDEO_FRAME_PLANE_STRIDE(frame, p));
      pl.sx = static_cast<double>(w) / width_;
      pl.sy = static_cast<double>(h) / height_;
      pl.kind = kind;
      planes_.push_back(pl);
    };
    if (fmt == GST_VIDEO_FORMAT_I420) {
      plane(0, 0, CV_8UC1, Plane::Luma);
      plane(1, 1, CV_8UC1, Plane::ChromaU);
      plane(2, 2, CV_8UC1, Plane::ChromaV);
    } else if (fmt == GST_VIDEO_FORMAT_NV12) {
      plane(0, 0, CV_8UC1, Plane::Luma);
      plane(1, 1, CV_8UC2, Plane::ChromaUV);
    } else if (fmt == GST_VIDEO_FORMAT_GRAY8) {
      plane(0, 0, CV_8UC1, Plane::Luma);
    } else {
      const int pstride = GST_VIDEO_FRAME_COMP_PSTRIDE(frame, 0);
      plane(0, 0, pstride == 4 ? CV_8UC4 : CV_8UC3, Plane::Packed);
      // Byte offset of each colour in a pixel; the 4th byte (alpha or x) gets 255.
      off_r_ = GST_VIDEO_FRAME_COMP_POFFSET(frame, GST_VIDEO_COMP_R);
      off_g_ = GST_VIDEO_FRAME_COMP_POFFSET(frame, GST_VIDEO_COMP_G);
      off_b_ = GST_VIDEO_FRAME_COMP_POFFSET(frame, GST_VIDEO_COMP_B);
    }
    if (GST_VIDEO_INFO_IS_YUV(info)) {
      gst_video_color_matrix_get_Kr_Kb(info->colorimetry.matrix, &kr_, &kb_);
      full_range_ = info->colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
    }
  }

  int width() const { return width_; }
  int height() const { return height_; }
  void set_clip(const cv::Rect& r) { clip_ = r & cv::Rect(0, 0, width_, height_); }
  void reset_clip() { clip_ = cv::Rect(0, 0, width_, height_); }

  void rect(const cv::Rect& r, Rgb c, int thickness) {
    each(
        [&](cv::Mat& m, const Plane& p, const cv::Scalar& s, cv::Point2d o) {
          cv::rectangle(m, at(p, o, r.tl()), at(p, o, r.br()), s,
                        thickness < 0 ? cv::FILLED : std::max(1, (int)std::lround(thickness * p.sx)), cv::LINE_8);
        },
        c);
  }

  // Darkens a rectangle so text on it reads on any background.
  void backing(const cv::Rect& r) {
    each(
        [&](cv::Mat& m, const Plane& p, const cv::Scalar& s, cv::Point2d o) {
          cv::Rect pr(at(p, o, r.tl()), at(p, o, r.br()));
          pr &= cv::Rect(0, 0, m.cols, m.rows);
          if (pr.empty()) return;
          cv::Mat roi = m(pr);
          cv::addWeighted(roi, 1.0 - kBackingAlpha, cv::Mat(roi.size(), roi.type(), s), kBackingAlpha, 0.0, roi);
        },
        kBacking);
  }

  void dot(cv::Point2f centre, int radius, Rgb c) {
    each(
        [&](cv::Mat& m, const Plane& p, const cv::Scalar& s, cv::Point2d o) {
          cv::circle(m, at(p, o, centre), std::max(0, (int)std::lround(radius * p.sx)), s, cv::FILLED, cv::LINE_8);
        },
        c);
  }

  // `origin` is the bottom-left of the text, as in cv::putText.
  void text(const std::string& s, cv::Point origin, double scale, int thickness, Rgb c) {
    each(
        [&](cv::Mat& m, const Plane& p, const cv::Scalar& col, cv::Point2d o) {
          cv::putText(m, s, at(p, o, origin), cv::FONT_HERSHEY_SIMPLEX, scale * p.sy, col,
                      std::max(1, (int)std::lround(thickness * p.sy)), cv::LINE_AA);
        },
        c);
  }

 private:
  static cv::Point at(const Plane& p, cv::Point2d origin, cv::Point2f pt) {
    return {(int)std::lround(pt.x * p.sx - origin.x), (int)std::lround(pt.y * p.sy - origin.y)};
  }

  cv::Scalar colour(const Plane& p, Rgb c) const {
    if (p.kind == Plane::Packed) {
      cv::Scalar s(255, 255, 255, 255);
      s[off_r_] = c.r;
      s[off_g_] = c.g;
      s[off_b_] = c.b;
      return s;
    }
    // R'G'B' -> Y'CbCr with the frame's own matrix and range.
    const double y = kr_ * c.r + (1 - kr_ - kb_) * c.g + kb_ * c.b;
    const double pb = (c.b - y) / (2 * (1 - kb_));
    const double pr = (c.r - y) / (2 * (1 - kr_));
    const double Y = full_range_ ? y : 16 + y * 219.0 / 255.0;
    const double U = 128 + (full_range_ ? pb : pb * 224.0 / 255.0);
    const double V = 128 + (full_range_ ? pr : pr * 224.0 / 255.0);
    switch (p.kind) {
      case Plane::Luma: return cv::Scalar(Y);
      case Plane::ChromaU: return cv::Scalar(U);
      case Plane::ChromaV: return cv::Scalar(V);
      default: return cv::Scalar(U, V);
    }
  }

  // Runs `draw` on each plane's clipped sub-image, with the clip origin (in
  // plane pixels) to subtract from coordinates.
  template <typename F>
  void each(F draw, Rgb c) {
    if (clip_.empty()) return;
    for (Plane& p : planes_) {
      const int x0 = (int)std::floor(clip_.x * p.sx), y0 = (int)std::floor(clip_.y * p.sy);
      const int x1 = (int)std::ceil(clip_.br().x * p.sx), y1 = (int)std::ceil(clip_.br().y * p.sy);
      cv::Rect pr = cv::Rect(x0, y0, x1 - x0, y1 - y0) & cv::Rect(0, 0, p.mat.cols, p.mat.rows);
      if (pr.empty()) continue;
      cv::Mat sub = p.mat(pr);
      draw(sub, p, colour(p, c), cv::Point2d(pr.x, pr.y));
    }
  }

  int width_ = 0, height_ = 0;
  std::vector<Plane> planes_;
  cv::Rect clip_;
  int off_r_ = 0, off_g_ = 1, off_b_ = 2;
  double kr_ = 0.299, kb_ = 0.114;
  bool full_range_ = false;
};

std::string au_name(int id) { return is_known_au(id) ? au_info(id).name : ""; }

// Text size and stroke grow with the frame so labels read at any resolution.
struct Typography {
  double scale;
  int thickness;
  int line_height;
  int pad;
};

Typography typography(int frame_height) {
  Typography t;
  t.scale = std::clamp(frame_height / 900.0, 0.35, 3.0);
  t.thickness = std::max(1, (int)std::lround(t.scale * 1.5));
  int baseline = 0;
  const cv::Size s = cv::getTextSize("Ag", cv::FONT_HERSHEY_SIMPLEX, t.scale, t.thickness, &baseline);
  t.pad = std::max(2, s.height / 4);
  t.line_height = s.height + baseline + t.pad;
  return t;
}

cv::Rect box_rect(const GstHicomexFace& f) {
  const int x0 = (int)std::floor(f.x), y0 = (int)std::floor(f.y);
  const int x1 = (int)std::ceil(f.x + f.width), y1 = (int)std::ceil(f.y + f.height);
  return {x0, y0, std::max(0, x1 - x0), std::max(0, y1 - y0)};
}

// Box and track id, both confined to the box.
void draw_box(Canvas& c, const GstHicomexFace& f, const Typography& t) {
  const cv::Rect r = box_rect(f);
  if (r.empty()) return;
  const Rgb col = track_colour(f.track_id);
  const int th = std::max(1, (int)std::lround(c.height() / 360.0));
  c.set_clip(r);
  // Centred on the edge with double width, so the visible half lies inside.
  c.rect(cv::Rect(r.x, r.y, r.width - 1, r.height - 1), col, 2 * th);
  const std::string id = "#" + std::to_string(f.track_id);
  int baseline = 0;
  const cv::Size ts = cv::getTextSize(id, cv::FONT_HERSHEY_SIMPLEX, t.scale, t.thickness, &baseline);
  const cv::Rect label(r.x + th, r.y + th, ts.width + 2 * t.pad, t.line_height);
  c.rect(label, col, -1);
  c.text(id, {label.x + t.pad, label.y + ts.height + t.pad / 2}, t.scale, t.thickness, kBacking);
  c.reset_clip();
}

void draw_landmarks(Canvas& c, const GstHicomexFace& f) {
  const int radius = std::max(1, (int)std::lround(c.height() / 400.0));
  const Rgb col = track_colour(f.track_id);
  for (int i = 0; i < GST_HICOMEX_LANDMARK_COUNT; ++i) c.dot({f.landmarks[2 * i], f.landmarks[2 * i + 1]}, radius, col);
}

// Whether the face carries intensities (a model with an intensity head).
bool has_intensity(const GstHicomexMeta& meta, const GstHicomexFace& f) {
  return meta.has_intensity && f.au_intensity != nullptr;
}

// Active AUs listed near the box (place_beside: right, left, below, above), on
// a dark backing, with their intensity ("2.3/5") or, for a model without
// intensity, their probability ("0.91").
void draw_labels(Canvas& c, const GstHicomexMeta& meta, const GstHicomexFace& f, const Typography& t,
                 double min_probability, std::vector<PixelRect>& taken) {
  std::vector<std::string> lines;
  const bool intensity = has_intensity(meta, f);
  for (guint a = 0; a < meta.n_aus; ++a) {
    if (!f.au_occurrence[a] || f.au_probability[a] < min_probability) continue;
    char head[32];
    std::snprintf(head, sizeof head, "AU%02d ", meta.au_ids[a]);
    char value[24];
    if (intensity)
      std::snprintf(value, sizeof value, " %.1f/5", f.au_intensity[a]);
    else
      std::snprintf(value, sizeof value, " %.2f", f.au_probability[a]);
    lines.push_back(head + au_name(meta.au_ids[a]) + value);
  }
  if (lines.empty()) return;
  int width = 0;
  for (const std::string& l : lines) {
    int baseline = 0;
    width = std::max(width, cv::getTextSize(l, cv::FONT_HERSHEY_SIMPLEX, t.scale, t.thickness, &baseline).width);
  }
  const cv::Rect r = box_rect(f);
  const int block_w = width + 2 * t.pad;
  const int block_h = (int)lines.size() * t.line_height + t.pad;
  int x, y;
  PixelRect placed;
  if (place_beside({r.x, r.y, r.width, r.height}, block_w, block_h, c.width(), c.height(), taken, t.pad, placed)) {
    x = placed.x;
    y = placed.y;
  } else {
    // No free room on either side: the old placement, beside the box or over it.
    x = r.br().x + t.pad;
    if (x + block_w > c.width()) x = r.x - t.pad - block_w;
    x = std::clamp(x, 0, std::max(0, c.width() - block_w));
    // Where the block has to overlap the box, keep the track id above it visible.
    const bool overlaps = x < r.br().x && x + block_w > r.x;
    const int top = overlaps ? r.y + t.line_height + 2 * t.pad : r.y;
    y = std::clamp(top, 0, std::max(0, c.height() - block_h));
  }
  taken.push_back({x, y, block_w, block_h});
  c.backing({x, y, block_w, block_h});
  for (std::size_t i = 0; i < lines.size(); ++i)
    c.text(lines[i], {x + t.pad, y + (int)(i + 1) * t.line_height - t.pad / 2}, t.scale, t.thickness, kText);
}

// One bar per AU near the box (place_beside: below first), AU numbers below
// the bars. Bar height: intensity / 5, or the probability for a model without
// intensity; green where the AU is present (never shorter than a sliver, so
// presence shows even at a low intensity), grey where it is not.
void draw_bars(Canvas& c, const GstHicomexMeta& meta, const GstHicomexFace& f, const Typography& t,
               std::vector<PixelRect>& taken) {
  if (meta.n_aus == 0) return;
  const cv::Rect r = box_rect(f);
  const double small = t.scale * 0.6;
  const int small_th = std::max(1, t.thickness / 2);
  int baseline = 0;
  const cv::Size digits = cv::getTextSize("26", cv::FONT_HERSHEY_SIMPLEX, small, small_th, &baseline);
  // Sized by the text, not the box: compact at every face size.
  const int bar_w = std::max(3, digits.width + t.pad);
  const int chart_w = bar_w * (int)meta.n_aus + 2 * t.pad;
  const int plot_h = std::max(12, 2 * t.line_height);
  const int chart_h = plot_h + digits.height + baseline + 3 * t.pad;
  int x, y;
  PixelRect placed;
  if (place_beside({r.x, r.y, r.width, r.height}, chart_w, chart_h, c.width(), c.height(), taken, t.pad, placed,
                   {Side::kBelow, Side::kAbove, Side::kRight, Side::kLeft})) {
    x = placed.x;
    y = placed.y;
  } else {  // no free room: under the box (above it at the bottom edge), whatever is there
    y = r.br().y + t.pad;
    if (y + chart_h > c.height()) y = r.y - t.pad - chart_h;
    y = std::clamp(y, 0, std::max(0, c.height() - chart_h));
    x = std::clamp(r.x, 0, std::max(0, c.width() - chart_w));
  }
  c.backing({x, y, chart_w, chart_h});
  taken.push_back({x, y, chart_w, chart_h});
  const int base = y + t.pad + plot_h;
  const bool intensity = has_intensity(meta, f);
  for (guint a = 0; a < meta.n_aus; ++a) {
    const double v = intensity ? f.au_intensity[a] / 5.0 : (double)f.au_probability[a];
    const double p = std::clamp(std::isfinite(v) ? v : 0.0, 0.0, 1.0);
    int h = (int)std::lround(p * plot_h);
    if (f.au_occurrence[a]) h = std::max(h, std::max(2, plot_h / 16));
    const int bx = x + t.pad + (int)a * bar_w;
    if (h > 0) c.rect({bx + 1, base - h, std::max(1, bar_w - 2), h}, f.au_occurrence[a] ? kBarOn : kBarOff, -1);
    c.text(std::to_string(meta.au_ids[a]), {bx + 1, base + t.pad + digits.height}, small, small_th, kText);
  }
}

}  // namespace

bool place_beside(const PixelRect& box, int width, int height, int frame_width, int frame_height,
                  const std::vector<PixelRect>& taken, int gap, PixelRect& out, std::initializer_list<Side> order) {
  if (width > frame_width || height > frame_height) return false;
  // The sides in the order asked: the first that fits.
  const int under_x = std::clamp(box.x, 0, frame_width - width);
  const int beside_y = std::clamp(box.y, 0, frame_height - height);
  for (const Side side : order) {
    const int x = side == Side::kRight ? box.x + box.width + gap : side == Side::kLeft ? box.x - gap - width : under_x;
    const int y = side == Side::kBelow   ? box.y + box.height + gap
                  : side == Side::kAbove ? box.y - gap - height
                                         : beside_y;
    if (x < 0 || x + width > frame_width || y < 0 || y + height > frame_height) continue;
    PixelRect cand{x, y, width, height};
    // Slide down past whatever it hits (the face's own box included); each step
    // clears one rectangle, so this ends.
    for (std::size_t step = 0; step <= taken.size() + 1; ++step) {
      const PixelRect* hit = box.intersects(cand) ? &box : nullptr;
      for (const PixelRect& t : taken) {
        if (hit) break;
        if (t.intersects(cand)) hit = &t;
      }
      if (!hit) {
        out = cand;
        return true;
      }
      cand.y = hit->y + hit->height + gap;
      if (cand.y + height > frame_height) break;
    }
  }
  return false;
}

void draw_overlay(GstVideoFrame* frame, const GstHicomexMeta& meta, const OverlayOptions& options) {
  Canvas canvas(frame);
  const Typography t = typography(canvas.height());
  // Charts and labels keep clear of every face box and of what was placed before them.
  std::vector<PixelRect> taken;
  for (guint i = 0; i < meta.n_faces; ++i) {
    const cv::Rect r = box_rect(meta.faces[i]);
    taken.push_back({r.x, r.y, r.width, r.height});
  }
  // Boxes, points and charts first, then the labels
  // around everything already there.
  for (guint i = 0; i < meta.n_faces; ++i) {
    const GstHicomexFace& f = meta.faces[i];
    if (options.draw_boxes) draw_box(canvas, f, t);
    if (options.draw_landmarks && f.success) draw_landmarks(canvas, f);
    if (options.draw_bars && f.success) draw_bars(canvas, meta, f, t, taken);
  }
  for (guint i = 0; i < meta.n_faces; ++i) {
    const GstHicomexFace& f = meta.faces[i];
    if (options.draw_labels && f.success) draw_labels(canvas, meta, f, t, options.min_probability, taken);
  }
}

}  // namespace hicomex::gst
