// Running a server: metrics, stats, dead letters and replay, overload, graceful stop, the log.
#include <future>
#include <regex>
#include <sstream>

#include "test_support.hpp"

using namespace rest_test;

TEST_CASE("/metrics has per-node counters, responses by status, dead letters and memory") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir);
  REQUIRE(http(server.port(), "POST", "/v1/graphs/echo/packets?wait=true", R"([{"a": 1}, {"a": 2}])", json_type).status == 200);
  REQUIRE(http(server.port(), "GET", "/nothing").status == 404);

  const auto metrics = http(server.port(), "GET", "/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.header("content-type").value_or("").find("text/plain; version=0.0.4") == 0);
  const std::string& text = metrics.body;
  CHECK(text.find("# TYPE sluice_node_packets_in_total counter") != std::string::npos);
  CHECK(text.find("sluice_node_packets_in_total{graph=\"echo\",node=\"pass\",component=\"rest_pass\"} 2") != std::string::npos);
  CHECK(text.find("sluice_node_packets_out_total{graph=\"echo\",node=\"pass\"") != std::string::npos);
  CHECK(text.find("sluice_node_errors_total{graph=\"echo\"") != std::string::npos);
  CHECK(text.find("sluice_node_dropped_total{graph=\"echo\"") != std::string::npos);
  CHECK(text.find("sluice_node_queue_depth{graph=\"echo\"") != std::string::npos);
  CHECK(text.find("sluice_node_busy_seconds_total{graph=\"echo\"") != std::string::npos);
  CHECK(text.find("sluice_dead_letters{graph=\"echo\"} 0") != std::string::npos);
  CHECK(text.find("sluice_http_requests_total{code=\"200\"}") != std::string::npos);
  CHECK(text.find("sluice_http_requests_total{code=\"404\"} 1") != std::string::npos);
  CHECK(text.find("sluice_ingress_packets_total 2") != std::string::npos);
  CHECK(text.find("process_resident_memory_bytes ") != std::string::npos);

  const auto stats = http(server.port(), "GET", "/v1/graphs/echo/stats").json();
  CHECK(stats.get("instances")->as_int() >= 1);
  CHECK(stats.get("nodes")->as_array().at(0).get("in")->as_int() == 2);
  CHECK(http(server.port(), "GET", "/v1/graphs/nope/stats").status == 404);

  const auto components = http(server.port(), "GET", "/v1/components").json();
  CHECK(components.to_display_string().find("rest_slow") != std::string::npos);
  CHECK(http(server.port(), "GET", "/v1/plugins").json().get("packages") != nullptr);
  CHECK(server.stop() == 0);
}

TEST_CASE("stats and streams count dropped packets per node and by port, filtered ones under (filtered)") {
  TempDir dir;
  write_file(dir.path / "graphs/picky.yaml",
             "name: picky\nnodes:\n  match: { component: rest_match, params: { pattern: \"^a\" } }\n"
             "  keep: { component: rest_collect }\nedges: [match -> keep]\n");
  ServerProcess server(dir);
  const auto waited = http(server.port(), "POST", "/v1/graphs/picky/packets?wait=true",
                           R"([{"text": "apple"}, {"text": "pear"}, {"text": "plum"}, {"text": "avocado"}, {"text": "fig"}])",
                           json_type);
  REQUIRE(waited.status == 200);
  // The stream says where its own packets left, in the wait answer and when looked up later.
  const auto result = waited.json();
  CHECK(result.get("dropped")->as_int() == 3);
  REQUIRE(result.get("dropped_at") != nullptr);
  CHECK(sluice::json::to_string(*result.get("dropped_at")) == R"js({"match":{"(filtered)":3}})js");
  const auto looked_up =
      http(server.port(), "GET", "/v1/streams/" + result.get("stream")->as_string()).json();
  REQUIRE(looked_up.get("dropped_at") != nullptr);
  CHECK(sluice::json::to_string(*looked_up.get("dropped_at")) == R"js({"match":{"(filtered)":3}})js");
  const auto stats = http(server.port(), "GET", "/v1/graphs/picky/stats").json();
  const auto& nodes = stats.get("nodes")->as_array();
  REQUIRE(nodes.size() == 2);
  const auto& match = nodes.at(0);
  CHECK(match.get("node")->as_string() == "match");
  CHECK(match.get("dropped")->as_int() == 3);
  REQUIRE(match.get("dropped_by_port") != nullptr);
  CHECK(sluice::json::to_string(*match.get("dropped_by_port")) == R"js({"(filtered)":3})js");
  CHECK(sluice::json::to_string(*nodes.at(1).get("dropped_by_port")) == "{}");
  CHECK(server.stop() == 0);
}

