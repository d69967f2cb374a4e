// hicomex-synth: synthetic FACS faces with exact ground truth.
//   hicomex-synth dataset --out DIR --count N --identities K [--seed S] [--size 256] [--jobs J]
//   hicomex-synth video --out demo.mp4 --csv demo.csv [--faces 2] [--seconds 10] [--fps 25] [--size 640x480]
//   hicomex-synth sample --out face.png [--aus 6=3,12=4] [--yaw 10] [--landmarks]
//   hicomex-synth rules   (prints the default AU statistics as JSON, the format --rules reads)
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "dataset_writer.h"
#include "video_writer.h"

using namespace hicomex::synth;

namespace {

ExpressionRules load_rules(const std::string& path) {
  if (path.empty()) return default_expression_rules();
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read --rules file " + path);
  try {
    return expression_rules_from_json(nlohmann::json::parse(in));
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error("--rules file " + path + " is not valid JSON: " + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error("--rules file " + path + ": " + e.what());
  }
}

cv::Size parse_size(const std::string& s) {
  int w = 0, h = 0;
  char x = 0;
  std::istringstream in(s);
  if (!(in >> w >> x >> h) || (x != 'x' && x != 'X') || !in.eof())
    throw std::invalid_argument("--size '" + s + "' is not WIDTHxHEIGHT (e.g. 640x480)");
  return {w, h};
}

AuIntensities parse_aus(const std::string& s) {
  AuIntensities aus;
  std::istringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    auto eq = item.find('=');
    try {
      if (eq == std::string::npos) throw std::invalid_argument("");
      aus[std::stoi(item.substr(0, eq))] = std::stof(item.substr(eq + 1));
    } catch (const std::logic_error&) {
      throw std::invalid_argument("--aus item '" + item + "' is not AU=INTENSITY (e.g. 12=3.5)");
    }
  }
  validate_aus(aus);
  return aus;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hicomex-synth: synthetic FACS faces with 68-point landmarks and AU intensities"};
  app.require_subcommand(1);

  DatasetOptions d;
  std::string d_rules;
  bool d_quiet = false;
  auto* ds = app.add_subcommand("dataset", "Write images and a manifest.jsonl (split by synthetic identity)");
  ds->add_option("--out", d.out_dir, "Output folder (images/ and manifest.jsonl)")->required();
  ds->add_option("--count", d.count, "Number of images")->required();
  ds->add_option("--identities", d.identities, "Number of synthetic people (subjects); image i shows identity i % K")
      ->required();
  ds->add_option("--seed", d.seed, "Random seed; same seed, same bytes")->capture_default_str();
  ds->add_option("--size", d.scene.size, "Image width and height in pixels")->capture_default_str();
  ds->add_option("--jobs", d.jobs, "Worker threads (the output does not depend on it)")->capture_default_str();
  ds->add_option("--format", d.format, "Image format: jpg or png")->capture_default_str();
  ds->add_option("--supersample", d.scene.supersample, "Render at this multiple, then downsample")
      ->capture_default_str();
  ds->add_option("--occlusion", d.scene.occlusion_probability, "Probability of a partial occluder")
      ->capture_default_str();
  ds->add_option("--max-yaw", d.scene.max_abs_yaw, "Largest |yaw| in degrees")->capture_default_str();
  ds->add_option("--max-pitch", d.scene.max_abs_pitch, "Largest |pitch| in degrees")->capture_default_str();
  ds->add_option("--max-roll", d.scene.max_abs_roll, "Largest |roll| in degrees")->capture_default_str();
  ds->add_option("--rules", d_rules, "JSON file overriding the AU statistics (see `hicomex-synth rules`)");
  ds->add_flag("--overwrite", d.overwrite, "Replace an existing manifest.jsonl");
  ds->add_flag("--quiet", d_quiet, "No progress output");

  VideoOptions v;
  std::string v_size = "640x480", v_rules;
  auto* vs =
      app.add_subcommand("video", "Render a video of moving faces going through expressions, with a ground-truth CSV");
  vs->add_option("--out", v.out_path, "Video file: .mp4 (MPEG-4 part 2) or .avi (Motion JPEG)")->required();
  vs->add_option("--csv", v.csv_path, "Per-frame ground truth (one row per face per frame)")->required();
  vs->add_option("--faces", v.faces, "Number of faces, 1..4")->capture_default_str();
  vs->add_option("--seconds", v.seconds, "Duration")->capture_default_str();
  vs->add_option("--fps", v.fps, "Frame rate")->capture_default_str();
  vs->add_option("--size", v_size, "Frame size WIDTHxHEIGHT")->capture_default_str();
  vs->add_option("--seed", v.seed, "Random seed")->capture_default_str();
  vs->add_option("--supersample", v.supersample, "Render at this multiple, then downsample")->capture_default_str();
  vs->add_option("--rules", v_rules, "JSON file overriding the AU statistics");

  std::string s_out, s_aus;
  std::uint64_t s_seed = 1;
  int s_identity = 0, s_size = 256;
  float s_yaw = 0, s_pitch = 0, s_roll = 0;
  bool s_landmarks = false;
  auto* ss = app.add_subcommand("sample", "Render one face with chosen AUs and pose (plain background)");
  ss->add_option("--out", s_out, "Image file (.png or .jpg)")->required();
  ss->add_option("--aus", s_aus, "AU intensities, e.g. 6=3,12=4.5 (others 0)");
  ss->add_option("--seed", s_seed, "Seed of the identity")->capture_default_str();
  ss->add_option("--identity", s_identity, "Identity number")->capture_default_str();
  ss->add_option("--size", s_size, "Image width and height")->capture_default_str();
  ss->add_option("--yaw", s_yaw, "Degrees")->capture_default_str();
  ss->add_option("--pitch", s_pitch, "Degrees")->capture_default_str();
  ss->add_option("--roll", s_roll, "Degrees")->capture_default_str();
  ss->add_flag("--landmarks", s_landmarks, "Draw the 68 ground-truth landmarks");

  auto* rs =
      app.add_subcommand("rules", "Print the default AU statistics (prototypes, implications, exclusions) as JSON");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*ds) {
      d.rules = load_rules(d_rules);
      auto sum = write_dataset(d, d_quiet ? nullptr : &std::cerr);
      std::cout << "wrote " << sum.written << " images and " << sum.manifest_path << " in "
                << static_cast<int>(sum.seconds) << " s\n";
    } else if (*vs) {
      v.size = parse_size(v_size);
      v.rules = load_rules(v_rules);
      auto sum = write_video(v, &std::cerr);
      std::cout << "wrote " << v.out_path << " (" << sum.frames << " frames, " << sum.fourcc << ") and " << v.csv_path
                << " (" << sum.rows << " rows)\n";
    } else if (*ss) {
      if (s_size < 32 || s_size > 4096) throw std::invalid_argument("--size must be within 32..4096");
      SynthIdentity who = make_identity(s_seed, s_identity);
      FaceInstance face;
      face.identity = &who;
      face.aus = parse_aus(s_aus);
      face.pose.yaw = s_yaw;
      face.pose.pitch = s_pitch;
      face.pose.roll = s_roll;
      face.pose.centre = cv::Point2f(0.5f * s_size, 0.5f * s_size);
      face.pose.scale = 0.55f * s_size / 0.9f;
      const int sup = 2;
      cv::Mat3f canvas(s_size * sup, s_size * sup, cv::Vec3f(0.55f, 0.6f, 0.62f));
      RenderedFace r = draw_face(canvas, sup, face, Lighting{});
      cv::Mat3f small;
      cv::resize(canvas, small, cv::Size(s_size, s_size), 0, 0, cv::INTER_AREA);
      cv::Mat img;
      small.convertTo(img, CV_8UC3, 255.0);
      if (s_landmarks)
        for (const auto& p : r.landmarks) cv::circle(img, p, 1, cv::Scalar(0, 255, 0), cv::FILLED, cv::LINE_AA);
      if (!cv::imwrite(s_out, img)) throw std::runtime_error("cannot write " + s_out);
    } else if (*rs) {
      std::cout << to_json(default_expression_rules()).dump(2) << '\n';
    }
  } catch (const std::exception& e) {
    std::cerr << "hicomex-synth: error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
