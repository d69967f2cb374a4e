// One RTSP camera inside the client's pipeline: a replaceable source part
// (uridecodebin on the URL, decoding to raw video) in front of a persistent
// analysis part (queue ! hicomex ! hicomexexport ! [overlay ! x264enc ! mp4mux ! filesink]
// or fakesink). When the camera drops, only the source part is torn down and
// rebuilt, with exponential backoff: the analyzer keeps its loaded model and
// the exporter keeps its one open file, its frame counter going on, so rows
// written before the cut stay and none is written twice.
#pragma once
#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <string>

namespace hicomex::pipelines {

struct CameraConfig {
  std::string url;
  std::string jsonl;   // result file (JSON lines); empty: none
  std::string mqtt;    // mqtt:// URL to publish to; empty: none
  std::string record;  // annotated MP4, empty: none
  bool overwrite = false;
  std::string protocols = "tcp";  // rtspsrc protocols: tcp, udp, udp+udp-mcast+tcp
  unsigned latency_ms = 200;      // rtspsrc jitterbuffer latency
  bool drop_late = false;         // leaky queue before the analyzer (live cameras)
  double timeout_s = 10.0;        // no frame for this long: treat as dropped
  double backoff_initial_s = 0.5;
  double backoff_max_s = 30.0;
  int initial_retries = 3;                            // attempts before a never-connected camera gives up
  int max_retries = -1;                               // consecutive failed attempts after a drop; -1: forever
  std::map<std::string, std::string> analyzer_props;  // hicomex property -> value
};

/// Counters read by the main thread while streaming threads update them.
struct CameraStats {
  std::atomic<std::int64_t> frames{0};        // analysed frames, all connections
  std::atomic<std::int64_t> faces{0};         // face records written
  std::atomic<std::int64_t> last_data_us{0};  // monotonic time of the last frame in
  std::atomic<std::int64_t> last_pts{-1};     // of the last frame let through
  std::atomic<bool> got_frame{false};         // this connection delivered a frame
  std::atomic<bool> eos{false};               // this connection ended its stream
};

class RtspCamera {
 public:
  enum class State { Idle, Connecting, Streaming, Waiting, Failed, Stopped };

  RtspCamera(int index, CameraConfig config, GstElement* pipeline);
  ~RtspCamera();
  RtspCamera(const RtspCamera&) = delete;
  RtspCamera& operator=(const RtspCamera&) = delete;

  /// Adds the persistent part to the pipeline (before it starts). Throws
  /// std::runtime_error naming the missing element or bad property.
  void build_analysis_part();
  /// Creates the source part and links it (pipeline running).
  void connect();
  /// Called by the main loop about twice a second: notices first frames,
  /// stream ends and silent connections. Returns false once Failed.
  bool poll();
  /// An error message from inside this camera's current source part.
  bool owns_message(GstMessage* msg) const;
  void on_source_error(const std::string& what);
  /// Tears the source down and sends EOS through the analysis part, so the
  /// exporter and the recording are finished properly.
  void stop();

  State state() const { return state_; }
  int index() const { return index_; }
  const CameraConfig& config() const { return config_; }
  const CameraStats& stats() const { return stats_; }
  int reconnects() const { return reconnects_; }
  std::string name() const { return "cam" + std::to_string(index_); }

 private:
  void teardown_source();
  void schedule_reconnect(const std::string& why);
  static gboolean on_reconnect_timer(gpointer self);
  static void on_pad_added(GstElement* decodebin, GstPad* pad, gpointer self);
  static void on_source_setup(GstElement* uridecodebin, GstElement* source, gpointer self);
  static GstPadProbeReturn on_source_data(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn on_analysed(GstPad* pad, GstPadProbeInfo* info, gpointer self);

  int index_;
  CameraConfig config_;
  GstElement* pipeline_;
  GstElement* analysis_in_ = nullptr;  // the queue: where each source part links
  GstElement* source_ = nullptr;       // current source bin, null when disconnected
  State state_ = State::Idle;
  CameraStats stats_;
  bool ever_streamed_ = false;
  std::atomic<bool> stream_started_{false};  // a stream-start went downstream already
  GstSegment first_segment_{};               // of the first connection (streaming thread)
  bool have_first_segment_ = false;
  int failures_ = 0;  // consecutive failed attempts
  int reconnects_ = 0;
  double backoff_s_;
  guint timer_ = 0;
  std::int64_t attempt_us_ = 0;
};

const char* to_string(RtspCamera::State s);

}  // namespace hicomex::pipelines
