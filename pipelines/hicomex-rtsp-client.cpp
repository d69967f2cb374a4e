// hicomex-rtsp-client: RTSP cameras -> hicomex -> JSON lines (and an annotated
// recording), reconnecting with backoff when a camera drops. Several URLs run
// in one process, one analysis branch each (see docs/pipelines.md for what is
// shared between them). The bash wrapper `hicomex-rtsp` calls this program.
//
// Exit status: 0 after a requested stop (SIGINT/SIGTERM, --frames, --duration),
// 1 when a camera gave up or the pipeline failed (message on stderr), 2 on bad
// arguments. A JSON summary line goes to stdout at the end.
#include <glib-unix.h>
#include <gst/gst.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "hicomex/option_parsers.h"
#include "rtsp_camera.h"

using hicomex::pipelines::CameraConfig;
using hicomex::pipelines::RtspCamera;

namespace {

struct Options {
  std::vector<std::string> urls;
  std::string jsonl = "hicomex-rtsp.jsonl";
  std::string mqtt;
  std::string record;
  double duration_s = 0;
  long frames = 0;
  double stats_interval_s = 5;
};

// "out.jsonl" for camera 2 of several: "out-cam2.jsonl"; "{cam}" is replaced.
std::string per_camera(const std::string& path, int index, size_t count) {
  if (path.empty()) return path;
  const auto tag = path.find("{cam}");
  if (tag != std::string::npos) return path.substr(0, tag) + std::to_string(index) + path.substr(tag + 5);
  if (count == 1) return path;
  const auto slash = path.find_last_of('/');
  const auto dot = path.find_last_of('.');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
  const std::string suffix = "-cam" + std::to_string(index);
  return has_ext ? path.substr(0, dot) + suffix + path.substr(dot) : path + suffix;
}

struct App {
  Options opt;
  GstElement* pipeline = nullptr;
  GMainLoop* loop = nullptr;
  std::vector<std::unique_ptr<RtspCamera>> cameras;
  bool stopping = false;
  bool fatal = false;
  std::int64_t start_us = 0;
  std::int64_t last_stats_us = 0;
  guint stop_timeout = 0;

  void begin_stop(const char* why) {
    if (stopping) return;
    stopping = true;
    std::fprintf(stderr, "[hicomex-rtsp] stopping (%s)\n", why);
    for (auto& cam : cameras) cam->stop();
    // The EOS sent through every branch ends in an EOS message; give up
    // waiting after a while (a wedged camera must not keep us forever).
    stop_timeout = g_timeout_add_seconds(
        15,
        [](gpointer p) -> gboolean {
          auto* app = static_cast<App*>(p);
          std::fprintf(stderr, "[hicomex-rtsp] no end of stream after 15 s; closing anyway\n");
          app->stop_timeout = 0;
          g_main_loop_quit(app->loop);
          return G_SOURCE_REMOVE;
        },
        this);
  }

  void print_stats() {
    const double t = (g_get_monotonic_time() - start_us) / 1e6;
    for (auto& cam : cameras) {
      const auto& s = cam->stats();
      std::fprintf(stderr,
                   "[hicomex-rtsp] %s: %s, %lld frames (%.1f/s), %lld face records, "
                   "%d reconnects\n",
                   cam->name().c_str(), to_string(cam->state()), (long long)s.frames.load(), t > 0 ? s.frames / t : 0.0,
                   (long long)s.faces.load(), cam->reconnects());
    }
  }

