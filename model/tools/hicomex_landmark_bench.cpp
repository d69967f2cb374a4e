// hicomex-landmark-bench: time of face-api's 68-point landmark net per face on
// the CPU, for the fast NHWC path the landmarker runs (forward_crops_cpu) and
// the plain op sequence it replaced (forward on normalised NCHW crops).
// Prints a table (JSON with --json): median and p90 ms per batch, median ms per
// face, for each path, thread count and batch size, plus the largest landmark
// difference between the paths. With 2 threads the reference path's figures
// depend on OMP_WAIT_POLICY (spinning vs sleeping OpenMP workers on shared
// cores), so the output names it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <torch/torch.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "face/face_landmark_net.h"
#include "face/tfjs_weights.h"
#include "hicomex/model_paths.h"

#include "bench_stats.h"

using namespace hicomex;
using hicomex::tools::percentile;

int main(int argc, char** argv) {
  CLI::App app{
      "hicomex-landmark-bench: ms per face of the 68-point landmark net on the CPU.\n"
      "Times random 112x112 crops (the cost does not depend on the pixels); the paths\n"
      "are interleaved in rounds so that both see the same machine load."};
  std::string manifest, path = "both";
  std::vector<int> batches{1, 2, 4}, thread_counts{1, 2};
  double seconds = 1.0;
  int rounds = 5, min_iters = 10;
  bool json_out = false;
  app.add_option("--manifest", manifest, "tfjs manifest of face_landmark_68_model (default: the face models folder)");
  app.add_option("-b,--batch-sizes", batches, "batch sizes to time")->capture_default_str()->delimiter(',');
  app.add_option("-t,--threads", thread_counts, "intra-op thread counts to time")
      ->capture_default_str()
      ->delimiter(',');
  app.add_option("--path", path, "fast, reference or both")
      ->capture_default_str()
      ->check(CLI::IsMember({"fast", "reference", "both"}));
  app.add_option("--seconds", seconds, "time per path, thread count and batch size (split over the rounds)")
      ->capture_default_str();
  app.add_option("--rounds", rounds, "rounds alternating the paths")->capture_default_str()->check(CLI::Range(1, 1000));
  app.add_option("--min-iters", min_iters, "minimum timed runs per round")->capture_default_str();
  app.add_flag("--json", json_out, "print JSON instead of the table");
  CLI11_PARSE(app, argc, argv);

  try {
    FaceLandmarkNet net;
    net->load(TfjsWeights::load(manifest.empty() ? face_model_path("face_landmark_68_model-weights_manifest.json")
                                                 : manifest));
    net->eval();
    c10::InferenceMode inference;
    torch::manual_seed(1);
    const int max_batch = *std::max_element(batches.begin(), batches.end());
    const torch::Tensor crops = torch::randint(0, 256, {std::max(max_batch, 1), 112, 112, 3}, torch::kUInt8);

    std::vector<std::string> paths;
    if (path != "reference") paths.push_back("fast");
    if (path != "fast") paths.push_back("reference");
    const auto run = [&](const std::string& p, const torch::Tensor& x) {
      return p == "fast" ? net->forward_crops_cpu(x) : net->forward(normalise_crops(x));
    };
    double max_change_px = 0;
    if (paths.size() == 2) {
      max_change_px = (run("fast", crops) - run("reference", crops)).abs().max().item<double>() * 112;
    }

    nlohmann::json results = nlohmann::json::array();
    for (int threads : thread_counts) {
      torch::set_num_threads(threads);
      for (int batch : batches) {
        const torch::Tensor x = crops.narrow(0, 0, batch).contiguous();
        std::vector<std::vector<double>> times(paths.size());
        for (size_t i = 0; i < paths.size(); ++i) {
          for (int w = 0; w < 5; ++w) run(paths[i], x);  // warm-up: scratch buffers, thread pools
        }
        for (int r = 0; r < rounds; ++r) {
          for (size_t i = 0; i < paths.size(); ++i) {
            const auto start = std::chrono::steady_clock::now();
            for (int it = 0;; ++it) {
              const auto t0 = std::chrono::steady_clock::now();
              run(paths[i], x);
              const auto t1 = std::chrono::steady_clock::now();
              times[i].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
              if (it + 1 >= min_iters && std::chrono::duration<double>(t1 - start).count() >= seconds / rounds) break;
            }
          }
        }
        for (size_t i = 0; i < paths.size(); ++i) {
          const double median = percentile(times[i], 0.5);
          results.push_back({{"path", paths[i]},
                             {"threads", threads},
                             {"batch", batch},
                             {"runs", times[i].size()},
                             {"median_ms_per_batch", median},
                             {"p90_ms_per_batch", percentile(times[i], 0.9)},
                             {"median_ms_per_face", median / batch}});
        }
      }
    }

    const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
    const std::string policy = wait_policy ? wait_policy : "unset";
    if (json_out) {
      nlohmann::json out{
          {"net", "face_landmark_68"}, {"device", "cpu"}, {"omp_wait_policy", policy}, {"results", results}};
      if (paths.size() == 2) out["max_change_px"] = max_change_px;
      std::cout << out.dump(2) << "\n";
    } else {
      std::printf("%-10s %7s %5s %5s %12s %9s %11s\n", "path", "threads", "batch", "runs", "median ms", "p90 ms",
                  "ms/face");
      for (const auto& r : results) {
        std::printf("%-10s %7d %5d %5d %12.3f %9.3f %11.3f\n", r["path"].get<std::string>().c_str(),
                    r["threads"].get<int>(), r["batch"].get<int>(), r["runs"].get<int>(),
                    r["median_ms_per_batch"].get<double>(), r["p90_ms_per_batch"].get<double>(),
                    r["median_ms_per_face"].get<double>());
      }
      if (paths.size() == 2) {
        std::printf("max landmark change fast vs reference: %.5f px (112-px crop)\n", max_change_px);
      }
      std::printf("OMP_WAIT_POLICY: %s\n", policy.c_str());
    }
  } catch (const std::exception& e) {
    std::cerr << "hicomex-landmark-bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
