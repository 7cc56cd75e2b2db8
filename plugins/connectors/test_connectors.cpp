// The connectors package: each source run in the SDK's SourceHarness (its own thread, the real
// clock), each sink against real files.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <sluice/harness.hpp>

#include "generate.hpp"
#include "plugin_test.hpp"

using namespace sluice;
using namespace sluice::connectors;
using namespace std::chrono_literals;

TEST_CASE("the module exports its components") { check_plugin_module({"generate"}); }

TEST_CASE("generate makes `count` packets in batches, numbered by {seq}, then stops by itself") {
  SourceHarness h(describe<Generate>(),
                  {{"payload", Object{{"n", "{seq}"}, {"text", "packet {seq} of {{7}}"}, {"fixed", 1}}},
                   {"interval_ms", 0},
                   {"count", 7},
                   {"batch", 3}});
  REQUIRE(h.wait_finished());
  CHECK(h.error() == "");
  const auto packets = h.take_packets();
  REQUIRE(packets.size() == 7);
  CHECK(h.streams_sent() == 3);  // 3 + 3 + 1
  for (std::size_t i = 0; i < packets.size(); ++i) {
    CHECK(packets[i].get("n")->as_string() == std::to_string(i + 1));
    CHECK(packets[i].get("fixed")->as_int() == 1);
  }
  CHECK(packets[6].get("text")->as_string() == "packet 7 of {7}");
}

TEST_CASE("generate puts the UTC time in {now}") {
  SourceHarness h(describe<Generate>(), {{"payload", Object{{"at", "{now}"}}}, {"count", 1}});
  REQUIRE(h.wait_finished());
  const auto packets = h.take_packets();
  REQUIRE(packets.size() == 1);
  const std::string at = packets[0].get("at")->as_string();
  CHECK(at.size() == 24);  // 2026-01-02T03:04:05.678Z
  CHECK(at[10] == 'T');
  CHECK(at.back() == 'Z');
}

TEST_CASE("generate keeps its interval and stops at once when told, mid-wait") {
  SourceHarness h(describe<Generate>(), {{"interval_ms", 50}});
  REQUIRE(h.wait_for_packets(3));
  const auto started = std::chrono::steady_clock::now();
  const auto packets = h.take_packets();
  h.stop();
  CHECK(std::chrono::steady_clock::now() - started < 1s);
  CHECK(packets.size() >= 3);
  CHECK(h.error() == "");
}

TEST_CASE("generate is held back while its packets are not done") {
  SourceHarness h(describe<Generate>(), {{"interval_ms", 0}}, "", /*max_in_flight=*/5);
  REQUIRE(h.wait_for_packets(5));
  // Nothing is acked: the sixth send waits. Acking lets exactly the next batch of five go.
  CHECK(h.take_packets().size() == 5);
  CHECK(h.ack_all() == 5);
  REQUIRE(h.wait_for_packets(10));
  CHECK(h.take_packets().size() == 5);
}

TEST_CASE("generate refuses an unknown placeholder, naming it") {
  CHECK_THROWS_WITH_AS(SourceHarness(describe<Generate>(), {{"payload", Object{{"a", Array{"{sqe}"}}}}}),
                       doctest::Contains("param 'payload': unknown placeholder at offset 0 in \"{sqe}\""),
                       std::runtime_error);
}
