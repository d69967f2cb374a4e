// MqttPublisher: sends result records to an MQTT broker (libmosquitto) from its
// own thread, so a slow or absent broker never blocks the streaming thread.
//
// Messages wait in a bounded queue until the broker has them (QoS 1: its
// PUBACK; QoS 0: written to the socket). A broker outage loses nothing within
// the bounds: the queue keeps growing up to `queue_limit` messages and
// `queue_max_age_s` seconds, and after a reconnect (exponential backoff) every
// message still queued is sent again, oldest first. What had to go is counted
// (`dropped`) and reported through the event callback. A message the broker
// got but whose PUBACK was lost in the outage is sent twice (MQTT's "at least
// once"); both copies are the same record.
//
// Plain C++ and libmosquitto: no GStreamer, so it is tested on its own.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

struct mosquitto;

namespace hicomex::gst {

/// mqtt://[user[:password]@]host[:port]/topic (mqtts:// for TLS, port 8883).
struct MqttUrl {
  bool tls = false;
  std::string host;
  int port = 1883;
  std::string topic;
  std::string username;
  std::string password;

  /// True for a location that names a broker (mqtt:// or mqtts://).
  static bool is_mqtt(const std::string& location);
  /// Throws std::invalid_argument naming the (redacted) URL and what is wrong.
  static MqttUrl parse(const std::string& url);
  /// The URL without credentials: for messages and logs.
  std::string redacted() const;
};

struct MqttOptions {
  MqttUrl url;
  int qos = 1;            ///< 0 or 1
  std::string client_id;  ///< empty: the library makes a random one
  int keep_alive_s = 30;
  std::string username;             ///< overrides the URL's user
  std::string password;             ///< overrides the URL's password; never logged
  std::string ca_file;              ///< TLS trust anchors; setting it turns TLS on
  std::size_t queue_limit = 10000;  ///< messages kept while the broker is away
  double queue_max_age_s = 0.0;     ///< 0: no age limit
  double backoff_min_s = 0.25;      ///< first reconnect delay, doubled up to max
  double backoff_max_s = 5.0;
};

struct MqttStats {
  std::uint64_t published = 0;   ///< delivered to the broker
  std::uint64_t dropped = 0;     ///< lost to the queue bounds or to close()
  std::uint64_t queued = 0;      ///< waiting now (in flight included)
  std::uint64_t reconnects = 0;  ///< successful connections after the first
  bool connected = false;
  std::string last_error;  ///< why the last connection failed or ended
};

class MqttPublisher {
 public:
  enum class EventKind {
    Connected,     ///< first connection
    Reconnected,   ///< after an outage; `count` = messages queued meanwhile
    Disconnected,  ///< the connection ended; `text` says why
    Dropped,       ///< `count` messages dropped since the last such event
    Refused,       ///< the broker refused us (credentials): no retry
  };
  struct Event {
    EventKind kind;
    std::uint64_t count = 0;
    std::string text;
  };
  using EventFn = std::function<void(const Event&)>;

  /// Starts the network thread; it connects (and reconnects) by itself.
  /// Throws std::invalid_argument for options that can never work (QoS,
  /// an unreadable CA file), naming them.
  MqttPublisher(MqttOptions options, EventFn on_event);
  ~MqttPublisher();  ///< close(0)
  MqttPublisher(const MqttPublisher&) = delete;
  MqttPublisher& operator=(const MqttPublisher&) = delete;

  /// Waits up to `timeout_s` for the first connection. Returns true when
  /// connected; false when the time ran out or the broker refused us, with
  /// the reason in `why`.
  bool wait_connected(double timeout_s, std::string* why);

  /// Queues one message; never blocks on the network. When the queue is full
  /// the oldest message not yet handed to the broker is dropped (counted).
  void publish(std::string topic, std::string payload);

  /// Waits until every queued message reached the broker, at most `timeout_s`.
  /// Returns how many are still queued.
  std::size_t drain(double timeout_s);

  /// drain(timeout_s), then stops the thread and disconnects; what is still
  /// queued is counted as dropped (and reported). Idempotent.
  void close(double timeout_s);

  MqttStats stats() const;
  const MqttOptions& options() const { return options_; }

 private:
  struct Message {
    std::string topic;
    std::string payload;
    double enqueued_s = 0.0;  // steady clock
    int mid = 0;              // 0: not handed to the library yet
  };

  void run();
  bool connect_once();                           // network thread
  void drop_connection(const std::string& why);  // network thread
  void send_pending();                           // network thread
  void expire_old(double now_s);                 // with lock_ held
  void emit(const Event& e);
  void count_dropped(std::uint64_t n);  // with lock_ held

  static void on_connect(struct mosquitto*, void* self, int rc);
  static void on_disconnect(struct mosquitto*, void* self, int rc);
  static void on_publish(struct mosquitto*, void* self, int mid);

  MqttOptions options_;
  EventFn on_event_;

  mutable std::mutex lock_;
  std::condition_variable changed_;  // queue shrank, connection state changed, stop
  std::deque<Message> queue_;        // not handed to the library yet, oldest first
  std::size_t inflight_n_ = 0;       // inflight_.size(), for other threads
  MqttStats stats_;
  std::uint64_t dropped_unreported_ = 0;
  std::uint64_t queued_while_down_ = 0;
  bool stop_ = false;
  bool refused_ = false;
  bool ever_connected_ = false;

  // Network thread only (the library's callbacks run there too).
  struct mosquitto* mosq_ = nullptr;
  std::deque<Message> inflight_;  // handed to the library, awaiting confirmation
  std::vector<int> early_acks_;   // confirmations seen before publish() returned
  bool session_up_ = false;       // CONNACK accepted on the current client
  bool lost_ = false;             // the library reported the connection gone
  int connack_rc_ = -1;           // -1: no CONNACK yet
  double connecting_since_ = 0.0;
  std::thread thread_;
};

}  // namespace hicomex::gst
