#include "mqtt_publisher.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <unistd.h>

#include <mosquitto.h>

namespace hicomex::gst {
namespace {

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Messages handed to the library and not yet confirmed; enough to keep a
// loopback or LAN link busy, few enough that a reconnect re-sends little.
constexpr std::size_t kMaxInflight = 20;
// A connection that has not been accepted after this long is given up.
constexpr double kConnackTimeoutS = 10.0;

std::string library_error(int rc, int err) {
  if (rc == MOSQ_ERR_ERRNO) return std::strerror(err);
  if (rc == MOSQ_ERR_EAI) return "cannot resolve the host name";
  return mosquitto_strerror(rc);
}

}  // namespace

bool MqttUrl::is_mqtt(const std::string& location) {
  return location.rfind("mqtt://", 0) == 0 || location.rfind("mqtts://", 0) == 0;
}

std::string MqttUrl::redacted() const {
  std::string host_part = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return std::string(tls ? "mqtts://" : "mqtt://") + host_part + ":" + std::to_string(port) + "/" + topic;
}

MqttUrl MqttUrl::parse(const std::string& url) {
  MqttUrl u;
  std::string rest;
  if (url.rfind("mqtt://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("mqtts://", 0) == 0) {
    rest = url.substr(8);
    u.tls = true;
    u.port = 8883;
  } else {
    throw std::invalid_argument("'" + url + "' is not an MQTT URL (mqtt://HOST[:PORT]/TOPIC)");
  }
  const std::size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.topic = slash == std::string::npos ? "" : rest.substr(slash + 1);
  std::string shown = std::string(u.tls ? "mqtts://" : "mqtt://");
  const std::size_t at = authority.rfind('@');
  if (at != std::string::npos) {
    const std::string cred = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const std::size_t colon = cred.find(':');
    u.username = cred.substr(0, colon);
    if (colon != std::string::npos) u.password = cred.substr(colon + 1);
  }
  shown += authority + "/" + u.topic;  // never the credentials
  std::string port;
  if (!authority.empty() && authority[0] == '[') {  // [IPv6]:port
    const std::size_t close = authority.find(']');
    if (close == std::string::npos)
      throw std::invalid_argument("MQTT URL '" + shown + "': unterminated '[' in the host");
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':')
        throw std::invalid_argument("MQTT URL '" + shown + "': expected ':PORT' after the host");
      port = authority.substr(close + 2);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) throw std::invalid_argument("MQTT URL '" + shown + "' has no host");
  if (!port.empty() || authority.back() == ':') {
    char* end = nullptr;
    errno = 0;
    const long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || errno != 0 || p < 1 || p > 65535)
      throw std::invalid_argument("MQTT URL '" + shown + "': port '" + port + "' is not a number from 1 to 65535");
    u.port = static_cast<int>(p);
  }
  if (u.topic.empty()) throw std::invalid_argument("MQTT URL '" + shown + "' has no topic (mqtt://HOST[:PORT]/TOPIC)");
  if (u.topic.find_first_of("+#") != std::string::npos)
    throw std::invalid_argument("MQTT URL '" + shown + "': a topic to publish to cannot hold the wildcards + or #");
  return u;
}

MqttPublisher::MqttPublisher(MqttOptions options, EventFn on_event)
    : options_(std::move(options)), on_event_(std::move(on_event)) {
  if (options_.qos != 0 && options_.qos != 1)
    throw std::invalid_argument("MQTT QoS " + std::to_string(options_.qos) + " is not supported (use 0 or 1)");
  if (!options_.ca_file.empty() && ::access(options_.ca_file.c_str(), R_OK) != 0)
    throw std::invalid_argument("MQTT CA file '" + options_.ca_file + "' cannot be read: " + std::strerror(errno));
  if (options_.queue_limit == 0) options_.queue_limit = 1;
  static const int init = mosquitto_lib_init();
  (void)init;
  thread_ = std::thread([this] { run(); });
}

MqttPublisher::~MqttPublisher() { close(0.0); }

void MqttPublisher::emit(const Event& e) {
  if (on_event_) on_event_(e);
}

void MqttPublisher::count_dropped(std::uint64_t n) {
  stats_.dropped += n;
  dropped_unreported_ += n;
}

bool MqttPublisher::wait_connected(double timeout_s, std::string* why) {
  std::unique_lock<std::mutex> lock(lock_);
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                            std::chrono::duration<double>(std::max(0.0, timeout_s)));
  changed_.wait_until(lock, until, [&] { return stats_.connected || refused_ || stop_; });
  if (stats_.connected) return true;
  if (why) *why = stats_.last_error.empty() ? "no answer" : stats_.last_error;
  return false;
}

void MqttPublisher::publish(std::string topic, std::string payload) {
  std::lock_guard<std::mutex> lock(lock_);
  if (stop_) {
    count_dropped(1);
    return;
  }
  if (queue_.size() + inflight_n_ >= options_.queue_limit) {
    // Full: the oldest message not yet handed over goes; if all are in flight,
    // the new one does.
    count_dropped(1);
    if (queue_.empty()) return;
    queue_.pop_front();
  }
  Message m;
  m.topic = std::move(topic);
  m.payload = std::move(payload);
  m.enqueued_s = now_s();
  queue_.push_back(std::move(m));
  if (!stats_.connected) ++queued_while_down_;
  stats_.queued = queue_.size() + inflight_n_;
}

