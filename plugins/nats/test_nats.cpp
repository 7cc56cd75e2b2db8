// The nats package against one real nats-server (Debian's, started here on a free loopback
// port): nats_publish in the ComponentHarness, nats_source in the SourceHarness.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <set>

#include <sluice/harness.hpp>
#include <sluice/json.hpp>

#include "nats_server.hpp"
#include "nats_publish.hpp"
#include "nats_source.hpp"
#include "plugin_test.hpp"
#include "test_certificates.hpp"
#include "test_support.hpp"

using namespace sluice;
using namespace sluice::nats;
using namespace nats_test;
using namespace std::chrono_literals;

TEST_CASE("the module exports its components") { check_plugin_module({"nats_publish", "nats_source"}); }

namespace {

Packet packet_with_id(const std::string& json, const std::string& id) {
  Packet packet = json::to_packet(json::parse(json));
  packet.set_meta(meta::id, id);
  return packet;
}

std::set<std::string> keys_of(const std::vector<Packet>& packets) {
  std::set<std::string> keys;
  for (const auto& p : packets) keys.insert(p.get("key")->as_string());
  return keys;
}

}  // namespace

TEST_CASE("nats_publish stores each packet once in JetStream, on a subject made from its fields") {
  ScratchDir dir;
  NatsServer server(dir.path() / "nats");
  NatsClient client(server.url());
  client.add_stream("ORDERS", "orders.>", 1);
  const Object params = {{"servers", server.url()}, {"subject", "orders.{region}"}, {"max_in_flight", 4}};
  for (int round = 0; round < 2; ++round) {  // the second round is a replay: the same ids
    auto h = ComponentHarness::of<NatsPublish>(params);
    for (int i = 0; i < 10; ++i)
      h.push(packet_with_id(R"({"key": "k)" + std::to_string(i) + R"(", "region": ")" + (i % 2 ? "eu" : "us") + "\"}",
                            "id-" + std::to_string(i)));
    h.close();
    CHECK(h.errors().empty());
  }
  CHECK(client.stream_messages("ORDERS") == 10);
  const auto bodies = client.stream_bodies("ORDERS");
  REQUIRE(bodies.size() == 10);
  CHECK(bodies[0] == R"({"key":"k0","region":"us"})");

  // Read back by nats_source: the subject, and the id the publisher gave as Nats-Msg-Id.
  SourceHarness source(describe<NatsSource>(), {{"servers", server.url()}, {"stream", "ORDERS"}, {"durable", "check"}});
  REQUIRE(source.wait_for_packets(10));
  const auto packets = source.take_packets();
  CHECK(packets[1].get_meta("subject")->as_string() == "orders.eu");
  CHECK(packets[1].get_meta(meta::id)->as_string() == "id-1");
  CHECK(packets[1].get_meta("headers")->as_object().find("Nats-Msg-Id")->as_string() == "id-1");
}

TEST_CASE("nats_publish sends a packet JetStream will not take to the error port with the server's reason") {
  ScratchDir dir;
  NatsServer server(dir.path() / "nats");
  NatsClient client(server.url());
  client.add_stream("SMALL", "small", 1);
  auto h = ComponentHarness::of<NatsPublish>({{"servers", server.url()},
                                               {"subject", "{target}"},
                                               {"retries", 1},
                                               {"backoff_ms", 10},
                                               {"ack_timeout_ms", 500}});
  h.push_json(R"({"target": "small", "n": 1})");
  h.push_json(R"({"target": "nowhere", "n": 2})");  // no stream captures it
  h.push_json(R"({"n": 3})");                       // no field for the subject
  h.close();
  REQUIRE(h.errors().size() == 2);
  const std::string nowhere = h.errors()[0].get_meta(meta::error)->as_string();
  CHECK(nowhere.find("nats_publish to " + server.url() + " subject 'nowhere': ") != std::string::npos);
  CHECK(nowhere.find("o responders") != std::string::npos);
  CHECK(nowhere.find("(after 2 attempts)") != std::string::npos);
  CHECK(h.errors()[1].get_meta(meta::error)->as_string().find("the packet has no field 'target'") != std::string::npos);
  CHECK(client.stream_messages("SMALL") == 1);
}

