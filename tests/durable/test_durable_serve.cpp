// `sluice serve` with its write-ahead log: what a start replays (and what it cannot), streams
// marked durable, the WAL's metrics, the size limit, a full disk, `--durability none`, and
// dead letters kept across kill -9.
#include <doctest/doctest.h>

#include <fstream>
#include <optional>

#include "durability/write_ahead_log.hpp"
#include "durable_support.hpp"
#include "small_disk.hpp"

using namespace rest_test;
namespace fs = std::filesystem;

namespace {

const Headers ndjson_type = {{"Content-Type", "application/x-ndjson"}};

std::vector<sluice::Packet> keyed_packets(std::vector<std::string> keys) {
  std::vector<sluice::Packet> packets;
  for (auto& key : keys) {
    sluice::Packet packet;
    packet.set("key", std::move(key));
    packets.push_back(std::move(packet));
  }
  return packets;
}

// Writes submissions into the log of `state_dir` as a server that was killed would have left
// them, accepted for `version` of their graph.
void log_submissions(const fs::path& state_dir,
                     const std::vector<std::pair<std::string, std::vector<std::string>>>& submissions,
                     const std::string& version = "") {
  sluice::WalRecovery none;
  sluice::WriteAheadLog log({.dir = state_dir / "wal"}, none);
  for (const auto& [graph, keys] : submissions)
    log.append_submission(graph, "", version, keyed_packets(keys), {}, [](const sluice::WalAppend& logged) {
      REQUIRE(logged.error == "");
    });
}

std::string wait_for_recovery_line(ServerProcess& server) {
  std::string said;
  REQUIRE_MESSAGE(wait_until([&] { return (said = server.stdout_text()).find(": replayed ") != std::string::npos; },
                             30s),
                  server.stderr_text());
  return said;
}

std::string stream_of(const HttpResult& accepted) {
  REQUIRE_MESSAGE(accepted.status == 202, accepted.body);
  return accepted.json().get("stream")->as_string();
}

}  // namespace

TEST_CASE("a start replays unfinished logged submissions; one for a graph that is gone is kept in lost/") {
  TempDir dir;
  const fs::path output = dir.path / "var" / "data" / "out.jsonl";
  write_file(dir.path / "graphs" / "ingest.yaml", sink_graph(output));
  log_submissions(dir.path / "var", {{"ingest", {"a", "b", "c"}}, {"gone", {"x"}}});

  {
    ServerProcess server(dir);  // the default state dir: var/ beside the graphs directory
    const std::string said = wait_for_recovery_line(server);
    CHECK(said.find("replayed 1 submissions (3 packets), 1 lost, 0 torn and 0 corrupt records") != std::string::npos);
    CHECK(wait_until([&] { return count_keys(output) == std::map<std::string, int>{{"a", 1}, {"b", 1}, {"c", 1}}; }, 10s));
    CHECK(wait_until([&] { return ready(server); }, 10s));
    CHECK(server.stderr_text().find("graph 'gone' is not deployed; its packets are in") != std::string::npos);
    const fs::path lost = dir.path / "var" / "lost" / "gone-2.ndjson";
    REQUIRE(fs::exists(lost));
    CHECK(sluice::json::parse_envelope(read_file(lost)).get("key")->as_string() == "x");

    const auto metrics = http(server.port(), "GET", "/metrics").body;
    CHECK(metrics.find("\nsluice_wal_replayed_submissions 2\n") != std::string::npos);
    CHECK(metrics.find("\nsluice_wal_torn_records 0\n") != std::string::npos);
    CHECK(server.stop() == 0);
  }
  // Both were marked complete: the next start replays nothing.
  ServerProcess again(dir);
  CHECK(wait_for_recovery_line(again).find("replayed 0 submissions (0 packets), 0 lost") != std::string::npos);
  CHECK(count_keys(output).size() == 3);
}