  bool tick() {
    if (stopping) return G_SOURCE_CONTINUE;
    bool any_alive = false, all_done = opt.frames > 0;
    for (auto& cam : cameras) {
      if (cam->poll()) any_alive = true;
      if (opt.frames > 0 && cam->state() != RtspCamera::State::Failed && cam->stats().frames < opt.frames)
        all_done = false;
    }
    const auto now = g_get_monotonic_time();
    if (opt.stats_interval_s > 0 && now - last_stats_us > opt.stats_interval_s * 1e6) {
      last_stats_us = now;
      print_stats();
    }
    if (!any_alive)
      begin_stop("every camera gave up");
    else if (all_done)
      begin_stop("frame count reached");
    else if (opt.duration_s > 0 && now - start_us > opt.duration_s * 1e6)
      begin_stop("duration reached");
    return G_SOURCE_CONTINUE;
  }

  void on_message(GstMessage* msg) {
    switch (GST_MESSAGE_TYPE(msg)) {
      case GST_MESSAGE_ERROR: {
        // From a source part already torn down (its teardown can fail when
        // the camera is gone): nothing to do any more.
        if (!gst_object_has_as_ancestor(GST_MESSAGE_SRC(msg), GST_OBJECT(pipeline))) break;
        GError* err = nullptr;
        gchar* dbg = nullptr;
        gst_message_parse_error(msg, &err, &dbg);
        std::string text = err->message;
        for (auto& cam : cameras) {
          if (cam->owns_message(msg)) {
            cam->on_source_error(text);
            text.clear();
            break;
          }
        }
        if (!text.empty()) {
          std::fprintf(stderr, "[hicomex-rtsp] error from %s: %s\n  (%s)\n", GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)),
                       text.c_str(), dbg ? dbg : "");
          fatal = true;
          g_main_loop_quit(loop);
        }
        g_clear_error(&err);
        g_free(dbg);
        break;
      }
      case GST_MESSAGE_EOS:
        if (stopping) g_main_loop_quit(loop);
        break;
      default: break;
    }
  }
};

void print_summary(const App& app) {
  const double t = (g_get_monotonic_time() - app.start_us) / 1e6;
  nlohmann::json cams = nlohmann::json::array();
  for (const auto& cam : app.cameras) {
    const auto& s = cam->stats();
    cams.push_back({{"url", cam->config().url},
                    {"jsonl", cam->config().jsonl},
                    {"record", cam->config().record},
                    {"state", to_string(cam->state())},
                    {"frames", s.frames.load()},
                    {"face_records", s.faces.load()},
                    {"reconnects", cam->reconnects()},
                    {"fps", t > 0 ? s.frames.load() / t : 0.0}});
  }
  std::cout << nlohmann::json{{"seconds", t}, {"cameras", cams}}.dump() << std::endl;
}