TEST_CASE("nats_publish and nats_source refuse params that cannot work, naming them") {
  CHECK_THROWS_WITH(ComponentHarness::of<NatsPublish>({{"servers", "nats://127.0.0.1:1"}, {"subject", "a.{b"}}),
                    doctest::Contains("param 'subject': '{' at offset 2"));
  CHECK_THROWS_WITH(SourceHarness(describe<NatsSource>(),
                                  {{"servers", "nats://127.0.0.1:1"}, {"stream", "S"}, {"durable", "a.b"}}),
                    doctest::Contains("param 'durable': 'a.b' may not hold '.'"));
  CHECK_THROWS_WITH(SourceHarness(describe<NatsSource>(),
                                  {{"servers", "nats://127.0.0.1:1"}, {"stream", "S"}, {"durable", "d"}, {"create_stream", true}}),
                    doctest::Contains("param 'create_stream' needs param 'subject'"));
  CHECK_THROWS_WITH(SourceHarness(describe<NatsSource>(), {{"servers", "nats://127.0.0.1:1"},
                                                           {"stream", "S"},
                                                           {"durable", "d"},
                                                           {"max_in_flight", 3},
                                                           {"max_ack_pending", 2}}),
                    doctest::Contains("param 'max_ack_pending' (2) is below max_in_flight (3)"));
}

TEST_CASE("nats_source: one packet per message, JSON or raw, headers and subject in meta") {
  ScratchDir dir;
  NatsServer server(dir.path() / "nats");
  NatsClient client(server.url());
  client.add_stream("IN", "in.>", 1);
  client.publish("in.a", R"({"key": "k1", "n": 1})");
  client.publish("in.b", "[1, 2]");
  client.publish("in.c", "not json");
  const std::string binary("\xff\xfe\x00 bytes", 9);  // not UTF-8, with a NUL
  client.publish("in.d", binary);
  SourceHarness h(describe<NatsSource>(), {{"servers", server.url()}, {"stream", "IN"}, {"durable", "reader"}});
  REQUIRE(h.wait_for_packets(4));
  const auto packets = h.take_packets();
  CHECK(json::to_string(packets[0]) == R"({"key":"k1","n":1})");
  CHECK(packets[0].get_meta("subject")->as_string() == "in.a");
  CHECK(packets[0].get_meta(meta::id)->as_string() == "IN:1");
  CHECK(packets[0].get_meta("delivered")->as_int() == 1);
  CHECK(json::to_string(packets[1]) == R"({"data":[1,2]})");
  CHECK(packets[2].get("data")->as_string() == "not json");
  CHECK(packets[2].get_meta("raw")->as_bool());
  // Bytes that are not UTF-8 travel base64, and come back byte for byte.
  std::string scratch;
  CHECK(packets[3].get_meta("data", "encoding")->as_string() == "base64");
  CHECK(packets[3].bytes("data", scratch) == binary);
  CHECK(h.error().empty());
}

TEST_CASE("nats_source acks only what is done: the rest is delivered again after ack_wait, the acked never") {
  ScratchDir dir;
  NatsServer server(dir.path() / "nats");
  NatsClient client(server.url());
  client.add_stream("WORK", "work", 1);
  for (int i = 0; i < 6; ++i) client.publish("work", R"({"key": "k)" + std::to_string(i) + "\"}");
  const Object params = {{"servers", server.url()}, {"stream", "WORK"}, {"durable", "workers"}, {"ack_wait_ms", 500},
                         {"max_in_flight", 3}};
  {
    SourceHarness h(describe<NatsSource>(), params);
    REQUIRE(h.wait_for_packets(3));
    // Held back: three in flight and none done, so no fourth.
    CHECK_FALSE(h.wait_for_packets(4, 300ms));
    CHECK(h.ack_all() == 1);  // one pull, one stream: k0..k2 done and acked
    REQUIRE(h.wait_for_packets(6));
    CHECK(keys_of(h.take_packets()) == std::set<std::string>{"k0", "k1", "k2", "k3", "k4", "k5"});
    // k3..k5 are never done here: as a crash would leave them.
  }
  SourceHarness again(describe<NatsSource>(), params);
  REQUIRE(again.wait_for_packets(3));
  CHECK_FALSE(again.wait_for_packets(4, 300ms));
  const auto redelivered = again.take_packets();
  CHECK(keys_of(redelivered) == std::set<std::string>{"k3", "k4", "k5"});
  for (const auto& p : redelivered) CHECK(p.get_meta("delivered")->as_int() >= 2);
}

