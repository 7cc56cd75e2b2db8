// The mqtt package served for real: `sluice serve` (the REST suite's ServerProcess) with the
// bundled plugins, and a real Mosquitto broker on its own loopback port (plugins/mqtt/mosquitto_broker.hpp).
#include <doctest/doctest.h>

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <thread>

#include "../durable/durable_support.hpp"
#include "../../plugins/mqtt/mosquitto_broker.hpp"

using namespace rest_test;
using namespace mqtt_test;
using namespace std::chrono_literals;

namespace {

std::string source_graph(std::uint16_t port, std::string_view sink) {
  return "name: inbox\npipeline: [listen, store]\nnodes:\n"
         "  listen: {component: mqtt_source, params: {port: " +
         std::to_string(port) + ", client_id: sluice-inbox, topics: [in/#]}}\n  store: " + std::string(sink) + "\n";
}

const std::string jsonl_sink = "{component: jsonl_file, params: {path: inbox.jsonl}}";

std::size_t distinct_keys(const fs::path& file) { return fs::exists(file) ? count_keys(file).size() : 0; }

// Publishes `count` messages {"key": "k<i>"} to in/<i> and waits for the broker's acks.
void publish_keys(std::uint16_t port, int count, std::size_t padding = 0) {
  TestClient publisher(port);
  const std::string pad(padding, 'x');
  for (int i = 0; i < count; ++i)
    publisher.publish("in/" + std::to_string(i), R"({"key": "k)" + std::to_string(i) + R"(", "pad": ")" + pad + "\"}");
  REQUIRE(publisher.wait_published(static_cast<std::size_t>(count), 60s));
}

// The source's subscription exists once the broker has a session for it: deploy, then wait for
// the node to be connected (its first retained message arrives).
void wait_subscribed(std::uint16_t broker_port, const fs::path& output) {
  TestClient(broker_port).publish("in/ready", R"({"key": "ready"})", 1, true);
  REQUIRE(wait_until([&] { return fs::exists(output) && count_keys(output).count("ready"); }, 20s));
}

std::uint64_t metric(const ServerProcess& server, const std::string& series) {
  const std::string text = http(server.port(), "GET", "/metrics").body;
  const auto at = text.find(series + " ");
  return at == std::string::npos ? 0 : std::stoull(text.substr(at + series.size() + 1));
}

const std::string source_out = R"(sluice_node_packets_out_total{graph="inbox",node="listen",component="mqtt_source"})";

// One row per key: a message sent twice is upserted, not added.
const std::string indexed_sink = "{component: sqlite_sink, params: {path: inbox.db, key: key, batch_size: 100}}";

int row_count(const fs::path& db) {
  if (!fs::exists(db)) return 0;
  sqlite3* reader = nullptr;
  sqlite3_open(db.c_str(), &reader);
  sqlite3_stmt* count = nullptr;
  sqlite3_prepare_v2(reader, "SELECT count(*) FROM documents", -1, &count, nullptr);
  const int n = count && sqlite3_step(count) == SQLITE_ROW ? sqlite3_column_int(count, 0) : 0;
  sqlite3_finalize(count);
  sqlite3_close(reader);
  return n;
}

// A write lock on the database for the scope: a sqlite_sink on it waits (a slow sink).
struct DatabaseLock {
  sqlite3* db = nullptr;
  explicit DatabaseLock(const fs::path& file) {
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
  }
  ~DatabaseLock() {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
};

// The source is subscribed and the sink writes once the retained message is a row.
void wait_indexing(std::uint16_t broker_port, const fs::path& db) {
  TestClient(broker_port).publish("in/ready", R"({"key": "ready"})", 1, true);
  REQUIRE(wait_until([&] { return row_count(db) == 1; }, 20s));
}

std::size_t resident_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.starts_with("VmRSS:")) return std::stoul(line.substr(6));
  return 0;
}

}  // namespace

TEST_CASE("MQTT → graph → file: each message a line, with its topic in the meta") {
  MosquittoBroker broker;
  TempDir dir;
  write_file(dir.path / "graphs/inbox.yaml", source_graph(broker.port(), jsonl_sink));
  ServerProcess server(dir);
  const fs::path output = dir.path / "var/data/inbox.jsonl";
  wait_subscribed(broker.port(), output);
  publish_keys(broker.port(), 500);
  CHECK_MESSAGE(wait_until([&] { return distinct_keys(output) == 501; }, 30s), server.stderr_text());
  CHECK(metric(server, source_out) == 501);
  CHECK(server.stop() == 0);
}

