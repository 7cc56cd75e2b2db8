// Crash injection: clients post NDJSON to a real `sluice serve` whose graph appends to a
// jsonl_file; the server is SIGKILLed at a random moment, restarted on the same state dir, and
// the file must hold every packet whose POST was answered 2xx. A 200 of ?wait=true means the
// stream was complete, so those packets must be there exactly once; duplicates are allowed
// only among the others (202: logged, perhaps not complete at the kill; no answer: in flight).
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "durable_support.hpp"

using namespace rest_test;
namespace fs = std::filesystem;

namespace {

constexpr int rounds = 20;
constexpr int clients = 3;
constexpr int packets_per_post = 50;

// What the clients were told, by packet key.
struct Ledger {
  std::mutex mutex;
  std::set<std::string> acknowledged;  // 202 or 200
  std::set<std::string> completed;     // 200 of ?wait=true: the stream was done
  std::set<std::string> unanswered;    // the connection died with the server
  std::size_t refused = 0;             // 429/503 answers (the client was told to retry)
  std::size_t posts_answered = 0;
  std::vector<int> unexpected;         // any other status (checked on the test's thread)
};

void post_until_stopped(std::uint16_t port, int client, int round, bool wait, const std::atomic<bool>& stop,
                        Ledger& ledger) {
  const std::string target = std::string("/v1/graphs/ingest/packets") + (wait ? "?wait=true" : "");
  for (int post = 0; !stop; ++post) {
    std::vector<std::string> keys;
    std::string body;
    for (int i = 0; i < packets_per_post; ++i) {
      keys.push_back("r" + std::to_string(round) + "-c" + std::to_string(client) + "-p" + std::to_string(post) +
                     "-" + std::to_string(i));
      body += "{\"key\": \"" + keys.back() + "\", \"text\": \"a record of about the size of a log line\"}\n";
    }
    int status = 0;
    try {
      status = http(port, "POST", target, body, {{"Content-Type", "application/x-ndjson"}}, 20s).status;
    } catch (const std::exception&) {
      status = 0;  // the server was killed while this was in flight
    }
    std::lock_guard lock(ledger.mutex);
    if (status == 200 || status == 202) {
      ledger.acknowledged.insert(keys.begin(), keys.end());
      if (status == 200) ledger.completed.insert(keys.begin(), keys.end());
      ++ledger.posts_answered;
    } else if (status == 0) {
      ledger.unanswered.insert(keys.begin(), keys.end());
      return;  // the server is gone
    } else if (status == 429 || status == 503) {
      ++ledger.refused;
    } else {
      ledger.unexpected.push_back(status);
    }
  }
}

}  // namespace

TEST_CASE("SIGKILL at random moments under load loses no acknowledged packet") {
  TempDir dir;
  const fs::path output = dir.path / "var" / "data" / "ingest.jsonl";
  write_file(dir.path / "graphs" / "ingest.yaml", sink_graph(output));
  const std::vector<std::string> args = {"--state-dir", (dir.path / "var").string()};

  Ledger ledger;
  std::mt19937 random(std::random_device{}());
  std::size_t replayed_total = 0;
  for (int round = 0; round <= rounds; ++round) {
    CAPTURE(round);
    ServerProcess server(dir, args);
    REQUIRE_MESSAGE(wait_until([&] { return ready(server); }, 60s), server.stderr_text());
    {
      // Recovery is done: everything acknowledged before the last kill must reach the file.
      std::lock_guard lock(ledger.mutex);
      const bool all_there = wait_until(
          [&] {
            const auto seen = count_keys(output);
            return std::all_of(ledger.acknowledged.begin(), ledger.acknowledged.end(),
                               [&](const std::string& key) { return seen.contains(key); });
          },
          30s);
      CHECK_MESSAGE(all_there, server.stderr_text());
    }
    std::string said;
    REQUIRE(wait_until([&] { return (said = server.stdout_text()).find(": replayed ") != std::string::npos; }, 10s));
    const auto at = said.find(": replayed ");
    replayed_total += std::stoul(said.substr(at + 11));
    if (round == rounds) break;

    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int client = 0; client < clients; ++client)
      threads.emplace_back(post_until_stopped, server.port(), client, round, client == 0, std::cref(stop),
                           std::ref(ledger));
    // Kill after a random number of answered POSTs, so the kill lands anywhere in the stream.
    const std::size_t kill_after =
        [&] { std::lock_guard lock(ledger.mutex); return ledger.posts_answered; }() + 1 + random() % 30;
    CHECK(wait_until([&] { std::lock_guard lock(ledger.mutex); return ledger.posts_answered >= kill_after; }, 60s));
    CHECK(server.stop(SIGKILL) == 128 + SIGKILL);
    stop = true;
    for (auto& thread : threads) thread.join();
  }

  std::size_t damaged = 0;
  const auto seen = count_keys(output, &damaged);
  std::size_t lost = 0, duplicated = 0, duplicated_completed = 0, unanswered_arrived = 0;
  for (const auto& key : ledger.acknowledged)
    if (!seen.contains(key)) ++lost;
  for (const auto& [key, count] : seen) {
    if (count > 1) ++duplicated;
    if (count > 1 && ledger.completed.contains(key)) ++duplicated_completed;
  }
  for (const auto& key : ledger.unanswered)
    if (seen.contains(key)) ++unanswered_arrived;
  std::printf("crash test: %d kills; %zu packets acknowledged (%zu of them complete), %zu unanswered at a kill "
              "(%zu of those arrived anyway), %zu refused POSTs, %zu submissions replayed; lost %zu, "
              "duplicated %zu (%zu of them complete), %zu damaged lines\n",
              rounds, ledger.acknowledged.size(), ledger.completed.size(), ledger.unanswered.size(),
              unanswered_arrived, ledger.refused, replayed_total, lost, duplicated, duplicated_completed, damaged);
  CHECK(ledger.unexpected.empty());
  CHECK(ledger.acknowledged.size() > 0);
  CHECK(lost == 0);
  CHECK(duplicated_completed == 0);
}