TEST_CASE("failed packets: errors in the wait result, dead letters to inspect and replay") {
  TempDir dir;
  write_file(dir.path / "graphs/failing.yaml", failing_graph);
  ServerProcess server(dir);

  const auto r = http(server.port(), "POST", "/v1/graphs/failing/packets?wait=true",
                      R"([{"fail": true, "n": 1}, {"n": 2}])", json_type);
  REQUIRE(r.status == 200);
  const sluice::Value result = r.json();
  CHECK(result.get("status")->as_string() == "failed");
  CHECK(result.get("results")->as_array().size() == 1);
  const auto& errors = result.get("errors")->as_array();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].get("node")->as_string() == "failing/check");
  CHECK(errors[0].get("error")->as_string().find("asked to fail") != std::string::npos);
  CHECK(errors[0].get("packet")->get("n")->as_int() == 1);

  const auto letters = http(server.port(), "GET", "/v1/graphs/failing/dead-letters").json();
  REQUIRE(letters.get("count")->as_int() == 1);
  const auto& letter = letters.get("dead_letters")->as_array().at(0);
  CHECK(letter.get("node")->as_string().ends_with("check"));
  const std::int64_t id = letter.get("id")->as_int();

  // Ids that are not there: 404 naming them, and nothing is replayed.
  const auto unknown = http(server.port(), "POST", "/v1/graphs/failing/dead-letters/replay",
                            R"({"ids": [)" + std::to_string(id) + ", " + std::to_string(id + 1000) + "]}", json_type);
  REQUIRE(unknown.status == 404);
  CHECK(*unknown.json().get("ids") == sluice::Value(sluice::Array{id + 1000}));
  CHECK(http(server.port(), "GET", "/v1/graphs/failing/dead-letters").json().get("count")->as_int() == 1);

  const auto replayed = http(server.port(), "POST", "/v1/graphs/failing/dead-letters/replay",
                             R"({"ids": [)" + std::to_string(id) + "]}", json_type);
  CHECK(replayed.status == 202);
  CHECK(replayed.json().get("accepted")->as_int() == 1);
  CHECK_FALSE(replayed.json().get("stream")->as_string().empty());
  const auto again = http(server.port(), "POST", "/v1/graphs/failing/dead-letters/replay",
                          R"({"ids": [)" + std::to_string(id) + "]}", json_type);
  CHECK(again.status == 404);  // replayed already
  CHECK(http(server.port(), "POST", "/v1/graphs/failing/dead-letters/replay", R"({"bogus": 1})", json_type).status == 400);
  CHECK(server.stop() == 0);
}

TEST_CASE("a full graph answers 429 with Retry-After; readiness turns false") {
  TempDir dir;
  write_file(dir.path / "graphs/slow.yaml", slow_graph("slow", 5));
  // The ingress limit counts packets not yet taken in by the source node, whose own input
  // queue (1024) fills first: batches of 256 overflow both within a few requests.
  ServerProcess server(dir, {"--max-queued", "256", "--workers", "1"});
  std::string batch;
  for (int i = 0; i < 256; ++i) batch += "{}\n";
  const Headers ndjson = {{"Content-Type", "application/x-ndjson"}};

  HttpResult last;
  REQUIRE(wait_until([&] {
    last = http(server.port(), "POST", "/v1/graphs/slow/packets", batch, ndjson);
    return last.status == 429;
  }, std::chrono::seconds(10)));
  CHECK(http(server.port(), "GET", "/readyz").status == 503);
  CHECK(last.header("retry-after") == "1");
  CHECK(last.json().get("graph")->as_string() == "slow");

  // More packets in one request than a graph can ever queue: not something to retry.
  CHECK(http(server.port(), "POST", "/v1/graphs/slow/packets", batch + "{}\n", ndjson).status == 413);
  CHECK(server.stop() == 0);
}

