// See rtsp_camera.h. Threads: the main loop (connect, poll, teardown, stop)
// and the source part's streaming threads (the probes, which only touch the
// atomics in CameraStats).
#include "rtsp_camera.h"

#include "gsthicomexmeta.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <utility>

GST_DEBUG_CATEGORY_STATIC(hicomex_rtsp_debug);
#define GST_CAT_DEFAULT hicomex_rtsp_debug

namespace hicomex::pipelines {

namespace {

GstElement* make(const char* factory, const std::string& name) {
  GstElement* e = gst_element_factory_make(factory, name.c_str());
  if (!e)
    throw std::runtime_error(std::string("GStreamer element '") + factory +
                             "' is missing (is the plugin installed, GST_PLUGIN_PATH set?)");
  return e;
}

void set_arg(GstElement* e, const std::string& key, const std::string& value) {
  if (!g_object_class_find_property(G_OBJECT_GET_CLASS(e), key.c_str()))
    throw std::runtime_error(std::string("element ") + GST_OBJECT_NAME(e) + " has no property '" + key + "'");
  gst_util_set_object_arg(G_OBJECT(e), key.c_str(), value.c_str());
}

std::int64_t now_us() { return g_get_monotonic_time(); }

}  // namespace

const char* to_string(RtspCamera::State s) {
  switch (s) {
    case RtspCamera::State::Idle: return "idle";
    case RtspCamera::State::Connecting: return "connecting";
    case RtspCamera::State::Streaming: return "streaming";
    case RtspCamera::State::Waiting: return "waiting";
    case RtspCamera::State::Failed: return "failed";
    case RtspCamera::State::Stopped: return "stopped";
  }
  return "?";
}

RtspCamera::RtspCamera(int index, CameraConfig config, GstElement* pipeline)
    : index_(index), config_(std::move(config)), pipeline_(pipeline), backoff_s_(config_.backoff_initial_s) {
  if (!hicomex_rtsp_debug) GST_DEBUG_CATEGORY_INIT(hicomex_rtsp_debug, "hicomex-rtsp", 0, "hicomex RTSP client");
}

RtspCamera::~RtspCamera() {
  if (timer_) g_source_remove(timer_);
}

void RtspCamera::build_analysis_part() {
  const std::string n = name();
  GstElement* queue = make("queue", n + "-in");
  GstElement* analyzer = make("hicomex", n + "-analyzer");
  if (config_.drop_late) {
    // A live camera outpacing the analyzer: keep the newest frames.
    g_object_set(queue, "leaky", 2, "max-size-buffers", 2u, "max-size-bytes", 0u, "max-size-time", (guint64)0, nullptr);
  } else {
    g_object_set(queue, "max-size-buffers", 50u, "max-size-bytes", 0u, "max-size-time", (guint64)0, nullptr);
  }
  for (const auto& [key, value] : config_.analyzer_props) set_arg(analyzer, key, value);
  gst_bin_add_many(GST_BIN(pipeline_), queue, analyzer, nullptr);
  bool linked = gst_element_link(queue, analyzer);
  // The exporters: a JSON-lines file and/or an MQTT broker. `exporter` is the
  // last element of the analysis chain, whose output is counted.
  GstElement* exporter = analyzer;
  if (!config_.jsonl.empty()) {
    GstElement* file = make("hicomexexport", n + "-export");
    g_object_set(file, "location", config_.jsonl.c_str(), "overwrite", (gboolean)config_.overwrite, nullptr);
    set_arg(file, "format", "jsonl");
    gst_bin_add(GST_BIN(pipeline_), file);
    linked = linked && gst_element_link(exporter, file);
    exporter = file;
  }
  if (!config_.mqtt.empty()) {
    GstElement* mqtt = make("hicomexexport", n + "-mqtt");
    g_object_set(mqtt, "location", config_.mqtt.c_str(), nullptr);
    gst_bin_add(GST_BIN(pipeline_), mqtt);
    linked = linked && gst_element_link(exporter, mqtt);
    exporter = mqtt;
  }
  if (config_.record.empty()) {
    GstElement* sink = make("fakesink", n + "-sink");
    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    gst_bin_add(GST_BIN(pipeline_), sink);
    linked = linked && gst_element_link(exporter, sink);
  } else {
    GstElement* overlay = make("hicomexoverlay", n + "-overlay");
    GstElement* convert = make("videoconvert", n + "-convert");
    GstElement* encoder = make("x264enc", n + "-encoder");
    GstElement* parse = make("h264parse", n + "-parse");
    GstElement* mux = make("mp4mux", n + "-mux");
    GstElement* sink = make("filesink", n + "-file");
    set_arg(encoder, "tune", "zerolatency");
    set_arg(encoder, "speed-preset", "veryfast");
    // Fragmented: a recording cut by a crash still plays up to the last fragment.
    g_object_set(mux, "fragment-duration", 1000u, nullptr);
    g_object_set(sink, "location", config_.record.c_str(), "sync", FALSE, "async", FALSE, nullptr);
    gst_bin_add_many(GST_BIN(pipeline_), overlay, convert, encoder, parse, mux, sink, nullptr);
    linked = linked && gst_element_link_many(exporter, overlay, convert, encoder, parse, mux, sink, nullptr);
  }
  if (!linked) throw std::runtime_error("cannot link the analysis part of " + n);
  GstPad* out = gst_element_get_static_pad(exporter, "src");
  gst_pad_add_probe(out, GST_PAD_PROBE_TYPE_BUFFER, on_analysed, this, nullptr);
  gst_object_unref(out);
  analysis_in_ = queue;
}

void RtspCamera::connect() {
  const std::string n = name() + "-source" + std::to_string(reconnects_);
  GstElement* bin = gst_bin_new(n.c_str());
  // The bin completes its own asynchronous state changes: a source torn down
  // half-way (camera unreachable) must not leave the pipeline waiting for it.
  g_object_set(bin, "async-handling", TRUE, nullptr);
  GstElement* decode = make("uridecodebin", n + "-decode");
  GstElement* convert = make("videoconvert", n + "-convert");
  g_object_set(decode, "uri", config_.url.c_str(), nullptr);
  // Audio stays encoded and goes to a fakesink: only video is analysed.
  GstCaps* raw_video = gst_caps_from_string("video/x-raw");
  g_object_set(decode, "caps", raw_video, nullptr);
  gst_caps_unref(raw_video);
  gst_bin_add_many(GST_BIN(bin), decode, convert, nullptr);
  GstPad* target = gst_element_get_static_pad(convert, "src");
  GstPad* ghost = gst_ghost_pad_new("src", target);
  gst_object_unref(target);
  gst_element_add_pad(bin, ghost);
  g_signal_connect(decode, "pad-added", G_CALLBACK(on_pad_added), this);
  g_signal_connect(decode, "source-setup", G_CALLBACK(on_source_setup), this);

  stats_.got_frame = false;
  stats_.eos = false;
  stats_.last_data_us = now_us();
  attempt_us_ = now_us();
  gst_bin_add(GST_BIN(pipeline_), bin);
  GstPad* in = gst_element_get_static_pad(analysis_in_, "sink");
  gst_pad_link(ghost, in);
  gst_object_unref(in);
  gst_pad_add_probe(ghost, (GstPadProbeType)(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    on_source_data, this, nullptr);
  source_ = bin;
  state_ = State::Connecting;
  gst_element_set_state(bin, GST_STATE_PLAYING);
}

void RtspCamera::on_source_setup(GstElement*, GstElement* source, gpointer data) {
  auto* self = static_cast<RtspCamera*>(data);
  GstElementFactory* f = gst_element_get_factory(source);
  if (!f || g_strcmp0(GST_OBJECT_NAME(f), "rtspsrc") != 0) return;
  const CameraConfig& c = self->config_;
  std::string protocols = c.protocols == "auto" ? "udp+udp-mcast+tcp" : c.protocols;
  gst_util_set_object_arg(G_OBJECT(source), "protocols", protocols.c_str());
  g_object_set(source, "latency", (guint)c.latency_ms, "tcp-timeout", (guint64)(c.timeout_s * 1e6), nullptr);
}

void RtspCamera::on_pad_added(GstElement* decode, GstPad* pad, gpointer data) {
  auto* self = static_cast<RtspCamera*>(data);
  GstElement* bin = GST_ELEMENT(gst_element_get_parent(decode));
  if (!bin) return;
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (!caps) caps = gst_pad_query_caps(pad, nullptr);
  const bool video = caps && gst_caps_get_size(caps) > 0 &&
                     g_str_has_prefix(gst_structure_get_name(gst_caps_get_structure(caps, 0)), "video/x-raw");
  if (caps) gst_caps_unref(caps);
  GstElement* convert = gst_bin_get_by_name(GST_BIN(bin), (std::string(GST_OBJECT_NAME(bin)) + "-convert").c_str());
  GstPad* sink = convert ? gst_element_get_static_pad(convert, "sink") : nullptr;
  if (video && sink && !gst_pad_is_linked(sink)) {
    gst_pad_link(pad, sink);
  } else {
    GstElement* fake = gst_element_factory_make("fakesink", nullptr);
    g_object_set(fake, "sync", FALSE, "async", FALSE, nullptr);
    gst_bin_add(GST_BIN(bin), fake);
    gst_element_sync_state_with_parent(fake);
    GstPad* fsink = gst_element_get_static_pad(fake, "sink");
    gst_pad_link(pad, fsink);
    gst_object_unref(fsink);
  }
  if (sink) gst_object_unref(sink);
  if (convert) gst_object_unref(convert);
  gst_object_unref(bin);
  (void)self;
}

GstPadProbeReturn RtspCamera::on_source_data(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<RtspCamera*>(data);
  CameraStats& s = self->stats_;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
    // Timestamps are the pipeline's running time, which goes on across
    // reconnects; a frame not newer than the last one let through would be a
    // duplicate row.
    if (GST_BUFFER_PTS_IS_VALID(buf)) {
      const auto pts = static_cast<std::int64_t>(GST_BUFFER_PTS(buf));
      if (pts <= s.last_pts.load()) {
        GST_INFO("%s: dropping frame at %" GST_TIME_FORMAT ", not after the last one at %" GST_TIME_FORMAT,
                 self->name().c_str(), GST_TIME_ARGS(pts), GST_TIME_ARGS(s.last_pts.load()));
        return GST_PAD_PROBE_DROP;
      }
      if (!s.got_frame)
        GST_INFO("%s: first frame of this connection at %" GST_TIME_FORMAT, self->name().c_str(), GST_TIME_ARGS(pts));
      s.last_pts = pts;
    }
    s.last_data_us = now_us();
    s.got_frame = true;
    return GST_PAD_PROBE_OK;
  }
  GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
  switch (GST_EVENT_TYPE(ev)) {
    case GST_EVENT_EOS:
      // The camera ended its stream: reconnect instead of ending ours.
      s.eos = true;
      return GST_PAD_PROBE_DROP;
    case GST_EVENT_STREAM_START:
      // To the analysis part, every connection is the same stream.
      if (self->stream_started_) return GST_PAD_PROBE_DROP;
      self->stream_started_ = true;
      return GST_PAD_PROBE_OK;
    case GST_EVENT_SEGMENT: {
      const GstSegment* seg = nullptr;
      gst_event_parse_segment(ev, &seg);
      GST_INFO("%s: segment start %" GST_TIME_FORMAT " base %" GST_TIME_FORMAT, self->name().c_str(),
               GST_TIME_ARGS(seg->start), GST_TIME_ARGS(seg->base));
      if (seg->format != GST_FORMAT_TIME) return GST_PAD_PROBE_OK;
      if (!self->have_first_segment_) {
        self->first_segment_ = *seg;
        self->have_first_segment_ = true;
        return GST_PAD_PROBE_OK;
      }
      // Each connection starts its stream time at 0; carry on from the first
      // connection's instead, so the exported timestamps keep increasing.
      // Running time (what the pipeline syncs on) stays as rtspsrc made it.
      GstSegment next = *seg;
      const GstSegment& first = self->first_segment_;
      const guint64 rt = gst_segment_to_running_time(seg, GST_FORMAT_TIME, seg->start);
      if (GST_CLOCK_TIME_IS_VALID(rt) && rt >= first.base) next.time = rt - first.base + first.time;
      GST_PAD_PROBE_INFO_DATA(info) = gst_event_new_segment(&next);
      gst_event_unref(ev);
      return GST_PAD_PROBE_OK;
    }
    default: return GST_PAD_PROBE_OK;
  }
}

GstPadProbeReturn RtspCamera::on_analysed(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<RtspCamera*>(data);
  GstHicomexMeta* meta = gst_buffer_get_hicomex_meta(GST_PAD_PROBE_INFO_BUFFER(info));
  self->stats_.frames++;
  if (meta) self->stats_.faces += meta->n_faces;
  return GST_PAD_PROBE_OK;
}

bool RtspCamera::poll() {
  const double since_data = (now_us() - stats_.last_data_us) / 1e6;
  const double since_attempt = (now_us() - attempt_us_) / 1e6;
  if (state_ == State::Connecting) {
    if (stats_.got_frame) {
      state_ = State::Streaming;
      std::fprintf(stderr, "[hicomex-rtsp] %s: %s %s\n", name().c_str(),
                   ever_streamed_ ? "reconnected to" : "streaming from", config_.url.c_str());
      ever_streamed_ = true;
      failures_ = 0;
      backoff_s_ = config_.backoff_initial_s;
    } else if (stats_.eos) {
      schedule_reconnect("the stream ended before its first frame");
    } else if (since_attempt > config_.timeout_s) {
      schedule_reconnect("no frame within " + std::to_string((int)config_.timeout_s) + " s");
    }
  } else if (state_ == State::Streaming) {
    if (stats_.eos)
      schedule_reconnect("the camera ended the stream");
    else if (since_data > config_.timeout_s)
      schedule_reconnect("no frame for " + std::to_string((int)config_.timeout_s) + " s");
  }
  return state_ != State::Failed;
}

bool RtspCamera::owns_message(GstMessage* msg) const {
  return source_ && GST_MESSAGE_SRC(msg) &&
         (GST_MESSAGE_SRC(msg) == GST_OBJECT(source_) ||
          gst_object_has_as_ancestor(GST_MESSAGE_SRC(msg), GST_OBJECT(source_)));
}

namespace {

// rtspsrc says only "Could not open resource" when nothing listens: find out
// what the network says, so the message can name the real cause.
std::string probe_rtsp_server(const std::string& url) {
  std::string rest = url;
  const auto scheme = rest.find("://");
  if (scheme == std::string::npos) return {};
  rest = rest.substr(scheme + 3);
  rest = rest.substr(0, rest.find('/'));
  if (const auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  std::string host = rest, port = "554";
  if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
    const auto close = rest.find(']');
    if (close == std::string::npos) return {};
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || !found)
    return "cannot resolve the host '" + host + "'";
  std::string result;
  const int fd = socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK, found->ai_protocol);
  if (fd >= 0) {
    if (connect(fd, found->ai_addr, found->ai_addrlen) != 0 && errno == EINPROGRESS) {
      pollfd pfd{fd, POLLOUT, 0};
      if (poll(&pfd, 1, 1000) == 1) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        errno = err;
      } else {
        errno = ETIMEDOUT;
      }
    } else {
      errno = 0;
    }
    if (errno == ECONNREFUSED)
      result = "connection refused by " + host + ":" + port + " (no RTSP server listens there)";
    else if (errno == ETIMEDOUT || errno == EHOSTUNREACH || errno == ENETUNREACH)
      result = "no answer from " + host + ":" + port + " (" + std::strerror(errno) + ")";
    close(fd);
  }
  freeaddrinfo(found);
  return result;
}

}  // namespace

