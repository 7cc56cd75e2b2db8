// The mqtt package against a real Mosquitto broker (mosquitto_broker.hpp): the
// publisher in the ComponentHarness, the source in the SourceHarness.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <thread>

#include <sluice/harness.hpp>
#include <sluice/json.hpp>

#include "mosquitto_broker.hpp"
#include "mqtt_publish.hpp"
#include "mqtt_source.hpp"
#include "plugin_test.hpp"
#include "test_certificates.hpp"

using namespace sluice;
using namespace sluice::mqtt;
using namespace mqtt_test;
using namespace std::chrono_literals;

TEST_CASE("the module exports its components") { check_plugin_module({"mqtt_source", "mqtt_publish"}); }

namespace {

std::string construction_error(ComponentDescriptor descriptor, Object params) {
  try {
    ComponentHarness h(std::move(descriptor), std::move(params));
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// A state directory of its own, removed at the end.
struct StateDir {
  fs::path path = fs::temp_directory_path() / ("sluice-mqtt-state-" + std::to_string(::getpid()) + "-" + std::to_string(++made));
  StateDir() { fs::remove_all(path); }
  ~StateDir() { fs::remove_all(path); }
  static inline int made = 0;
};

}  // namespace

TEST_CASE("bad params are refused naming the param") {
  const auto publish = describe<MqttPublish>();
  CHECK(construction_error(publish, {{"topic", "a/{"}}).find("param 'topic'") != std::string::npos);
  CHECK(construction_error(publish, {{"topic", "a/#"}}).find("param 'topic'") != std::string::npos);
  CHECK(construction_error(publish, {{"topic", "a"}, {"password", "x"}}).find("param 'password' needs param 'username'") !=
        std::string::npos);
  CHECK(construction_error(publish, {{"topic", "a"}, {"tls", Object{{"ca_file", "/nonexistent/ca.pem"}}}}).ends_with(
      "param 'tls.ca_file': cannot read /nonexistent/ca.pem: No such file or directory"));
  CHECK(construction_error(publish, {{"topic", "a"}, {"tls", Object{{"ca_flie", "x"}}}}).ends_with(
      "param 'tls': unknown key 'ca_flie' (did you mean 'ca_file'?)"));
  CHECK(construction_error(publish, {{"topic", "a"}, {"qos", 3}}).find("qos") != std::string::npos);
  const auto source = describe<MqttSource>();
  CHECK(construction_error(source, {{"topics", Array{"a/#"}}}).find("client_id") != std::string::npos);
  CHECK(construction_error(source, {{"topics", Array{"a/#/b"}}, {"client_id", "c"}}).ends_with(
      "param 'topics': \"a/#/b\" is no topic filter"));
}

TEST_CASE("a topic template fills its {paths} from the packet; {{ and }} are braces") {
  Packet packet;
  packet.set("site", "north");
  packet.set("device", Object{{"id", 7}});
  CHECK(TopicTemplate("sensors/{site}/{device.id}").expand(packet) == "sensors/north/7");
  CHECK(TopicTemplate("raw/{{literal}}/{site}").expand(packet) == "raw/{literal}/north");
  CHECK_THROWS_WITH(TopicTemplate("a/{site").expand(packet), doctest::Contains("offset 2"));
  CHECK_THROWS_WITH(TopicTemplate("a/{nope}").expand(packet), "the topic needs field 'nope', which is missing");
}

TEST_CASE("mqtt_publish sends the JSON body to a topic made from fields, or a raw field, retained on request") {
  MosquittoBroker broker;
  TestClient subscriber(broker.port(), "sensors/#");
  {
    auto h = ComponentHarness::of<MqttPublish>({{"port", broker.port()}, {"topic", "sensors/{site}/{device.id}"}, {"qos", 1}});
    h.push_json(R"({"site": "north", "device": {"id": 7}, "t": 21.5})");
    h.push_json(R"({"site": "south", "device": {"id": "b"}, "t": 3})");
    h.push_json(R"({"device": {"id": 1}})");  // no site: fails for good
    h.close();
    REQUIRE(h.errors().size() == 1);
    CHECK(h.errors()[0].get_meta("error")->as_string() == "the topic needs field 'site', which is missing");
  }
  {
    auto h = ComponentHarness::of<MqttPublish>(
        {{"port", broker.port()}, {"topic", "sensors/raw"}, {"field", "data"}, {"qos", 2}, {"retain", true}});
    h.push_json(R"({"data": "bytes as they are"})");
    h.close();
    CHECK(h.errors().empty());
  }
  REQUIRE(subscriber.wait_for(3));
  const auto got = subscriber.messages();
  CHECK(got[0].topic == "sensors/north/7");
  CHECK(got[0].payload == R"({"site":"north","device":{"id":7},"t":21.5})");
  CHECK(got[1].topic == "sensors/south/b");
  CHECK(got[2].topic == "sensors/raw");
  CHECK(got[2].payload == "bytes as they are");
  // Retained: a subscriber that comes later still gets it.
  TestClient late(broker.port(), "sensors/raw");
  REQUIRE(late.wait_for(1));
  CHECK(late.messages()[0].retain);
  CHECK(late.messages()[0].payload == "bytes as they are");
}

TEST_CASE("mqtt_publish at QoS 1 loses nothing when the broker restarts mid-stream") {
  MosquittoBroker broker;
  // A persistent subscriber: the broker keeps what arrives for it while it reconnects.
  TestClient subscriber(broker.port(), "load/#", "restart-subscriber");
  constexpr int total = 3000;
  std::atomic<int> pushed{0};
  std::thread restarter([&] {
    while (pushed < total / 3) std::this_thread::sleep_for(1ms);
    broker.restart();
  });
  {
    auto h = ComponentHarness::of<MqttPublish>({{"port", broker.port()}, {"topic", "load/{n}"}, {"max_in_flight", 50}});
    for (int n = 0; n < total; ++n, ++pushed) h.push_json(R"({"n": )" + std::to_string(n) + "}");
    h.close();
    CHECK(h.errors().empty());
  }
  restarter.join();
  std::set<std::string> seen;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (seen.size() < total && std::chrono::steady_clock::now() < deadline) {
    subscriber.wait_for(total, 100ms);
    for (const auto& m : subscriber.messages()) seen.insert(m.topic);
  }
  CHECK(seen.size() == total);
}

TEST_CASE("mqtt_source sends one packet per message with topic, qos and retain meta, JSON parsed or raw") {
  MosquittoBroker broker;
  TestClient publisher(broker.port());
  // Retained before the source subscribes: it gets it with the retain flag, and its
  // subscription is in place once it has.
  publisher.publish("in/ready", "ready", 1, true);
  REQUIRE(publisher.wait_published(1));
  SourceHarness h(describe<MqttSource>(), {{"port", broker.port()}, {"client_id", "source-meta"}, {"topics", Array{"in/#"}}});
  REQUIRE(h.wait_for_packets(1));
  publisher.publish("in/a", R"({"x": 1})");
  publisher.publish("in/b", "not json");
  publisher.publish("in/c", "[1, 2]");
  REQUIRE(h.wait_for_packets(4));
  auto packets = h.take_packets();
  CHECK(packets[0].get("data")->as_string() == "ready");
  CHECK(packets[0].get_meta("retain")->as_bool());
  CHECK(json::to_string(packets[1]) == R"({"x":1})");
  CHECK(packets[1].get_meta("topic")->as_string() == "in/a");
  CHECK(packets[1].get_meta("qos")->as_int() == 1);
  CHECK_FALSE(packets[1].get_meta("retain")->as_bool());
  CHECK(packets[2].get("data")->as_string() == "not json");
  CHECK(json::to_string(*packets[3].get("data")) == "[1,2]");
  h.stop();
  CHECK(h.error().empty());

  SourceHarness raw(describe<MqttSource>(),
                    {{"port", broker.port()}, {"client_id", "source-raw"}, {"topics", Array{"in/ready"}}, {"format", "raw"}});
  REQUIRE(raw.wait_for_packets(1));
  CHECK(raw.take_packets()[0].get("data")->as_string() == "ready");
}

TEST_CASE("mqtt_source sends again after a restart what was taken from the broker and not done") {
  MosquittoBroker broker;
  StateDir state;
  const Object params = {{"port", broker.port()}, {"client_id", "source-spool"}, {"topics", Array{"work/#"}}};
  TestClient publisher(broker.port());
  {
    SourceHarness h(describe<MqttSource>(), params, state.path.string());
    publisher.publish("work/ready", "r", 1, true);
    REQUIRE(h.wait_for_packets(1));
    publisher.publish("work/1", R"({"n": 1})");
    publisher.publish("work/2", R"({"n": 2})");
    REQUIRE(h.wait_for_packets(3));
    h.take_packets();
    // None acked: libmosquitto has PUBACKed them to the broker, only the spool has them.
    h.stop();
  }
  {
    SourceHarness h(describe<MqttSource>(), params, state.path.string());
    REQUIRE(h.wait_for_packets(3));
    auto packets = h.take_packets();
    std::set<std::string> topics;
    for (const auto& p : packets) {
      topics.insert(p.get_meta("topic")->as_string());
      CHECK(p.get_meta("redelivered")->as_bool());
    }
    CHECK(topics == std::set<std::string>{"work/ready", "work/1", "work/2"});
    CHECK(h.ack_all() == 3);
    h.stop();
  }
  {
    // All done: nothing is sent again (the retained message is not resent to a session that has it).
    SourceHarness h(describe<MqttSource>(), params, state.path.string());
    publisher.publish("work/3", R"({"n": 3})");
    REQUIRE(h.wait_for_packets(1));
    auto packets = h.take_packets();
    REQUIRE(packets.size() == 1);
    CHECK(packets[0].get_meta("topic")->as_string() == "work/3");
    CHECK(packets[0].get_meta("redelivered") == nullptr);
  }
}

TEST_CASE("mqtt_source's persistent session keeps messages published while it is away") {
  MosquittoBroker broker;
  const Object params = {{"port", broker.port()}, {"client_id", "source-away"}, {"topics", Array{"away/#"}}};
  TestClient publisher(broker.port());
  {
    SourceHarness h(describe<MqttSource>(), params);
    publisher.publish("away/ready", "r", 1, true);
    REQUIRE(h.wait_for_packets(1));
  }
  for (int i = 0; i < 100; ++i) publisher.publish("away/" + std::to_string(i), std::to_string(i));
  REQUIRE(publisher.wait_published(101));
  SourceHarness h(describe<MqttSource>(), params);
  REQUIRE(h.wait_for_packets(100));
  CHECK(h.take_packets().size() == 100);
}

namespace {

// Connects with the connection params as a deployed node would (validated, defaults filled in)
// and says whether the broker accepted the session within the deadline.
bool connects(std::uint16_t port, Object params) {
  params["topic"] = "t";
  params["port"] = port;
  MqttConnection connection(connection_settings(deployed_params(describe<MqttPublish>(), params)));
  connection.start("connect-test");
  return connection.wait_connected(Clock::now() + 3s);
}

std::string tls_listener(const TestCertificates& certs, const std::string& server, bool require_client_cert) {
  return "cafile " + certs.file("ca.pem") + "\ncertfile " + certs.file(server + ".pem") + "\nkeyfile " +
         certs.file(server + ".key") + "\nrequire_certificate " + (require_client_cert ? "true" : "false") + "\n";
}

}  // namespace

TEST_CASE("TLS to the broker: the test CA's certificate is accepted, others refused unless verify is false") {
  TestCertificates certs;
  MosquittoBroker broker(tls_listener(certs, "server", false));
  CHECK(connects(broker.port(), {{"tls", Object{{"ca_file", certs.file("ca.pem")}}}}));
  CHECK_FALSE(connects(broker.port(), {{"tls", Object{{"ca_file", certs.file("self-signed.pem")}}}}));  // another CA
  CHECK(connects(broker.port(), {{"tls", Object{{"ca_file", certs.file("self-signed.pem")}, {"verify", false}}}}));
  // server.pem names 127.0.0.1 and localhost: verified against another name it is refused.
  CHECK_FALSE(connects(broker.port(), {{"tls", Object{{"ca_file", certs.file("ca.pem")}, {"server_name", "wrong.example"}}}}));
  CHECK(connects(broker.port(), {{"tls", Object{{"ca_file", certs.file("ca.pem")}, {"server_name", "localhost"}}}}));

  // A whole round trip over TLS: mqtt_publish to mqtt_source.
  const Object tls = {{"ca_file", certs.file("ca.pem")}};
  SourceHarness source(describe<MqttSource>(), {{"port", broker.port()}, {"client_id", "tls-source"}, {"topics", Array{"secure/#"}}, {"tls", tls}});
  {
    auto publish = ComponentHarness::of<MqttPublish>({{"port", broker.port()}, {"topic", "secure/x"}, {"retain", true}, {"tls", tls}});
    publish.push_json(R"({"over": "tls"})");
    publish.close();
    CHECK(publish.errors().empty());
  }
  REQUIRE(source.wait_for_packets(1));
  CHECK(json::to_string(source.take_packets()[0]) == R"({"over":"tls"})");
}

TEST_CASE("TLS with a client certificate the broker requires") {
  TestCertificates certs;
  MosquittoBroker broker(tls_listener(certs, "server", true));
  CHECK_FALSE(connects(broker.port(), {{"tls", Object{{"ca_file", certs.file("ca.pem")}}}}));
  CHECK(connects(broker.port(), {{"tls", Object{{"ca_file", certs.file("ca.pem")},
                                     {"client_cert", certs.file("client.pem")},
                                     {"client_key", certs.file("client.key")}}}}));
  CHECK(construction_error(describe<MqttPublish>(), {{"topic", "t"}, {"tls", Object{{"client_cert", certs.file("client.pem")}}}})
            .ends_with("param 'tls': client_cert and client_key go together"));
}

TEST_CASE("a user name and password the broker checks") {
  StateDir scratch;  // for the password file
  fs::create_directories(scratch.path);
  const std::string passwords = (scratch.path / "passwords").string();
  REQUIRE(std::system(("mosquitto_passwd -b -c " + passwords + " sluice 's3cret pass' >/dev/null").c_str()) == 0);
  MosquittoBroker broker("allow_anonymous false\npassword_file " + passwords + "\n");
  CHECK(connects(broker.port(), {{"username", "sluice"}, {"password", "s3cret pass"}}));
  CHECK_FALSE(connects(broker.port(), {{"username", "sluice"}, {"password", "wrong"}}));
  CHECK_FALSE(connects(broker.port(), {}));
}