TEST_CASE("a replay says which submissions were accepted for another version of their graph") {
  TempDir dir;
  const fs::path output = dir.path / "var" / "data" / "out.jsonl";
  write_file(dir.path / "graphs" / "ingest.yaml", sink_graph(output));
  std::string version;
  {
    ServerProcess server(dir);
    REQUIRE(wait_until([&] { return ready(server); }, 30s));
    version = http(server.port(), "GET", "/v1/graphs/ingest").json().get("status")->get("version")->as_string();
    CHECK(version.size() == 16);
    const auto listed = http(server.port(), "GET", "/v1/graphs").json();
    CHECK(listed.find_path("graphs[0].version")->as_string() == version);
    CHECK(server.stop() == 0);
  }
  // A comment changes the file, not what the graph does: its version stays.
  write_file(dir.path / "graphs" / "ingest.yaml", "# the same graph\n" + sink_graph(output));
  log_submissions(dir.path / "var", {{"ingest", {"same"}}}, version);
  log_submissions(dir.path / "var", {{"ingest", {"older", "too"}}}, "00000000deadbeef");

  ServerProcess again(dir);
  CHECK(wait_for_recovery_line(again).find("replayed 2 submissions (3 packets, 1 into a changed graph), 0 lost") !=
        std::string::npos);
  CHECK(wait_until([&] { return count_keys(output) == std::map<std::string, int>{{"same", 1}, {"older", 1}, {"too", 1}}; },
                   10s));
  const std::string said = again.stderr_text();
  CHECK(said.find("was accepted for version 00000000deadbeef of graph 'ingest', which is now version " + version +
                  ": it goes to the graph as it is now") != std::string::npos);
  CHECK(said.find("accepted for version " + version) == std::string::npos);
}

TEST_CASE("a torn last record is dropped with a warning; the server starts with the rest") {
  TempDir dir;
  const fs::path output = dir.path / "var" / "data" / "out.jsonl";
  write_file(dir.path / "graphs" / "ingest.yaml", sink_graph(output));
  log_submissions(dir.path / "var", {{"ingest", {"kept"}}, {"ingest", {"torn"}}});
  const fs::path segment = dir.path / "var" / "wal" / "00000000000000000001.wal";
  fs::resize_file(segment, fs::file_size(segment) - 5);

  ServerProcess server(dir);
  const std::string said = wait_for_recovery_line(server);
  CHECK(said.find("replayed 1 submissions (1 packets), 0 lost, 1 torn and 0 corrupt records") != std::string::npos);
  CHECK(server.stderr_text().find("torn tail of") != std::string::npos);
  CHECK(wait_until([&] { return count_keys(output) == std::map<std::string, int>{{"kept", 1}}; }, 10s));
  CHECK(http(server.port(), "GET", "/metrics").body.find("\nsluice_wal_torn_records 1\n") != std::string::npos);
}

TEST_CASE("a logged submission's stream says durable: true, and /metrics counts the log") {
  TempDir dir;
  write_file(dir.path / "graphs" / "ingest.yaml", sink_graph(dir.path / "var" / "data" / "out.jsonl"));
  ServerProcess server(dir, {"--fsync"});
  REQUIRE(wait_until([&] { return ready(server); }, 30s));

  const std::string stream = stream_of(http(server.port(), "POST", "/v1/graphs/ingest/packets", "{\"key\": \"a\"}\n", ndjson_type));
  CHECK(http(server.port(), "GET", "/v1/streams/" + stream).json().get("durable")->as_bool());
  const auto waited = http(server.port(), "POST", "/v1/graphs/ingest/packets?wait=true", "{\"key\": \"b\"}\n", ndjson_type);
  REQUIRE(waited.status == 200);
  CHECK(waited.json().get("durable")->as_bool());

  const auto metrics = http(server.port(), "GET", "/metrics").body;
  for (const char* series : {"sluice_wal_bytes", "sluice_wal_segments", "sluice_wal_pending_submissions",
                             "sluice_wal_records_written_total", "sluice_wal_sync_seconds_total",
                             "sluice_wal_corrupt_records"})
    CHECK_MESSAGE(metrics.find(std::string("\n") + series + " ") != std::string::npos, series);
  // --fsync: each answered submission waited for a sync.
  const auto at = metrics.find("\nsluice_wal_syncs_total ");
  REQUIRE(at != std::string::npos);
  const unsigned long syncs = std::stoul(metrics.substr(at + 24));
  CHECK(syncs >= 2);
  // The sync latency histogram: cumulative buckets from 100 µs to 1 s, +Inf and _count equal
  // to the syncs (read in one scrape), and never decreasing.
  const auto series_value = [&](const std::string& line_start) -> std::optional<double> {
    const auto found = metrics.find("\n" + line_start + " ");
    if (found == std::string::npos) return std::nullopt;
    return std::stod(metrics.substr(found + line_start.size() + 2));
  };
  CHECK(metrics.find("# TYPE sluice_wal_sync_duration_seconds histogram\n") != std::string::npos);
  double previous = 0;
  for (const char* bound : {"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
                            "0.1", "0.25", "1", "+Inf"}) {
    const auto count = series_value(std::string("sluice_wal_sync_duration_seconds_bucket{le=\"") + bound + "\"}");
    REQUIRE_MESSAGE(count, bound);
    CHECK(*count >= previous);
    previous = *count;
  }
  CHECK(previous == static_cast<double>(syncs));
  CHECK(series_value("sluice_wal_sync_duration_seconds_count") == static_cast<double>(syncs));
  CHECK(series_value("sluice_wal_sync_duration_seconds_sum") > 0.0);
  CHECK(http(server.port(), "GET", "/readyz").json().get("recovering")->as_bool() == false);
}

