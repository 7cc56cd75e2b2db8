// Tests of {{cookiecutter.name}} on the SDK's harness: no kernel, no server. The component runs on
// its own fiber as in a graph; push() returns once it waits for the next packet.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <sluice/harness.hpp>
#include <sluice/json.hpp>

#include "{{cookiecutter.name}}.hpp"

using {{cookiecutter.name}}::{{cookiecutter.class_name}};
using sluice::ComponentHarness;

TEST_CASE("the descriptor is sound") {
  CHECK(sluice::descriptor_problems(sluice::describe<{{cookiecutter.class_name}}>()).empty());
}

namespace {

std::vector<std::int64_t> numbers(const std::vector<sluice::Packet>& packets) {
  std::vector<std::int64_t> n;
  for (const auto& p : packets) n.push_back(p.get("n")->as_int());
  return n;
}

}  // namespace

// The source runs on a thread of its own, as in a graph; the harness collects what it sends
// and completes its streams when the test says so (ack_all).
TEST_CASE("sends count packets in batches, then stops by itself") {
  sluice::SourceHarness h(sluice::describe<{{cookiecutter.class_name}}>(), { {"count", 5}, {"batch", 2}, {"interval_ms", 0}});
  REQUIRE(h.wait_finished());
  CHECK(numbers(h.take_packets()) == std::vector<std::int64_t>{1, 2, 3, 4, 5});
  CHECK(h.streams_sent() == 3);
}

TEST_CASE("is held back while its packets are not done (backpressure)") {
  // send() waits while 2 packets are in flight.
  sluice::SourceHarness h(sluice::describe<{{cookiecutter.class_name}}>(), { {"count", 0}, {"interval_ms", 0}}, "", 2);
  REQUIRE(h.wait_for_packets(2));
  CHECK_FALSE(h.wait_for_packets(3, std::chrono::milliseconds(200)));
  h.ack_all();
  CHECK(h.wait_for_packets(3));
}

TEST_CASE("after a restart it goes on after the last batch done, sending again what was not") {
  const auto state = std::filesystem::temp_directory_path() / ("{{cookiecutter.name}}-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(state);
  std::filesystem::create_directories(state);
  {
    sluice::SourceHarness h(sluice::describe<{{cookiecutter.class_name}}>(), { {"count", 3}, {"interval_ms", 0}}, state.string());
    REQUIRE(h.wait_finished());
    CHECK(numbers(h.take_packets()) == std::vector<std::int64_t>{1, 2, 3});
  }  // none done
  {
    sluice::SourceHarness h(sluice::describe<{{cookiecutter.class_name}}>(), { {"count", 2}, {"interval_ms", 0}}, state.string());
    REQUIRE(h.wait_finished());
    CHECK(h.ack_all() == 2);
  }  // 1 and 2 done
  sluice::SourceHarness h(sluice::describe<{{cookiecutter.class_name}}>(), { {"count", 3}, {"interval_ms", 0}}, state.string());
  REQUIRE(h.wait_finished());
  CHECK(numbers(h.take_packets()) == std::vector<std::int64_t>{3});
  std::filesystem::remove_all(state);
}