TEST_CASE("1 MB and 4 MB packets under overload: 429 from the byte bounds, resident memory bounded") {
  for (const std::size_t size : {std::size_t{1} << 20, std::size_t{4} << 20}) {
    CAPTURE(size);
    TempDir dir;
    write_file(dir.path / "graphs/slow.yaml", slow_graph("slow", 500));
    // The memory bounds are the defaults: --max-queued-bytes 64MiB per instance, edges of
    // 8 MiB. Without the write-ahead log, which would refuse with 503 at its own bound (of
    // disk: refused submissions are logged too, with their completion).
    ServerProcess server(dir, {"--workers", "1", "--durability", "none"});
    const std::uint16_t port = server.port();
    const std::string body = R"({"blob": ")" + std::string(size, 'x') + R"("})";
    std::size_t offered = 0, accepted = 0, refused = 0;
    bool unready = false;
    while (offered < (std::size_t{1} << 30)) {  // 1 GB, of which the slow node takes little
      const auto answer = http(port, "POST", "/v1/graphs/slow/packets", body, json_type);
      INFO(answer.status << " " << answer.body);
      REQUIRE((answer.status == 202 || answer.status == 429));
      if (answer.status == 202) ++accepted;
      if (answer.status == 429 && ++refused && !unready) unready = http(port, "GET", "/readyz").status == 503;
      offered += size;
    }
    const std::size_t peak = process_memory_bytes(server.pid(), "VmHWM");
    MESSAGE((size >> 20) << " MB packets: " << accepted << " accepted, " << refused << " refused (429), peak RSS "
                         << (peak >> 20) << " MiB");
    CHECK(refused > 0);
    CHECK(unready);
    const auto stats = http(port, "GET", "/v1/graphs/slow/stats").json();
    CHECK(stats.get("queued_bytes")->as_int() <= 64 << 20);
    // Queued 64 MiB, two edges of 8 MiB, the stream history's 64 MiB, the bodies being read.
    CHECK(peak < std::size_t{400} << 20);
    server.stop(SIGKILL);  // not the minute a drain of the slow node would take
  }
}

TEST_CASE("SIGTERM: stop admitting (503), drain what was admitted, exit 0") {
  TempDir dir;
  write_file(dir.path / "graphs/slow.yaml", slow_graph("slow", 800));
  ServerProcess server(dir);
  const std::uint16_t port = server.port();

  HttpConnection waiting(port);
  waiting.send_raw(format_request("POST", "/v1/graphs/slow/packets?wait=true&timeout=20s", R"({"k": 1})", json_type));
  // The packet is in the slow node before the signal arrives.
  REQUIRE(wait_until([&] {
    return http(port, "GET", "/v1/graphs/slow/stats").json().get("nodes")->as_array().at(0).get("in")->as_int() == 1;
  }, std::chrono::seconds(10)));

  auto stopped = std::async(std::launch::async, [&] { return server.stop(SIGTERM); });
  // While it drains, new data is refused.
  bool refused = wait_until([&] {
    try {
      return http(port, "POST", "/v1/graphs/slow/packets", "{}", json_type).status == 503;
    } catch (const std::exception&) {
      return false;  // already gone: then the drain was quicker than this loop
    }
  }, std::chrono::seconds(5));
  const auto result = waiting.read_response();
  CHECK(result.status == 200);
  CHECK(result.json().get("results")->as_array().size() == 1);
  CHECK(stopped.get() == 0);
  CHECK(refused);
}