TEST_CASE("at --max-wal-bytes a submission is 503 with Retry-After, and nothing of it is processed") {
  TempDir dir;
  const fs::path output = dir.path / "var" / "data" / "out.jsonl";
  write_file(dir.path / "graphs" / "ingest.yaml", sink_graph(output));
  ServerProcess server(dir, {"--max-wal-bytes", "4KiB"});
  REQUIRE(wait_until([&] { return ready(server); }, 30s));

  std::string big;
  for (int i = 0; i < 100; ++i) big += "{\"key\": \"big-" + std::to_string(i) + "\"}\n";
  const auto refused = http(server.port(), "POST", "/v1/graphs/ingest/packets", big, ndjson_type);
  CHECK(refused.status == 503);
  CHECK(refused.header("retry-after") == "5");
  CHECK(refused.body.find("limit of 4096 bytes") != std::string::npos);
  stream_of(http(server.port(), "POST", "/v1/graphs/ingest/packets", "{\"key\": \"small\"}\n", ndjson_type));
  CHECK(wait_until([&] { return count_keys(output).contains("small"); }, 10s));
  CHECK(count_keys(output).size() == 1);
}

TEST_CASE("--durability none keeps submissions in memory: no log, durable: false") {
  TempDir dir;
  write_file(dir.path / "graphs" / "ingest.yaml", sink_graph(dir.path / "var" / "data" / "out.jsonl"));
  ServerProcess server(dir, {"--durability", "none"});
  REQUIRE(wait_until([&] { return ready(server); }, 30s));
  const std::string stream = stream_of(http(server.port(), "POST", "/v1/graphs/ingest/packets", "{\"key\": \"a\"}\n", ndjson_type));
  CHECK_FALSE(http(server.port(), "GET", "/v1/streams/" + stream).json().get("durable")->as_bool());
  CHECK(http(server.port(), "GET", "/metrics").body.find("sluice_wal_bytes") == std::string::npos);
  CHECK_FALSE(fs::exists(dir.path / "var" / "wal"));  // (var/data/ is the data root)
}

TEST_CASE("dead letters survive kill -9; a replay into a missing node keeps them all; a replayed one stays gone after the next kill") {
  TempDir dir;
  // An http publisher with nowhere to send: every packet fails there, into the dead letters.
  write_file(dir.path / "graphs" / "failing.yaml",
             "name: failing\nnodes:\n  check: {component: http, params: {url: \"http://127.0.0.1:1/\", retries: 0}}\n"
             "  out: {component: collect}\n");
  std::string before;
  {
    ServerProcess server(dir);
    REQUIRE(wait_until([&] { return ready(server); }, 30s));
    const auto r = http(server.port(), "POST", "/v1/graphs/failing/packets?wait=true",
                        R"([{"fail": true, "n": 1}, {"n": 2}, {"fail": true, "n": 3}])", {{"Content-Type", "application/json"}});
    REQUIRE_MESSAGE(r.status == 200, r.body);
    before = http(server.port(), "GET", "/v1/graphs/failing/dead-letters").body;
    REQUIRE(sluice::json::parse(before).get("count")->as_int() == 3);
    CHECK(server.stop(SIGKILL) == 128 + SIGKILL);
  }
  ServerProcess server(dir);
  REQUIRE(wait_until([&] { return ready(server); }, 30s));
  // The same letters: ids, nodes, errors, times and packets.
  CHECK(http(server.port(), "GET", "/v1/graphs/failing/dead-letters").body == before);
  const auto refused = http(server.port(), "POST", "/v1/graphs/failing/dead-letters/replay", R"({"node": "nowhere"})",
                            {{"Content-Type", "application/json"}});
  CHECK(refused.status == 404);
  CHECK(http(server.port(), "GET", "/v1/graphs/failing/dead-letters").body == before);
  const auto first_id = sluice::json::parse(before).get("dead_letters")->as_array().at(0).get("id")->as_int();
  const auto replayed = http(server.port(), "POST", "/v1/graphs/failing/dead-letters/replay",
                             R"({"ids": [)" + std::to_string(first_id) + R"(], "node": "out"})",
                             {{"Content-Type", "application/json"}});
  CHECK_MESSAGE(replayed.status == 202, replayed.body);
  CHECK(server.stop(SIGKILL) == 128 + SIGKILL);
  ServerProcess again(dir);
  REQUIRE(wait_until([&] { return ready(again); }, 30s));
  const auto left = http(again.port(), "GET", "/v1/graphs/failing/dead-letters").json();
  REQUIRE(left.get("count")->as_int() == 2);
  CHECK(left.get("dead_letters")->as_array().at(0).get("id")->as_int() == first_id + 1);
  CHECK(again.stop() == 0);
}

