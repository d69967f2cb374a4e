// start-stop-rss: memory of a process that starts and stops several hicomex
// pipelines at random, concurrently, for a long time (docs/reliability.md).
// Not a test (it takes minutes): a program that prints the resident set size
// as the cycles go by, so growth that keeps going can be told from growth
// that levels off.
//
//   start-stop-rss [--pipelines 4] [--cycles 250] [--photo FILE] [--json FILE]
#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "media_paths.h"

namespace {

double rss_mb() {
  std::ifstream in("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  in >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
  int pipelines = 4, cycles = 250;
  std::string photo = hicomex::test::kGraceHopper, json_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "start-stop-rss: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--pipelines")
      pipelines = std::atoi(value().c_str());
    else if (a == "--cycles")
      cycles = std::atoi(value().c_str());
    else if (a == "--photo")
      photo = value();
    else if (a == "--json")
      json_path = value();
    else {
      std::fprintf(stderr, "usage: start-stop-rss [--pipelines N] [--cycles N] [--photo FILE] [--json FILE]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (pipelines < 1 || cycles < 1) {
    std::fprintf(stderr, "start-stop-rss: --pipelines and --cycles must be >= 1\n");
    return 2;
  }
  gst_init(&argc, &argv);
  const std::string line = "filesrc location=" + photo +
                           " ! jpegdec ! videoconvert ! imagefreeze num-buffers=30 ! "
                           "video/x-raw,framerate=25/1 ! hicomex ! fakesink";
  std::atomic<int> done_cycles{0}, failures{0};
  std::vector<std::pair<int, double>> samples;
  std::mutex samples_lock;
  samples.push_back({0, rss_mb()});
  std::vector<std::thread> threads;
  for (int p = 0; p < pipelines; ++p) {
    threads.emplace_back([&, p] {
      std::mt19937 rng(1234 + p);
      std::uniform_int_distribution<int> pause_ms(0, 400);
      GError* err = nullptr;
      GstElement* pipeline = gst_parse_launch(line.c_str(), &err);
      if (!pipeline) {
        std::fprintf(stderr, "start-stop-rss: %s\n", err ? err->message : "cannot build the pipeline");
        failures++;
        return;
      }
      while (true) {
        const int c = done_cycles.fetch_add(1);
        if (c >= cycles) break;
        if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) failures++;
        std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
        if (gst_element_set_state(pipeline, GST_STATE_NULL) == GST_STATE_CHANGE_FAILURE) failures++;
        if ((c + 1) % 25 == 0) {
          const double mb = rss_mb();
          std::lock_guard<std::mutex> lock(samples_lock);
          samples.push_back({c + 1, mb});
          std::fprintf(stderr, "start-stop-rss: %d cycles, RSS %.0f MB\n", c + 1, mb);
        }
      }
      gst_object_unref(pipeline);
    });
  }
  for (auto& t : threads) t.join();
  const double end = rss_mb();
  std::printf("{\"pipelines\": %d, \"cycles\": %d, \"failures\": %d, \"rss_mb_end\": %.1f, \"samples\": [", pipelines,
              cycles, failures.load(), end);
  for (size_t i = 0; i < samples.size(); ++i)
    std::printf("%s[%d, %.1f]", i ? ", " : "", samples[i].first, samples[i].second);
  std::printf("]}\n");
  if (!json_path.empty()) {
    std::FILE* f = std::fopen(json_path.c_str(), "w");
    if (f) {
      std::fprintf(f, "{\"cycles\": %d, \"rss_mb_end\": %.1f}\n", cycles, end);
      std::fclose(f);
    }
  }
  return failures.load() == 0 ? 0 : 1;
}
