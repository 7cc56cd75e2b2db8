// Sources and sinks of the connectors package in a real `sluice serve` on a loopback port.
#include <doctest/doctest.h>

#include <algorithm>

#include "../durable/durable_support.hpp"

using namespace rest_test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::size_t line_count(const fs::path& file) {
  if (!fs::exists(file)) return 0;
  const std::string text = read_file(file);
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("generate feeds a served graph: counted, in the metrics, and the graph takes no POST") {
  TempDir dir;
  write_file(dir.path / "graphs/ticks.yaml",
             "name: ticks\n"
             "pipeline: [tick, out]\n"
             "nodes:\n"
             "  tick: {component: generate, params: {interval_ms: 5, count: 20, payload: {n: '{seq}'}}}\n"
             "  out: {component: jsonl_file, params: {path: ticks.jsonl}}\n");
  ServerProcess server(dir);
  const fs::path output = dir.path / "var/data/ticks.jsonl";
  REQUIRE_MESSAGE(wait_until([&] { return line_count(output) == 20; }, 20s), server.stderr_text());
  const std::string text = read_file(output);
  CHECK(text.starts_with("{\"n\":\"1\"}\n"));
  CHECK(text.ends_with("{\"n\":\"20\"}\n"));

  const std::string metrics = http(server.port(), "GET", "/metrics").body;
  CHECK(metrics.find("sluice_node_packets_out_total{graph=\"ticks\",node=\"tick\",component=\"generate\"} 20") !=
        std::string::npos);

  const HttpResult posted = http(server.port(), "POST", "/v1/graphs/ticks/packets", "{\"a\": 1}",
                                 {{"Content-Type", "application/json"}});
  CHECK(posted.status == 409);
  CHECK(posted.body.find("takes no posted data") != std::string::npos);
  CHECK(server.stop() == 0);
}

TEST_CASE("a source deployed over REST starts at once and stops when its graph is deleted") {
  TempDir dir;
  fs::create_directories(dir.path / "graphs");
  ServerProcess server(dir);
  const HttpResult put = http(server.port(), "PUT", "/v1/graphs/beat",
                              "name: beat\npipeline: [tick, out]\nnodes:\n"
                              "  tick: {component: generate, params: {interval_ms: 1}}\n"
                              "  out: {component: jsonl_file, params: {path: beat.jsonl}}\n",
                              {{"Content-Type", "application/yaml"}});
  REQUIRE_MESSAGE(put.status / 100 == 2, put.body);
  const fs::path output = dir.path / "var/data/beat.jsonl";
  REQUIRE(wait_until([&] { return line_count(output) >= 10; }, 20s));
  CHECK(http(server.port(), "DELETE", "/v1/graphs/beat").status / 100 == 2);
  // The DELETE returns once the source has stopped and its packets are through.
  const std::size_t after_delete = line_count(output);
  CHECK(wait_until([&] { return http(server.port(), "GET", "/healthz").status == 200; }, 5s));
  CHECK(line_count(output) == after_delete);
  CHECK(server.stop() == 0);
}