std::size_t MqttPublisher::drain(double timeout_s) {
  std::unique_lock<std::mutex> lock(lock_);
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                            std::chrono::duration<double>(std::max(0.0, timeout_s)));
  changed_.wait_until(lock, until, [&] { return (queue_.empty() && inflight_n_ == 0) || refused_; });
  return queue_.size() + inflight_n_;
}

void MqttPublisher::close(double timeout_s) {
  if (!thread_.joinable()) return;
  drain(timeout_s);
  {
    std::lock_guard<std::mutex> lock(lock_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
  std::uint64_t unreported = 0;
  {
    std::lock_guard<std::mutex> lock(lock_);
    count_dropped(queue_.size() + inflight_.size());
    queue_.clear();
    inflight_.clear();
    inflight_n_ = 0;
    stats_.queued = 0;
    stats_.connected = false;
    unreported = dropped_unreported_;
    dropped_unreported_ = 0;
  }
  if (unreported > 0) emit({EventKind::Dropped, unreported, "closed"});
}

MqttStats MqttPublisher::stats() const {
  std::lock_guard<std::mutex> lock(lock_);
  return stats_;
}

void MqttPublisher::on_connect(struct mosquitto*, void* self, int rc) {
  static_cast<MqttPublisher*>(self)->connack_rc_ = rc;
}

void MqttPublisher::on_disconnect(struct mosquitto*, void* self, int) {
  static_cast<MqttPublisher*>(self)->lost_ = true;
}

void MqttPublisher::on_publish(struct mosquitto*, void* self, int mid) {
  auto* me = static_cast<MqttPublisher*>(self);
  auto it = std::find_if(me->inflight_.begin(), me->inflight_.end(), [mid](const Message& m) { return m.mid == mid; });
  if (it == me->inflight_.end()) {
    me->early_acks_.push_back(mid);  // confirmed before publish() returned
    return;
  }
  me->inflight_.erase(it);
  {
    std::lock_guard<std::mutex> lock(me->lock_);
    me->inflight_n_ = me->inflight_.size();
    ++me->stats_.published;
    me->stats_.queued = me->queue_.size() + me->inflight_n_;
  }
  me->changed_.notify_all();
}

bool MqttPublisher::connect_once() {
  mosq_ = mosquitto_new(options_.client_id.empty() ? nullptr : options_.client_id.c_str(), true, this);
  if (!mosq_) {
    std::lock_guard<std::mutex> lock(lock_);
    stats_.last_error = "cannot create an MQTT client (client id too long?)";
    return false;
  }
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_connect_callback_set(mosq_, &MqttPublisher::on_connect);
  mosquitto_disconnect_callback_set(mosq_, &MqttPublisher::on_disconnect);
  mosquitto_publish_callback_set(mosq_, &MqttPublisher::on_publish);
  const std::string& user = options_.username.empty() ? options_.url.username : options_.username;
  const std::string& pass = options_.password.empty() ? options_.url.password : options_.password;
  if (!user.empty()) mosquitto_username_pw_set(mosq_, user.c_str(), pass.c_str());
  if (options_.url.tls || !options_.ca_file.empty()) {
    const int rc = mosquitto_tls_set(mosq_, options_.ca_file.empty() ? nullptr : options_.ca_file.c_str(),
                                     options_.ca_file.empty() ? "/etc/ssl/certs" : nullptr, nullptr, nullptr, nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
      std::lock_guard<std::mutex> lock(lock_);
      stats_.last_error = "TLS set-up failed: " + std::string(mosquitto_strerror(rc));
      mosquitto_destroy(mosq_);
      mosq_ = nullptr;
      return false;
    }
  }
  session_up_ = false;
  lost_ = false;
  connack_rc_ = -1;
  connecting_since_ = now_s();
  errno = 0;
  const int rc = mosquitto_connect(mosq_, options_.url.host.c_str(), options_.url.port, options_.keep_alive_s);
  if (rc != MOSQ_ERR_SUCCESS) {
    const int err = errno;
    {
      std::lock_guard<std::mutex> lock(lock_);
      stats_.last_error = library_error(rc, err);
    }
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
    return false;
  }
  return true;
}

void MqttPublisher::drop_connection(const std::string& why) {
  const bool was_up = session_up_;
  if (mosq_) {
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
  }
  session_up_ = false;
  early_acks_.clear();
  {
    // Whatever was in flight goes back to the front, in order, to be sent again.
    std::lock_guard<std::mutex> lock(lock_);
    for (auto it = inflight_.rbegin(); it != inflight_.rend(); ++it) {
      it->mid = 0;
      queue_.push_front(std::move(*it));
    }
    inflight_.clear();
    inflight_n_ = 0;
    stats_.connected = false;
    stats_.last_error = why;
    queued_while_down_ = queue_.size();
  }
  changed_.notify_all();
  if (was_up) emit({EventKind::Disconnected, 0, why});
}

void MqttPublisher::send_pending() {
  while (inflight_.size() < kMaxInflight) {
    Message m;
    {
      std::lock_guard<std::mutex> lock(lock_);
      if (queue_.empty()) return;
      m = std::move(queue_.front());
      queue_.pop_front();
      inflight_n_ = inflight_.size() + 1;
    }
    inflight_.push_back(std::move(m));
    Message& sent = inflight_.back();
    const int topic_mid_rc =
        mosquitto_publish(mosq_, &sent.mid, sent.topic.c_str(), static_cast<int>(sent.payload.size()),
                          sent.payload.data(), options_.qos, false);
    if (topic_mid_rc != MOSQ_ERR_SUCCESS) {
      // Not taken (the connection is going): it stays queued; the loop notices.
      lost_ = true;
      return;
    }
    auto early = std::find(early_acks_.begin(), early_acks_.end(), sent.mid);
    if (early != early_acks_.end()) {
      early_acks_.erase(early);
      on_publish(mosq_, this, sent.mid);
    }
  }
}

void MqttPublisher::expire_old(double now) {
  if (options_.queue_max_age_s <= 0.0) return;
  std::uint64_t n = 0;
  while (!queue_.empty() && now - queue_.front().enqueued_s > options_.queue_max_age_s) {
    queue_.pop_front();
    ++n;
  }
  if (n > 0) {
    count_dropped(n);
    stats_.queued = queue_.size() + inflight_n_;
  }
}

void MqttPublisher::run() {
  double backoff = options_.backoff_min_s;
  double next_attempt = 0.0;
  double last_drop_report = 0.0;
  for (;;) {
    const double now = now_s();
    std::uint64_t to_report = 0;
    {
      std::unique_lock<std::mutex> lock(lock_);
      if (stop_) break;
      expire_old(now);
      if (dropped_unreported_ > 0 && now - last_drop_report >= 1.0) {
        to_report = dropped_unreported_;
        dropped_unreported_ = 0;
        last_drop_report = now;
      }
      if (!mosq_ && (refused_ || now < next_attempt)) {
        // Broker away (or refused us): sleep until the next attempt or stop.
        const double wait = refused_ ? 0.5 : std::min(0.5, next_attempt - now);
        changed_.wait_for(lock, std::chrono::duration<double>(wait));
        if (to_report == 0) continue;
      }
    }
    if (to_report > 0) emit({EventKind::Dropped, to_report, ""});
    if (!mosq_) {
      if (refused_ || now_s() < next_attempt) continue;
      if (!connect_once()) {
        next_attempt = now_s() + backoff;
        backoff = std::min(backoff * 2.0, options_.backoff_max_s);
        changed_.notify_all();
        continue;
      }
    }
    const int rc = mosquitto_loop(mosq_, 20, 1);
    if (connack_rc_ > 0) {
      // Refused at CONNACK. Bad credentials or no authorisation will not
      // change by retrying; the rest (server unavailable...) may.
      const std::string why =
          std::string("the broker refused the connection: ") + mosquitto_connack_string(connack_rc_);
      const bool fatal = connack_rc_ == 4 || connack_rc_ == 5;
      connack_rc_ = -1;
      drop_connection(why);
      if (fatal) {
        {
          std::lock_guard<std::mutex> lock(lock_);
          refused_ = true;
        }
        changed_.notify_all();
        emit({EventKind::Refused, 0, why});
      } else {
        next_attempt = now_s() + backoff;
        backoff = std::min(backoff * 2.0, options_.backoff_max_s);
      }
      continue;
    }
    if (connack_rc_ == 0 && !session_up_) {
      session_up_ = true;
      backoff = options_.backoff_min_s;
      std::uint64_t meanwhile = 0;
      bool again = false;
      {
        std::lock_guard<std::mutex> lock(lock_);
        stats_.connected = true;
        stats_.last_error.clear();
        again = ever_connected_;
        if (again) ++stats_.reconnects;
        ever_connected_ = true;
        meanwhile = queued_while_down_;
        queued_while_down_ = 0;
      }
      changed_.notify_all();
      emit({again ? EventKind::Reconnected : EventKind::Connected, meanwhile, ""});
    }
    if (rc != MOSQ_ERR_SUCCESS || lost_) {
      const int err = errno;
      drop_connection(rc != MOSQ_ERR_SUCCESS ? library_error(rc, err) : std::string("the connection was lost"));
      next_attempt = now_s() + backoff;
      backoff = std::min(backoff * 2.0, options_.backoff_max_s);
      continue;
    }
    if (!session_up_ && now_s() - connecting_since_ > kConnackTimeoutS) {
      drop_connection("no answer to CONNECT within " + std::to_string(static_cast<int>(kConnackTimeoutS)) + " s");
      next_attempt = now_s() + backoff;
      continue;
    }
    if (session_up_) send_pending();
  }
  if (mosq_) {
    if (session_up_) {
      mosquitto_disconnect(mosq_);
      mosquitto_loop(mosq_, 50, 1);
    }
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
  }
}

}  // namespace hicomex::gst