// "mqtt://h/lab" for camera 2 of several: "mqtt://h/lab/cam2"; "{cam}" is replaced.
std::string mqtt_per_camera(const std::string& url, int index, size_t count) {
  if (url.empty()) return url;
  const auto tag = url.find("{cam}");
  if (tag != std::string::npos) return url.substr(0, tag) + std::to_string(index) + url.substr(tag + 5);
  return count == 1 ? url : url + "/cam" + std::to_string(index);
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  Options opt;
  CameraConfig base;
  std::string model, device, detector, precision;
  unsigned threads = 0, batch_timeout_us = 0;
  std::vector<std::string> sets;
  CLI::App cli{
      "RTSP cameras -> hicomex -> JSON lines (+ annotated recording), reconnecting "
      "with backoff when a camera drops"};
  cli.add_option("urls", opt.urls, "rtsp:// URLs (several: one analysis branch each)")->required();
  cli.add_option("--jsonl", opt.jsonl, "result file (JSON lines); several cameras: NAME-camK.EXT, or put {cam} in it")
      ->capture_default_str();
  cli.add_option("--mqtt", opt.mqtt,
                 "also publish one JSON message per frame to this MQTT broker, "
                 "mqtt://[USER[:PASSWORD]@]HOST[:PORT]/TOPIC (mqtts:// for TLS); several "
                 "cameras: TOPIC/camK, or put {cam} in it. With --mqtt and no --jsonl, no file "
                 "is written");
  cli.add_flag("--overwrite", base.overwrite, "replace existing result/recording files");
  cli.add_option("--record", opt.record, "also record the annotated video to this MP4");
  cli.add_option("--protocols", base.protocols, "tcp, udp, or auto (UDP, then TCP)")
      ->capture_default_str()
      ->check(CLI::IsMember({"tcp", "udp", "auto", "udp+udp-mcast+tcp"}));
  cli.add_option("--latency", base.latency_ms, "jitterbuffer latency, ms")->capture_default_str();
  cli.add_option("--model", model,
                 "HiCOMEX weights (default: $HICOMEX_MODEL, then the installed "
                 "default model)");
  // The library's own parsers check these, as in hicomex-analyze and the element.
  cli.add_option("--device", device, hicomex::kDeviceForms)->check([](const std::string& t) {
    return hicomex::option_problem(hicomex::parse_device, t);
  });
  cli.add_option("--precision", precision, "AU network arithmetic: auto (the default), fp32, bf16, fp16 (CUDA)")
      ->check([](const std::string& t) { return hicomex::option_problem(hicomex::parse_precision, t); });
  cli.add_option("--batch-timeout", batch_timeout_us,
                 "several cameras: batch their faces together, waiting at most this many "
                 "microseconds for the others (0: off)")
      ->capture_default_str();
  cli.add_option("--threads", threads,
                 "LibTorch CPU threads, process-wide (default: all cores for one camera, "
                 "1 for several)");
  cli.add_option("--detector", detector, "blazeface, blazeface-back, haar, lbp");
  cli.add_option("--set", sets, "any other hicomex property, KEY=VALUE (repeatable)");
  cli.add_flag("--drop-late", base.drop_late, "drop frames the analyzer cannot keep up with (live use)");
  cli.add_option("--timeout", base.timeout_s, "seconds without a frame before reconnecting")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cli.add_option("--backoff", base.backoff_initial_s, "first reconnect delay, s (doubles)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cli.add_option("--max-backoff", base.backoff_max_s, "longest reconnect delay, s")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cli.add_option("--initial-retries", base.initial_retries, "retries before a camera that never connected gives up")
      ->capture_default_str();
  cli.add_option("--max-retries", base.max_retries, "retries after a drop before giving up (-1: forever)")
      ->capture_default_str();
  cli.add_option("--frames", opt.frames, "stop once every camera analysed N frames");
  cli.add_option("--duration", opt.duration_s, "stop after S seconds");
  cli.add_option("--stats-interval", opt.stats_interval_s, "progress line every S seconds (0: none)")
      ->capture_default_str();
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 2;
  }
  if (!model.empty()) base.analyzer_props["model"] = model;
  if (!device.empty()) base.analyzer_props["device"] = device;
  if (!precision.empty()) base.analyzer_props["precision"] = precision;
  if (batch_timeout_us) base.analyzer_props["batch-timeout"] = std::to_string(batch_timeout_us);
  if (threads) {
    base.analyzer_props["threads"] = std::to_string(threads);
  } else if (opt.urls.size() > 1) {
    // One analyzer thread per camera already keeps the cores busy; LibTorch's
    // own pool on top of them oversubscribes the CPU (measured: 2 cameras on
    // 2 cores, 4.3 frames/s in all with all-core pools, 17.6 with 1 thread).
    base.analyzer_props["threads"] = "1";
  }
  if (!detector.empty()) base.analyzer_props["detector"] = detector;
  for (const auto& kv : sets) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "hicomex-rtsp: --set expects KEY=VALUE, got '" << kv << "'\n";
      return 2;
    }
    base.analyzer_props[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& url : opt.urls) {
    if (!gst_uri_is_valid(url.c_str()) || !g_str_has_prefix(url.c_str(), "rtsp")) {
      std::cerr << "hicomex-rtsp: not an rtsp:// URL: '" << url << "'\n";
      return 2;
    }
  }

  App app;
  app.opt = opt;
  app.pipeline = gst_pipeline_new("hicomex-rtsp");
  app.loop = g_main_loop_new(nullptr, FALSE);
  try {
    for (size_t i = 0; i < opt.urls.size(); ++i) {
      CameraConfig c = base;
      c.url = opt.urls[i];
      c.jsonl =
          opt.mqtt.empty() || cli.count("--jsonl") ? per_camera(opt.jsonl, (int)i, opt.urls.size()) : std::string();
      c.mqtt = mqtt_per_camera(opt.mqtt, (int)i, opt.urls.size());
      c.record = per_camera(opt.record, (int)i, opt.urls.size());
      app.cameras.push_back(std::make_unique<RtspCamera>((int)i, c, app.pipeline));
      app.cameras.back()->build_analysis_part();
    }
  } catch (const std::exception& e) {
    std::cerr << "hicomex-rtsp: " << e.what() << "\n";
    return 1;
  }

  GstBus* bus = gst_element_get_bus(app.pipeline);
  // The analysis parts start now: the model is loaded and the result files
  // created (or refused) before any camera is contacted.
  if (gst_element_set_state(app.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    if (msg) {
      GError* err = nullptr;
      gchar* dbg = nullptr;
      gst_message_parse_error(msg, &err, &dbg);
      std::fprintf(stderr, "hicomex-rtsp: %s\n  (%s)\n", err->message, dbg ? dbg : "");
      g_clear_error(&err);
      g_free(dbg);
      gst_message_unref(msg);
    } else {
      std::fprintf(stderr, "hicomex-rtsp: the pipeline failed to start\n");
    }
    gst_element_set_state(app.pipeline, GST_STATE_NULL);
    gst_object_unref(bus);
    return 1;
  }
  gst_bus_add_watch(
      bus,
      [](GstBus*, GstMessage* m, gpointer p) -> gboolean {
        static_cast<App*>(p)->on_message(m);
        return G_SOURCE_CONTINUE;
      },
      &app);
  app.start_us = app.last_stats_us = g_get_monotonic_time();
  for (auto& cam : app.cameras) cam->connect();
  g_timeout_add(
      250, [](gpointer p) -> gboolean { return static_cast<App*>(p)->tick(); }, &app);
  auto on_signal = [](gpointer p) -> gboolean {
    auto* a = static_cast<App*>(p);
    if (a->stopping) g_main_loop_quit(a->loop);  // a second signal: stop waiting
    a->begin_stop("signal");
    return G_SOURCE_CONTINUE;
  };
  g_unix_signal_add(SIGINT, on_signal, &app);
  g_unix_signal_add(SIGTERM, on_signal, &app);
  g_main_loop_run(app.loop);

  gst_element_set_state(app.pipeline, GST_STATE_NULL);
  app.print_stats();
  print_summary(app);
  bool failed = app.fatal;
  for (auto& cam : app.cameras) {
    if (cam->state() == RtspCamera::State::Failed) failed = true;
    std::string where = cam->config().jsonl;
    if (!cam->config().mqtt.empty()) {
      // The URL without credentials.
      std::string url = cam->config().mqtt;
      const auto at = url.find('@');
      const auto scheme = url.find("://");
      if (at != std::string::npos && scheme != std::string::npos && at > scheme) url.erase(scheme + 3, at - scheme - 2);
      where += (where.empty() ? "" : " and ") + url;
    }
    std::fprintf(stderr, "[hicomex-rtsp] %s: results in %s%s%s\n", cam->name().c_str(), where.c_str(),
                 cam->config().record.empty() ? "" : ", video in ", cam->config().record.c_str());
  }
  app.cameras.clear();
  gst_bus_remove_watch(bus);
  gst_object_unref(bus);
  gst_object_unref(app.pipeline);
  g_main_loop_unref(app.loop);
  return failed ? 1 : 0;
}
