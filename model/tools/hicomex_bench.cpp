// hicomex-bench: latency and throughput of the HiCOMEX network on this machine.
// Prints a table (and JSON with --json): parameters, GMAC per face, per-batch
// latency median/p95, ms per face, faces/s and achieved GFLOP/s.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "hicomex/au_engine.h"
#include "hicomex/face_crops.h"
#include "hicomex/op_profile.h"
#include "hicomex/option_parsers.h"
#include "hicomex_config.h"

#include "bench_stats.h"

using namespace hicomex;
using hicomex::tools::percentile;

int main(int argc, char** argv) {
  CLI::App app{
      "hicomex-bench: latency and throughput of the HiCOMEX AU network.\n"
      "Without --weights it times a freshly initialised network of the given\n"
      "variant (paper-sized by default); the cost does not depend on the weights."};
  const AuEngineOptions engine_defaults;  // the engine's own defaults (device auto, precision fp32)
  std::string weights, device = engine_defaults.device, variant = "full", precision = engine_defaults.precision;
  std::vector<int> batches{1, 8, 32};
  int threads = 0, min_iters = 5;
  double seconds = 2.0;
  bool json_out = false;
  int profile_top = 0;
  int streams = 0, batch_timeout_us = 5000;
  app.add_option("-w,--weights", weights, "weights file (safetensors) to time instead of an untrained model")
      ->check(CLI::ExistingFile);
  app.add_option("--variant", variant, "variant of the untrained model: base, lstm, attention, hopfield, full")
      ->capture_default_str();
  app.add_option("-b,--batch-sizes", batches, "batch sizes to time")->capture_default_str()->delimiter(',');
  // The library's one parser of each option text checks them.
  const auto check_with = [](auto parse) {
    return [parse](const std::string& text) { return option_problem(parse, text); };
  };
  app.add_option("-p,--precision", precision, "fp32, bf16 (CPU with AVX512-BF16, or CUDA), fp16 (CUDA) or auto")
      ->capture_default_str()
      ->check(check_with(parse_precision));
  app.add_option("-t,--threads", threads, "CPU threads (0 = all cores)")->capture_default_str();
  app.add_option("-d,--device", device, kDeviceForms)->capture_default_str()->check(check_with(parse_device));
  app.add_option("--seconds", seconds, "time spent per batch size (at least --min-iters runs)")->capture_default_str();
  app.add_option("--min-iters", min_iters, "minimum timed runs per batch size")->capture_default_str();
  app.add_flag("--json", json_out, "print JSON instead of the table");
  app.add_option("--profile", profile_top,
                 "after timing each batch size, profile it and print the time of each network stage and of the "
                 "N operators with the most self time (JSON: \"profile\")")
      ->check(CLI::Range(1, 1000));
  app.add_option("--streams", streams,
                 "also time N streams (threads) sending one face per request, each request its own batch vs "
                 "cross-stream batching")
      ->check(CLI::Range(2, 64));
  app.add_option("--batch-timeout-us", batch_timeout_us, "cross-stream batching timeout for --streams")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  CLI11_PARSE(app, argc, argv);

  try {
    AuEngineOptions eo;
    eo.device = device;
    eo.threads = threads;
    eo.precision = precision;
    std::unique_ptr<AuEngine> engine;
    if (!weights.empty()) {
      eo.weights = weights;
      engine = std::make_unique<AuEngine>(eo);
    } else {
      ModelInfo info;
      info.model_id = "untrained-" + variant;
      info.options.variant(variant_from_string(variant));
      engine = std::make_unique<AuEngine>(AuEngine::untrained(info, eo));
    }
    const auto& opt = engine->info().options;
    const int64_t s = opt.crop_size();
    const double gmac = static_cast<double>(engine->macs_per_face()) / 1e9;
    const size_t a = opt.aus().size();

    nlohmann::json report;
    report["model_id"] = engine->info().model_id;
    report["variant"] = to_string(opt.variant());
    report["parameters"] = engine->parameter_count();
    report["gmac_per_face"] = gmac;
    report["device"] = engine->device();
    report["threads"] = engine->threads();
    report["precision"] = engine->precision();
    report["version"] = HICOMEX_VERSION;
    report["results"] = nlohmann::json::array();

    if (!json_out) {
      std::printf("HiCOMEX %s (%s): %.2f M parameters, %.3f GMAC per face, input %lldx%lld, %zu AUs\n",
                  engine->info().model_id.c_str(), to_string(opt.variant()),
                  static_cast<double>(engine->parameter_count()) / 1e6, gmac, static_cast<long long>(s),
                  static_cast<long long>(s), a);
      std::printf("device %s, %d threads, %s\n\n", engine->device().c_str(), engine->threads(),
                  engine->precision().c_str());
      std::printf("%6s %6s %12s %12s %12s %10s %10s\n", "batch", "runs", "median ms", "p95 ms", "ms/face", "faces/s",
                  "GFLOP/s");
    }
    std::mt19937 rng(1);
    std::normal_distribution<float> dist(0.f, 0.5f);
    for (int b : batches) {
      if (b <= 0) throw std::invalid_argument("--batch-sizes: " + std::to_string(b) + " is not a positive size");
      std::vector<float> input(static_cast<size_t>(b) * 3 * s * s), probs(b * a), lms(b * 98);
      for (auto& v : input) v = dist(rng);
      engine->run_normalised(input.data(), b, nullptr, probs.data(), lms.data());  // warm-up
      engine->run_normalised(input.data(), b, nullptr, probs.data(), lms.data());
      std::vector<double> ms;
      const auto t_start = std::chrono::steady_clock::now();
      while (static_cast<int>(ms.size()) < min_iters ||
             std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count() < seconds) {
        const auto t0 = std::chrono::steady_clock::now();
        engine->run_normalised(input.data(), b, nullptr, probs.data(), lms.data());
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        if (ms.size() >= 10000) break;
      }
      const double med = percentile(ms, 0.5), p95 = percentile(ms, 0.95);
      const double per_face = med / b, fps = 1000.0 / per_face, gflops = 2.0 * gmac * fps;
      report["results"].push_back({{"batch", b},
                                   {"runs", ms.size()},
                                   {"median_ms", med},
                                   {"p95_ms", p95},
                                   {"ms_per_face", per_face},
                                   {"faces_per_s", fps},
                                   {"gflop_per_s", gflops}});
      // GPU memory after the batch ran: device-wide (context + caching allocator included).
      std::size_t used = 0, total = 0;
      const bool on_gpu = engine->device().rfind("cuda", 0) == 0;
      const int gpu = on_gpu && engine->device().size() > 5 ? std::stoi(engine->device().substr(5)) : 0;
      const bool have_memory = on_gpu && cuda_memory_info(gpu, used, total);
      if (have_memory) report["results"].back()["gpu_memory_used_mib"] = static_cast<double>(used) / (1 << 20);
      if (!json_out) {
        std::printf("%6d %6zu %12.2f %12.2f %12.2f %10.1f %10.1f", b, ms.size(), med, p95, per_face, fps, gflops);
        if (have_memory) std::printf("   GPU memory in use %.0f / %.0f MiB", used / 1048576.0, total / 1048576.0);
        std::printf("\n");
      }
      std::fflush(stdout);
      if (profile_top > 0) {
        const auto ops =
            profile_ops([&] { engine->run_normalised(input.data(), b, nullptr, probs.data(), lms.data()); },
                        std::max(3, std::min(static_cast<int>(ms.size()), 20)));
        auto& jp = report["results"].back()["profile"];
        jp = {{"stages", nlohmann::json::array()}, {"operators", nlohmann::json::array()}};
        std::vector<const OpTime*> stages, top;
        for (const auto& o : ops) {
          if (o.name.rfind("hicomex::", 0) == 0)
            stages.push_back(&o);
          else if (static_cast<int>(top.size()) < profile_top)
            top.push_back(&o);
        }
        for (const auto* o : stages) jp["stages"].push_back({{"name", o->name}, {"ms", o->total_ms}});
        for (const auto* o : top)
          jp["operators"].push_back(
              {{"name", o->name}, {"calls_per_run", o->calls}, {"self_ms", o->self_ms}, {"total_ms", o->total_ms}});
        if (!json_out) {
          std::printf("  profile of batch %d (ms per batch; times include profiler overhead):\n", b);
          for (const auto* o : stages) std::printf("    %-28s %9.2f\n", o->name.c_str(), o->total_ms);
          std::printf("    %-28s %9s %9s %7s\n", "operator", "self ms", "total ms", "calls");
          for (const auto* o : top)
            std::printf("    %-28s %9.2f %9.2f %7lld\n", o->name.c_str(), o->self_ms, o->total_ms, o->calls);
          std::fflush(stdout);
        }
      }
    }
    if (streams > 0) {
      // N threads, one face per request, for --seconds each way.
      auto make_engine = [&](int timeout_us) {
        AuEngineOptions o = eo;
        o.batch_timeout_us = timeout_us;
        if (!weights.empty()) return AuEngine(o);
        ModelInfo info = engine->info();
        return AuEngine::untrained(info, o);
      };
      const int side = engine->aligned_size();
      std::vector<AlignedFaceInput> face(1);
      face[0].aligned = cv::Mat(side, side, CV_8UC3);
      cv::randu(face[0].aligned, 0, 255);
      if (!json_out)
        std::printf("\n%d streams, 1 face per request:\n%-22s %10s %12s %12s %12s\n", streams, "mode", "faces/s",
                    "faces/batch", "median ms", "p95 ms");
      report["streams"] = nlohmann::json::array();
      for (int timeout : {0, batch_timeout_us}) {
        AuEngine e = make_engine(timeout);
        e.run(face);  // warm-up
        std::vector<std::vector<double>> lat(streams);
        const auto stats0 = e.stats();
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<std::thread> threads;
        for (int k = 0; k < streams; ++k)
          threads.emplace_back([&, k] {
            auto membership = e.join();
            while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds) {
              const auto a = std::chrono::steady_clock::now();
              e.run(face);
              lat[k].push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
            }
          });
        for (auto& t : threads) t.join();
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const auto st = e.stats();
        std::vector<double> all;
        for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
        if (all.empty()) all.push_back(0.0);
        const double faces = static_cast<double>(st.faces - stats0.faces);
        const double per_batch = faces / std::max<double>(1.0, static_cast<double>(st.batches - stats0.batches));
        const std::string mode = timeout == 0 ? "separate" : "batched (" + std::to_string(timeout) + " us)";
        report["streams"].push_back({{"streams", streams},
                                     {"batch_timeout_us", timeout},
                                     {"faces_per_s", faces / wall},
                                     {"faces_per_batch", per_batch},
                                     {"median_ms", percentile(all, 0.5)},
                                     {"p95_ms", percentile(all, 0.95)}});
        if (!json_out)
          std::printf("%-22s %10.1f %12.2f %12.2f %12.2f\n", mode.c_str(), faces / wall, per_batch,
                      percentile(all, 0.5), percentile(all, 0.95));
      }
    }
    if (json_out) std::cout << report.dump(2) << "\n";
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hicomex-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