namespace {

// The server's sluice_wal_records_written_total.
unsigned long long wal_records_written(ServerProcess& server) {
  const std::string text = http(server.port(), "GET", "/metrics").body;
  const std::string name = "\nsluice_wal_records_written_total ";
  const auto at = text.find(name);
  REQUIRE(at != std::string::npos);
  return std::stoull(text.substr(at + name.size()));
}

}  // namespace

TEST_CASE("a submission the server refuses is not written to the log") {
  TempDir dir;
  write_file(dir.path / "graphs" / "ingest.yaml", sink_graph(dir.path / "var" / "data" / "out.jsonl"));
  ServerProcess server(dir);
  REQUIRE(wait_until([&] { return ready(server); }, 30s));
  const auto records = [&] { return wal_records_written(server); };
  const auto before = records();
  CHECK(http(server.port(), "POST", "/v1/graphs/ingest/packets?node=nowhere", "{\"key\": \"a\"}\n", ndjson_type).status == 404);
  CHECK(http(server.port(), "POST", "/v1/graphs/missing/packets", "{\"key\": \"a\"}\n", ndjson_type).status == 404);
  CHECK(records() == before);
  stream_of(http(server.port(), "POST", "/v1/graphs/ingest/packets", "{\"key\": \"b\"}\n", ndjson_type));
  CHECK(records() > before);  // the counter moves for what is taken
  CHECK(server.stop() == 0);
}

TEST_CASE("a submission refused because the graph is full is not written to the log either") {
  TempDir dir;
  write_file(dir.path / "graphs" / "slow.yaml",
             "nodes:\n  slow: {component: rest_slow, params: {ms: 5000}}\n  out: {component: rest_collect}\n"
             "pipeline: [slow, out]\n");
  ServerProcess server(dir, {"--plugins", SLOW_FIXTURE_PLUGIN_DIR, "--max-queued", "1000"});
  REQUIRE(wait_until([&] { return ready(server); }, 30s));
  const auto records = [&] { return wal_records_written(server); };
  std::string body;
  for (int i = 0; i < 1000; ++i) body += "{\"n\": " + std::to_string(i) + "}\n";
  // The slow node holds one packet for 5 s: its input queue fills, then the ingress.
  int answered_429 = 0;
  REQUIRE(wait_until([&] {
    const int status = http(server.port(), "POST", "/v1/graphs/slow/packets", body, ndjson_type).status;
    answered_429 = status == 429 ? answered_429 + 1 : 0;
    return answered_429 == 2;  // twice in a row: full, not a moment's race with the worker
  }, 20s));
  const auto before = records();
  for (int i = 0; i < 5; ++i)
    CHECK(http(server.port(), "POST", "/v1/graphs/slow/packets", body, ndjson_type).status == 429);
  CHECK(records() == before);
}


TEST_CASE("a full disk under the log: 503 with Retry-After, the server stays up, and takes submissions again once there is room") {
  TempDir dir;
  const fs::path output = dir.path / "var" / "data" / "out.jsonl";
  write_file(dir.path / "graphs" / "ingest.yaml", sink_graph(output));
  SmallDisk disk(dir.path / "var" / "wal", 256 << 10);
  {
    ServerProcess server(dir);
    REQUIRE(wait_until([&] { return ready(server); }, 30s));
    stream_of(http(server.port(), "POST", "/v1/graphs/ingest/packets", "{\"key\": \"before\"}\n", ndjson_type));
    REQUIRE(wait_until([&] { return count_keys(output).contains("before"); }, 10s));

    disk.fill();
    std::string big;  // more than the last page the segment may still have room in
    for (int i = 0; i < 100; ++i) big += "{\"key\": \"refused-" + std::to_string(i) + "\"}\n";
    for (int attempt = 0; attempt < 3; ++attempt) {
      const auto refused = http(server.port(), "POST", "/v1/graphs/ingest/packets", big, ndjson_type);
      CHECK(refused.status == 503);
      CHECK(refused.header("retry-after") == "1");
      CHECK_MESSAGE(refused.body.find("No space left on device") != std::string::npos, refused.body);
    }
    CHECK(http(server.port(), "GET", "/healthz").status == 200);

    disk.unfill();
    stream_of(http(server.port(), "POST", "/v1/graphs/ingest/packets", "{\"key\": \"after\"}\n", ndjson_type));
    CHECK(wait_until([&] { return count_keys(output).contains("after"); }, 10s));
    CHECK(server.stop() == 0);
  }
  // Nothing refused was processed, and everything taken completed: nothing to replay.
  ServerProcess again(dir);
  CHECK(wait_for_recovery_line(again).find("replayed 0 submissions (0 packets), 0 lost") != std::string::npos);
  CHECK(count_keys(output) == std::map<std::string, int>{{"after", 1}, {"before", 1}});
  CHECK(again.stop() == 0);
}