TEST_CASE("nats_source: max_in_flight is one node's window, max_ack_pending the consumer's over all nodes") {
  ScratchDir dir;
  NatsServer server(dir.path() / "nats");
  NatsClient client(server.url());
  client.add_stream("WORK", "work", 1);
  for (int i = 0; i < 8; ++i) client.publish("work", R"({"key": "k)" + std::to_string(i) + "\"}");
  const Object params = {{"servers", server.url()}, {"stream", "WORK"}, {"durable", "workers"}, {"max_in_flight", 3}};
  // Two nodes on one consumer, none acking: each holds its own full window.
  SourceHarness node1(describe<NatsSource>(), params), node2(describe<NatsSource>(), params);
  REQUIRE(node1.wait_for_packets(3));
  REQUIRE(node2.wait_for_packets(3));
  CHECK_FALSE(node1.wait_for_packets(4, 300ms));
  CHECK(client.consumer_backlog("WORK", "workers") == std::pair<std::int64_t, std::uint64_t>{6, 2});
  jsConsumerInfo* info = nullptr;
  REQUIRE(js_GetConsumerInfo(&info, client.jetstream(), "WORK", "workers", nullptr, nullptr) == NATS_OK);
  CHECK(info->Config->MaxAckPending == 10000);
  jsConsumerInfo_Destroy(info);
}

TEST_CASE("nats_source with create_stream makes its stream; format envelope reads nats_publish's envelope") {
  ScratchDir dir;
  NatsServer server(dir.path() / "nats");
  SourceHarness h(describe<NatsSource>(), {{"servers", server.url()},
                                           {"stream", "EVENTS"},
                                           {"subject", "events.>"},
                                           {"create_stream", true},
                                           {"durable", "reader"},
                                           {"format", "envelope"}});
  NatsClient client(server.url());
  REQUIRE(eventually([&] {
    try {
      return client.stream_messages("EVENTS") == 0;
    } catch (const std::exception&) {
      return false;
    }
  }, 10s));
  auto publisher = ComponentHarness::of<NatsPublish>(
      {{"servers", server.url()}, {"subject", "events.new"}, {"format", "envelope"}});
  Packet packet = packet_with_id(R"({"key": "e1"})", "p-1");
  packet.set_meta("origin", "test");
  publisher.push(std::move(packet));
  publisher.close();
  REQUIRE(publisher.errors().empty());
  REQUIRE(h.wait_for_packets(1));
  const auto packets = h.take_packets();
  CHECK(json::to_string(packets[0]) == R"({"key":"e1"})");
  CHECK(packets[0].get_meta("origin")->as_string() == "test");
  CHECK(packets[0].get_meta(meta::id)->as_string() == "p-1");
}

TEST_CASE("nats_source and nats_publish deploy while no server is up, and work once one is") {
  ScratchDir dir;
  const std::uint16_t port = free_loopback_port();
  const std::string url = "nats://127.0.0.1:" + std::to_string(port);
  // Neither constructor waits for a server: they return, and the client keeps trying.
  SourceHarness source(describe<NatsSource>(), {{"servers", url},
                                                {"stream", "LATE"},
                                                {"subject", "late"},
                                                {"create_stream", true},
                                                {"durable", "reader"}});
  auto publisher = ComponentHarness::of<NatsPublish>({{"servers", url}, {"subject", "late"}, {"backoff_ms", 100}});
  NatsServer server(dir.path() / "nats", port);
  NatsClient client(server.url());
  REQUIRE(eventually([&] {
    try {
      return client.stream_messages("LATE") == 0;
    } catch (const std::exception&) {
      return false;
    }
  }, 10s));
  publisher.push(packet_with_id(R"({"key": "k1"})", "late-1"));
  publisher.close();
  CHECK(publisher.errors().empty());
  REQUIRE(source.wait_for_packets(1));
  CHECK(keys_of(source.take_packets()) == std::set<std::string>{"k1"});
}

