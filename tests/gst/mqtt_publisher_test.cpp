// MqttPublisher and MqttUrl without a broker: URL grammar, redaction, the queue
// bounds and drop counting while the broker is away, clear connection errors.
// The element against a real broker is tests/mqtt/mqtt_test.py.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "mqtt_publisher.h"

using hicomex::gst::MqttOptions;
using hicomex::gst::MqttPublisher;
using hicomex::gst::MqttUrl;

namespace {

// A loopback port nobody listens on (bound, then closed).
int closed_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::string parse_error(const std::string& url) {
  try {
    MqttUrl::parse(url);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(MqttUrl, ParsesHostPortTopicAndCredentials) {
  MqttUrl u = MqttUrl::parse("mqtt://alice:pw@broker.lan:1999/lab/cam1");
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.host, "broker.lan");
  EXPECT_EQ(u.port, 1999);
  EXPECT_EQ(u.topic, "lab/cam1");
  EXPECT_EQ(u.username, "alice");
  EXPECT_EQ(u.password, "pw");
  EXPECT_EQ(u.redacted(), "mqtt://broker.lan:1999/lab/cam1");

  MqttUrl d = MqttUrl::parse("mqtts://broker/t");
  EXPECT_TRUE(d.tls);
  EXPECT_EQ(d.port, 8883);
  EXPECT_EQ(MqttUrl::parse("mqtt://h/t").port, 1883);

  MqttUrl v6 = MqttUrl::parse("mqtt://[::1]:1884/a");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 1884);
  EXPECT_EQ(v6.redacted(), "mqtt://[::1]:1884/a");

  EXPECT_TRUE(MqttUrl::is_mqtt("mqtt://h/t"));
  EXPECT_TRUE(MqttUrl::is_mqtt("mqtts://h/t"));
  EXPECT_FALSE(MqttUrl::is_mqtt("/tmp/out.csv"));
  EXPECT_FALSE(MqttUrl::is_mqtt("file:///tmp/out.csv"));
}

TEST(MqttUrl, BadUrlsNameWhatIsWrongButNeverThePassword) {
  EXPECT_NE(parse_error("mqtt://h:0/t").find("port '0'"), std::string::npos);
  EXPECT_NE(parse_error("mqtt://h:99999/t").find("port '99999'"), std::string::npos);
  EXPECT_NE(parse_error("mqtt://h:x/t").find("port 'x'"), std::string::npos);
  EXPECT_NE(parse_error("mqtt://h:/t").find("port ''"), std::string::npos);
  EXPECT_NE(parse_error("mqtt://h/").find("no topic"), std::string::npos);
  EXPECT_NE(parse_error("mqtt://h").find("no topic"), std::string::npos);
  EXPECT_NE(parse_error("mqtt:///t").find("no host"), std::string::npos);
  EXPECT_NE(parse_error("mqtt://h/lab/#").find("wildcards"), std::string::npos);
  EXPECT_NE(parse_error("http://h/t").find("not an MQTT URL"), std::string::npos);
  const std::string e = parse_error("mqtt://bob:hunter2@h:70000/t");
  EXPECT_NE(e.find("70000"), std::string::npos) << e;
  EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
}

TEST(MqttPublisher, RefusesOptionsThatCanNeverWork) {
  MqttOptions o;
  o.url = MqttUrl::parse("mqtt://127.0.0.1:1/t");
  o.qos = 2;
  EXPECT_THROW(MqttPublisher(o, nullptr), std::invalid_argument);
  o.qos = 1;
  o.ca_file = "/nonexistent/ca.pem";
  try {
    MqttPublisher p(o, nullptr);
    FAIL() << "an unreadable CA file was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ca.pem"), std::string::npos);
  }
}

TEST(MqttPublisher, NoBrokerIsReportedWithTheReason) {
  MqttOptions o;
  o.url = MqttUrl::parse("mqtt://127.0.0.1:" + std::to_string(closed_port()) + "/t");
  MqttPublisher p(o, nullptr);
  std::string why;
  EXPECT_FALSE(p.wait_connected(0.5, &why));
  EXPECT_NE(why.find("refused"), std::string::npos) << why;
  EXPECT_FALSE(p.stats().connected);
}

TEST(MqttPublisher, AFullQueueDropsTheOldestAndCountsEveryDrop) {
  MqttOptions o;
  o.url = MqttUrl::parse("mqtt://127.0.0.1:" + std::to_string(closed_port()) + "/t");
  o.queue_limit = 3;
  std::mutex m;
  std::vector<MqttPublisher::Event> events;
  {
    MqttPublisher p(o, [&](const MqttPublisher::Event& e) {
      std::lock_guard<std::mutex> lock(m);
      events.push_back(e);
    });
    for (int i = 0; i < 10; ++i) p.publish("t", "{\"frame\":" + std::to_string(i + 1) + "}");
    auto st = p.stats();
    EXPECT_EQ(st.queued, 3u);
    EXPECT_EQ(st.dropped, 7u);
    EXPECT_EQ(st.published, 0u);
    // Closing with the broker still away: what is queued is lost, and counted.
    EXPECT_EQ(p.drain(0.2), 3u);
    p.close(0.0);
    st = p.stats();
    EXPECT_EQ(st.dropped, 10u);
    EXPECT_EQ(st.queued, 0u);
  }
  std::uint64_t reported = 0;
  for (const auto& e : events)
    if (e.kind == MqttPublisher::EventKind::Dropped) reported += e.count;
  EXPECT_EQ(reported, 10u);
}

TEST(MqttPublisher, MessagesOlderThanTheAgeLimitAreDropped) {
  MqttOptions o;
  o.url = MqttUrl::parse("mqtt://127.0.0.1:" + std::to_string(closed_port()) + "/t");
  o.queue_max_age_s = 0.2;
  MqttPublisher p(o, nullptr);
  for (int i = 0; i < 5; ++i) p.publish("t", "x");
  EXPECT_EQ(p.stats().queued, 5u);
  // The network thread expires them within its next rounds (0.5 s at most).
  for (int i = 0; i < 40 && p.stats().dropped < 5; ++i) usleep(50 * 1000);
  EXPECT_EQ(p.stats().dropped, 5u);
  EXPECT_EQ(p.stats().queued, 0u);
}