TEST_CASE("a graph's durability: none keeps its submissions in memory beside logged graphs; wal is refused without a log") {
  TempDir dir;
  write_file(dir.path / "graphs" / "ingest.yaml", sink_graph(dir.path / "var" / "data" / "out.jsonl"));
  const std::string memory_graph =
      "name: memory\ndurability: none\nnodes:\n  out: {component: jsonl_file, params: {path: memory.jsonl}}\n";
  write_file(dir.path / "graphs" / "memory.yaml", memory_graph);
  {
    ServerProcess server(dir);
    REQUIRE(wait_until([&] { return ready(server); }, 30s));
    const auto records_before = wal_records_written(server);
    const std::string stream =
        stream_of(http(server.port(), "POST", "/v1/graphs/memory/packets", "{\"key\": \"m\"}\n", ndjson_type));
    CHECK_FALSE(http(server.port(), "GET", "/v1/streams/" + stream).json().get("durable")->as_bool());
    const auto waited = http(server.port(), "POST", "/v1/graphs/memory/packets?wait=true", "{\"key\": \"w\"}\n", ndjson_type);
    REQUIRE(waited.status == 200);
    CHECK_FALSE(waited.json().get("durable")->as_bool());
    CHECK(wal_records_written(server) == records_before);  // neither was logged
    const std::string logged =
        stream_of(http(server.port(), "POST", "/v1/graphs/ingest/packets", "{\"key\": \"l\"}\n", ndjson_type));
    CHECK(http(server.port(), "GET", "/v1/streams/" + logged).json().get("durable")->as_bool());

    std::map<std::string, std::string> durability_of;
    const sluice::Value listed = http(server.port(), "GET", "/v1/graphs").json();
    for (const auto& graph : listed.get("graphs")->as_array())
      durability_of[graph.get("name")->as_string()] = graph.get("durability")->as_string();
    CHECK(durability_of == std::map<std::string, std::string>{{"ingest", "wal"}, {"memory", "none"}});
    // The JSON form carries the key, and PUT back as it is keeps it.
    const auto document = http(server.port(), "GET", "/v1/graphs/memory", "", {{"Accept", "application/json"}});
    CHECK(document.json().get("durability")->as_string() == "none");
    CHECK(http(server.port(), "PUT", "/v1/graphs/memory", document.body, {{"Content-Type", "application/json"}}).status == 200);
    CHECK(http(server.port(), "GET", "/v1/graphs/memory", "", {{"Accept", "application/json"}}).json().get("durability")->as_string() == "none");
    CHECK(server.stop() == 0);
  }

  // Without a log a graph cannot have one: its file and a PUT are refused, at the key.
  write_file(dir.path / "graphs" / "wants.yaml",
             "name: wants\ndurability: wal\nnodes:\n  out: {component: jsonl_file, params: {path: wants.jsonl}}\n");
  ServerProcess server(dir, {"--durability", "none"});
  REQUIRE(wait_until([&] { return ready(server); }, 30s));
  const std::string needs = "'durability: wal' needs the write-ahead log, and this server runs with --durability none";
  CHECK_MESSAGE(server.stderr_text().find("wants.yaml:2:13: error: " + needs) != std::string::npos, server.stderr_text());
  CHECK(http(server.port(), "GET", "/v1/graphs/wants").status == 404);
  const auto refused = http(server.port(), "PUT", "/v1/graphs/wants", read_file(dir.path / "graphs" / "wants.yaml"),
                            {{"Content-Type", "application/yaml"}});
  CHECK(refused.status == 422);
  CHECK_MESSAGE(refused.body.find(needs) != std::string::npos, refused.body);
  // The graphs that do not ask for it run as before.
  stream_of(http(server.port(), "POST", "/v1/graphs/memory/packets", "{\"key\": \"m2\"}\n", ndjson_type));
}