void RtspCamera::on_source_error(const std::string& what) {
  if (state_ == State::Connecting) {
    const std::string cause = probe_rtsp_server(config_.url);
    if (!cause.empty()) {
      schedule_reconnect(cause + "; " + what);
      return;
    }
  }
  if (state_ == State::Connecting || state_ == State::Streaming) schedule_reconnect(what);
}

void RtspCamera::teardown_source() {
  if (!source_) return;
  GstElement* bin = source_;
  source_ = nullptr;
  // NULL joins the streaming threads; a push blocked in the queue returns as
  // the analyzer drains it.
  gst_element_set_locked_state(bin, TRUE);
  gst_element_set_state(bin, GST_STATE_NULL);
  GstPad* ghost = gst_element_get_static_pad(bin, "src");
  GstPad* in = gst_element_get_static_pad(analysis_in_, "sink");
  gst_pad_unlink(ghost, in);
  gst_object_unref(in);
  gst_object_unref(ghost);
  gst_bin_remove(GST_BIN(pipeline_), bin);
}

void RtspCamera::schedule_reconnect(const std::string& why) {
  const bool was_streaming = state_ == State::Streaming;
  teardown_source();
  failures_ = was_streaming ? 1 : failures_ + 1;
  const int limit = ever_streamed_ ? config_.max_retries : config_.initial_retries;
  if (limit >= 0 && failures_ > limit) {
    state_ = State::Failed;
    std::fprintf(stderr, "[hicomex-rtsp] %s: giving up on %s after %d attempt%s: %s\n", name().c_str(),
                 config_.url.c_str(), failures_, failures_ == 1 ? "" : "s", why.c_str());
    return;
  }
  state_ = State::Waiting;
  if (was_streaming)
    std::fprintf(stderr,
                 "[hicomex-rtsp] %s: lost the camera after frame %lld (%s); "
                 "reconnecting in %.1f s\n",
                 name().c_str(), (long long)stats_.frames.load(), why.c_str(), backoff_s_);
  else
    std::fprintf(stderr, "[hicomex-rtsp] %s: cannot connect (%s); reconnecting in %.1f s\n", name().c_str(),
                 why.c_str(), backoff_s_);
  timer_ = g_timeout_add((guint)(backoff_s_ * 1000), on_reconnect_timer, this);
  backoff_s_ = std::min(backoff_s_ * 2, config_.backoff_max_s);
}

gboolean RtspCamera::on_reconnect_timer(gpointer data) {
  auto* self = static_cast<RtspCamera*>(data);
  self->timer_ = 0;
  self->reconnects_++;
  self->connect();
  return G_SOURCE_REMOVE;
}

void RtspCamera::stop() {
  if (timer_) {
    g_source_remove(timer_);
    timer_ = 0;
  }
  teardown_source();
  if (state_ != State::Failed) state_ = State::Stopped;
  if (!analysis_in_) return;
  GstPad* in = gst_element_get_static_pad(analysis_in_, "sink");
  if (!stream_started_) {
    // Never streamed: events must still come in order.
    gst_pad_send_event(in, gst_event_new_stream_start((name() + "-none").c_str()));
    stream_started_ = true;
  }
  gst_pad_send_event(in, gst_event_new_eos());
  gst_object_unref(in);
}

}  // namespace hicomex::pipelines