TEST_CASE("REST → graph → mqtt_publish: ?wait=true answers once the broker has acknowledged, also after it was down") {
  MosquittoBroker broker;
  TestClient subscriber(broker.port(), "events/#", "events-subscriber");
  TempDir dir;
  write_file(dir.path / "graphs/events.yaml",
             "name: events\nnodes:\n"
             "  out: {component: mqtt_publish, params: {port: " +
                 std::to_string(broker.port()) + ", topic: 'events/{kind}', qos: 1}}\n");
  ServerProcess server(dir);
  REQUIRE(wait_until([&] { return ready(server); }, 20s));
  const Headers ndjson = {{"Content-Type", "application/x-ndjson"}};
  const HttpResult first = http(server.port(), "POST", "/v1/graphs/events/packets?wait=true",
                                "{\"kind\": \"a\", \"n\": 1}\n{\"kind\": \"b\", \"n\": 2}\n", ndjson);
  REQUIRE_MESSAGE(first.status == 200, first.body);
  REQUIRE(subscriber.wait_for(2));
  CHECK(subscriber.messages()[0].topic == "events/a");
  CHECK(subscriber.messages()[1].payload == R"({"kind":"b","n":2})");

  // With the broker down the stream cannot complete; it does once the broker is back.
  broker.stop();
  std::atomic<int> status{0};
  std::thread poster([&] {
    status = http(server.port(), "POST", "/v1/graphs/events/packets?wait=true", "{\"kind\": \"c\"}\n", ndjson, 60s).status;
  });
  CHECK_FALSE(wait_until([&] { return status != 0; }, 1500ms));
  broker.start();
  CHECK(wait_until([&] { return status != 0; }, 30s));
  poster.join();
  CHECK(status == 200);
  // At least once: the broker's restart may deliver one of the first two again.
  CHECK(wait_until(
      [&] {
        const auto got = subscriber.messages();
        return std::any_of(got.begin(), got.end(), [](const auto& m) { return m.topic == "events/c"; });
      },
      20s));
  CHECK(server.stop() == 0);
}

TEST_CASE("mqtt_source: a broker restart mid-stream loses nothing (QoS 1, persistent session)") {
  MosquittoBroker broker;
  TempDir dir;
  write_file(dir.path / "graphs/inbox.yaml", source_graph(broker.port(), jsonl_sink));
  ServerProcess server(dir);
  const fs::path output = dir.path / "var/data/inbox.jsonl";
  wait_subscribed(broker.port(), output);
  ::kill(server.pid(), SIGSTOP);  // paused: the broker queues for its session meanwhile
  constexpr int total = 5000;
  publish_keys(broker.port(), total);
  ::kill(server.pid(), SIGCONT);
  REQUIRE(wait_until([&] { return distinct_keys(output) >= 500; }, 30s));
  broker.restart();  // SIGTERM: the broker saves the session's queue and gets it back
  CHECK_MESSAGE(wait_until([&] { return distinct_keys(output) == total + 1; }, 60s),
                distinct_keys(output) << " keys; " << server.stderr_text());
  CHECK(server.stop() == 0);
}

TEST_CASE("kill -9 of sluice with messages taken and not done: after the restart every one is processed") {
  MosquittoBroker broker;
  TempDir dir;
  write_file(dir.path / "graphs/inbox.yaml", source_graph(broker.port(), indexed_sink));
  const fs::path db = dir.path / "var/data/inbox.db";
  constexpr int total = 5000;
  std::uint64_t taken_before_kill = 0;
  {
    ServerProcess server(dir);
    wait_indexing(broker.port(), db);
    // The sink is stuck: what the source takes is acknowledged to the broker and not done.
    DatabaseLock lock(db);
    publish_keys(broker.port(), total);
    REQUIRE(wait_until([&] { return (taken_before_kill = metric(server, source_out)) >= 1000; }, 8s));
    server.stop(SIGKILL);
  }
  CHECK(row_count(db) == 1);
  ServerProcess restarted(dir);
  CHECK_MESSAGE(wait_until([&] { return row_count(db) == total + 1; }, 60s), row_count(db) << " rows; " << restarted.stderr_text());
  const std::uint64_t sent_after = metric(restarted, source_out);
  // None was done before the kill: each of the `total` is sent at least once after it; twice when
  // the spool replayed it and the broker redelivered it too (its PUBACK had not left yet).
  CHECK(sent_after >= total);
  MESSAGE((taken_before_kill - 1) << " messages past the source node and not done at the kill; " << sent_after << " sent after the restart, "
                                << static_cast<long long>(sent_after) - total << " of them twice");
  // Everything done is marked so in the spool: a third start sends only what is new (the spool's
  // leftovers would go out before the source connects, so before this message).
  CHECK(restarted.stop() == 0);
  ServerProcess third(dir);
  TestClient(broker.port()).publish("in/new", R"({"key": "new"})");
  REQUIRE(wait_until([&] { return row_count(db) == total + 2; }, 20s));
  CHECK(metric(third, source_out) == 1);
  CHECK(third.stop() == 0);
}