namespace {

// nats-server's TLS block with the test certificates; `verify`: it asks for a client certificate.
std::string tls_block(const TestCertificates& certs, bool verify) {
  return "tls { cert_file: \"" + certs.file("server.pem") + "\", key_file: \"" + certs.file("server.key") +
         "\", ca_file: \"" + certs.file("ca.pem") + "\", verify: " + (verify ? "true" : "false") + " }\n";
}

// One packet published through TLS settings `tls`: "" once JetStream acked it, else the error.
std::string publish_once(const std::string& url, Object tls) {
  auto h = ComponentHarness::of<NatsPublish>(
      {{"servers", url}, {"subject", "secure"}, {"tls", std::move(tls)}, {"retries", 0}, {"ack_timeout_ms", 2000}});
  h.push_json(R"({"key": "s"})");
  h.close();
  return h.errors().empty() ? "" : h.errors()[0].get_meta(meta::error)->as_string();
}

// nats_source making the stream SECURE over TLS, then a publish that gets through.
std::unique_ptr<SourceHarness> secure_stream(const std::string& url, const Object& tls) {
  auto source = std::make_unique<SourceHarness>(describe<NatsSource>(), Object{{"servers", url},
                                                                                 {"stream", "SECURE"},
                                                                                 {"subject", "secure"},
                                                                                 {"create_stream", true},
                                                                                 {"durable", "reader"},
                                                                                 {"tls", tls}});
  REQUIRE(eventually([&] { return publish_once(url, tls).empty(); }, 20s));
  REQUIRE(source->wait_for_packets(1));
  return source;
}

}  // namespace

TEST_CASE("TLS to nats-server: the CA, verify: false, server_name and the refusals, naming the reason") {
  TestCertificates certs;
  ScratchDir dir;
  NatsServer server(dir.path() / "nats", 0, 0, {}, tls_block(certs, false));
  const auto source = secure_stream(server.url(), {{"ca_file", certs.file("ca.pem")}});
  const std::string unknown_ca = publish_once(server.url(), {{"ca_file", certs.file("self-signed.pem")}});
  CHECK(unknown_ca.find("nats_publish to " + server.url() + " (not connected") != std::string::npos);
  MESSAGE("an unknown CA: " << unknown_ca);
  CHECK(publish_once(server.url(), {{"ca_file", certs.file("self-signed.pem")}, {"verify", false}}).empty());
  CHECK_FALSE(publish_once(server.url(), {{"ca_file", certs.file("ca.pem")}, {"server_name", "wrong.example"}}).empty());
  CHECK(publish_once(server.url(), {{"ca_file", certs.file("ca.pem")}, {"server_name", "localhost"}}).empty());
  CHECK_FALSE(publish_once(server.url(), {}).empty());  // tls: {} is TLS against the system's CAs: not the test CA
}

TEST_CASE("TLS to nats-server that wants a client certificate: refused without one, served with one") {
  TestCertificates certs;
  ScratchDir dir;
  NatsServer server(dir.path() / "nats", 0, 0, {}, tls_block(certs, true));
  const Object with_client = {{"ca_file", certs.file("ca.pem")},
                              {"client_cert", certs.file("client.pem")},
                              {"client_key", certs.file("client.key")}};
  const auto source = secure_stream(server.url(), with_client);
  CHECK_FALSE(publish_once(server.url(), {{"ca_file", certs.file("ca.pem")}}).empty());
}

TEST_CASE("the tls param: files that cannot be read and unknown keys are deploy errors naming them") {
  auto make = [](Object tls) {
    return ComponentHarness::of<NatsPublish>({{"servers", "nats://127.0.0.1:1"}, {"subject", "a"}, {"tls", std::move(tls)}});
  };
  CHECK_THROWS_WITH(make({{"ca_file", "/nonexistent/ca.pem"}}),
                    doctest::Contains("param 'tls.ca_file': cannot read /nonexistent/ca.pem"));
  CHECK_THROWS_WITH(make({{"ca_flie", "x"}}), doctest::Contains("param 'tls': unknown key 'ca_flie' (did you mean 'ca_file'?)"));
  CHECK_THROWS_WITH(make({{"client_cert", "/etc/hostname"}}),
                    doctest::Contains("param 'tls': client_cert and client_key go together"));
  CHECK_THROWS_WITH(make({{"verify", "no"}}), doctest::Contains("param 'tls.verify': must be true or false"));
}