TEST_CASE("SIGTERM drains for at most --drain-timeout, exits 0, and the next start replays what was not done") {
  TempDir dir;
  write_file(dir.path / "graphs/slow.yaml", slow_graph("slow", 2000));
  std::string batch;
  for (int i = 0; i < 10; ++i) batch += "{\"n\": " + std::to_string(i) + "}\n";
  const Headers ndjson = {{"Content-Type", "application/x-ndjson"}};
  const auto node_in = [](std::uint16_t port, std::size_t node) {
    return http(port, "GET", "/v1/graphs/slow/stats").json().get("nodes")->as_array().at(node).get("in")->as_int();
  };
  {
    ServerProcess server(dir, {"--workers", "1", "--drain-timeout", "1s"});
    REQUIRE(http(server.port(), "POST", "/v1/graphs/slow/packets", batch, ndjson).status == 202);
    REQUIRE(wait_until([&] { return node_in(server.port(), 0) >= 1; }, 10s));
    const auto signalled = std::chrono::steady_clock::now();
    CHECK(server.stop(SIGTERM) == 0);
    // Draining all of it would take 20 s.
    CHECK(std::chrono::steady_clock::now() - signalled < 10s);
    CHECK_MESSAGE(server.stderr_text().find("did not drain within --drain-timeout 1000 ms") != std::string::npos,
                  server.stderr_text());
  }
  write_file(dir.path / "graphs/slow.yaml", slow_graph("slow", 1));
  ServerProcess again(dir, {"--workers", "1"});
  REQUIRE_MESSAGE(wait_until([&] { return again.stdout_text().find("replayed 1 submissions (10 packets, 1 into a changed graph)") != std::string::npos; },
                             30s),
                  again.stdout_text());
  REQUIRE(wait_until([&] { return node_in(again.port(), 1) == 10; }, 30s));
  CHECK(again.stop() == 0);
}

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("the log: UTC timestamps and levels per line, JSON lines with --log-format json, --log-level filters") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  write_file(dir.path / "graphs/broken.yaml", "name: broken\nnodes:\n  a: { component: nowhere }\npipeline: [a]\n");

  SUBCASE("text") {
    ServerProcess server(dir);
    CHECK(server.stop() == 0);
    const auto lines = lines_of(server.stderr_text());
    REQUIRE_FALSE(lines.empty());
    const std::regex shape(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (info|warn|error) +\S.*)");
    for (const auto& line : lines) {
      CAPTURE(line);
      CHECK(std::regex_match(line, shape));
    }
    CHECK(server.stderr_text().find("info  deployed graph 'echo' from its file") != std::string::npos);
    CHECK(std::regex_search(server.stderr_text(), std::regex(R"(Z error .*broken\.yaml:3:)")));
  }
  SUBCASE("json") {
    ServerProcess server(dir, {"--log-format", "json"});
    CHECK(server.stop() == 0);
    bool deployed = false, refused = false;
    for (const auto& line : lines_of(server.stderr_text())) {
      CAPTURE(line);
      const sluice::Value entry = sluice::json::parse(line);
      REQUIRE(entry.get("time") != nullptr);
      CHECK(std::regex_match(entry.get("time")->as_string(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
      const std::string level = entry.get("level")->as_string();
      const std::string message = entry.get("message")->as_string();
      deployed = deployed || (level == "info" && message == "deployed graph 'echo' from its file");
      refused = refused || (level == "error" && message.find("broken.yaml:3:") != std::string::npos &&
                            message.find("unknown component 'nowhere'") != std::string::npos);
    }
    CHECK(deployed);
    CHECK(refused);
  }
  SUBCASE("--log-level warn keeps the error, drops the info") {
    ServerProcess server(dir, {"--log-level", "warn"});
    CHECK(server.stop() == 0);
    CHECK(server.stderr_text().find("deployed graph 'echo'") == std::string::npos);
    CHECK(server.stderr_text().find("broken.yaml:3:") != std::string::npos);
  }
}

TEST_CASE("the log: a component's lines name its node, and follow the server's level and format") {
  TempDir dir;
  // A torn last line, as a kill -9 in the middle of a write leaves it: jsonl_file cuts it off
  // at its first write and says so in the node's log (sluice/log.hpp).
  write_file(dir.path / "var/data/out.jsonl", "{\"n\":1}\n{\"n\":2,\"te");
  write_file(dir.path / "graphs/sink.yaml",
             "name: sink\nnodes:\n  out: { component: jsonl_file, params: { path: out.jsonl } }\n");
  const auto post_one = [](const ServerProcess& server) {
    REQUIRE(http(server.port(), "POST", "/v1/graphs/sink/packets?wait=true", R"({"n": 3})", json_type).status == 200);
  };
  const std::string said = "dropped a torn last line (10 bytes) left by a crash";

  SUBCASE("text: timestamp, level, graph/node") {
    ServerProcess server(dir);
    post_one(server);
    CHECK(server.stop() == 0);
    CHECK(std::regex_search(server.stderr_text(),
                            std::regex(R"(\d\d\.\d{3}Z warn  sink/out: \S*out\.jsonl: dropped a torn last line)")));
    CHECK(read_file(dir.path / "var/data/out.jsonl") == "{\"n\":1}\n{\"n\":3}\n");
  }
  SUBCASE("json: one object per line") {
    ServerProcess server(dir, {"--log-format", "json"});
    post_one(server);
    CHECK(server.stop() == 0);
    bool found = false;
    for (const auto& line : lines_of(server.stderr_text())) {
      CAPTURE(line);
      const sluice::Value entry = sluice::json::parse(line);
      const std::string message = entry.get("message")->as_string();
      found = found || (entry.get("level")->as_string() == "warn" && message.starts_with("sink/out: ") &&
                        message.find(said) != std::string::npos);
    }
    CHECK(found);
  }
  SUBCASE("--log-level error drops it") {
    ServerProcess server(dir, {"--log-level", "error"});
    post_one(server);
    CHECK(server.stop() == 0);
    CHECK(server.stderr_text().find(said) == std::string::npos);
  }
}

namespace {

// Write system calls the process has made so far (write, writev, pwrite...: syscw of
// /proc/PID/io, all its threads).
std::uint64_t write_calls(pid_t pid) {
  std::ifstream io("/proc/" + std::to_string(pid) + "/io");
  for (std::string key; io >> key;) {
    std::uint64_t value = 0;
    io >> value;
    if (key == "syscw:") return value;
  }
  FAIL("no syscw in /proc/" << pid << "/io");
  return 0;
}

}  // namespace

TEST_CASE("jsonl_file writes the packets waiting in its queue with one write(2), and each stream completes after its lines") {
  TempDir dir;
  write_file(dir.path / "graphs/sink.yaml",
             "name: sink\nnodes:\n  out: { component: jsonl_file, params: { path: out.jsonl } }\n");
  ServerProcess server(dir, {"--durability", "none"});
  const std::uint64_t writes_before = write_calls(server.pid());
  constexpr int posts = 20, lines = 1000;
  for (int post = 0; post < posts; ++post) {
    std::string body;
    for (int i = 0; i < lines; ++i) body += "{\"post\": " + std::to_string(post) + ", \"i\": " + std::to_string(i) + "}\n";
    REQUIRE(http(server.port(), "POST", "/v1/graphs/sink/packets?wait=true", body,
                 {{"Content-Type", "application/x-ndjson"}}).status == 200);
    // Answered once its stream is done: by then every line of it is in the file.
    CHECK(lines_of(read_file(dir.path / "var/data/out.jsonl")).size() == static_cast<std::size_t>((post + 1) * lines));
  }
  const std::uint64_t writes = write_calls(server.pid()) - writes_before;
  MESSAGE(writes << " write calls for " << posts * lines << " lines in " << posts << " requests");
  // One a line was 20 000; batches of what waited in the queue are a few dozen (answers and
  // log lines are writes too).
  CHECK(writes < static_cast<std::uint64_t>(posts * lines / 10));
  CHECK(server.stop() == 0);
}