TEST_CASE("mqtt_source is held back by a slow sink: the broker keeps the backlog, sluice's memory stays bounded") {
  MosquittoBroker broker;
  TempDir dir;
  write_file(dir.path / "graphs/inbox.yaml", source_graph(broker.port(), indexed_sink));
  const fs::path db = dir.path / "var/data/inbox.db";
  ServerProcess server(dir);
  wait_indexing(broker.port(), db);
  const std::size_t idle_kib = resident_kib(server.pid());
  constexpr int total = 10000;  // 2 KiB each: 20 MiB in all
  std::uint64_t taken = 0;
  bool settled = false, went_on = false;
  std::size_t held_kib = 0;
  {
    DatabaseLock lock(db);  // the sink is stuck behind it (sqlite_sink waits up to 10 s)
    publish_keys(broker.port(), total, 2000);
    // The source stops where the graph refuses more (its queues full, or 4096 packets not
    // done) and the broker holds the rest.
    settled = wait_until(
        [&] {
          const std::uint64_t before = taken;
          taken = metric(server, source_out);
          return taken > 1 && taken == before;  // unchanged over one poll (20 ms)
        },
        4s);
    went_on = wait_until([&] { return metric(server, source_out) > taken; }, 1s);
    held_kib = resident_kib(server.pid());
  }
  CHECK(settled);
  CHECK_FALSE(went_on);
  CHECK(taken <= 4096 + 1);
  MESSAGE("resident " << idle_kib << " KiB idle, " << held_kib << " KiB held back with " << taken << " of "
                      << total + 1 << " taken");
  CHECK(held_kib < idle_kib + 64 * 1024);
  CHECK_MESSAGE(wait_until([&] { return row_count(db) == total + 1; }, 90s), row_count(db) << " rows; " << server.stderr_text());
  CHECK(server.stop() == 0);
}

TEST_CASE("a graph whose TLS files cannot be read, or lie outside the data root, is refused at deploy, naming the node and the param") {
  TempDir dir;
  fs::create_directories(dir.path / "graphs");
  ServerProcess server(dir);
  const auto put_tls = [&](const std::string& tls) {
    return http(server.port(), "PUT", "/v1/graphs/secure",
                "name: secure\nnodes:\n  out: {component: mqtt_publish, params: {topic: t, tls: " + tls + "}}\n",
                {{"Content-Type", "application/yaml"}});
  };
  // A relative path resolves in the data root (the state directory's data/), where there is no
  // such file.
  HttpResult put = put_tls("{ca_file: ca.pem}");
  CHECK(put.status == 422);
  CHECK_MESSAGE(put.body.find("\"node\":\"out\"") != std::string::npos, put.body);
  // The error belongs to the param tls, whose field the editor shows it on.
  CHECK_MESSAGE(put.body.find("\"param\":\"tls\"") != std::string::npos, put.body);
  const fs::path data_root = fs::canonical(dir.path / "var" / "data");
  CHECK_MESSAGE(put.body.find("param 'tls.ca_file': cannot read " + (data_root / "ca.pem").string()) != std::string::npos,
                put.body);
  // A key file elsewhere (it exists and can be read, but the operator did not allow its
  // directory), and `..` out of the data root.
  std::ofstream(dir.path / "outside.pem") << "-----BEGIN CERTIFICATE-----\n";
  put = put_tls("{ca_file: " + (dir.path / "outside.pem").string() + "}");
  CHECK(put.status == 422);
  CHECK_MESSAGE(put.body.find("param 'tls.ca_file': '" + (dir.path / "outside.pem").string() + "' resolves to") != std::string::npos,
                put.body);
  CHECK_MESSAGE(put.body.find("outside the directories files may be in") != std::string::npos, put.body);
  put = put_tls("{client_cert: ../../c.pem, client_key: k.pem}");
  CHECK(put.status == 422);
  CHECK_MESSAGE(put.body.find("param 'tls.client_cert': '../../c.pem' resolves to") != std::string::npos, put.body);
  CHECK(server.stop() == 0);
}
