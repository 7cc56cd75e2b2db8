// nats_publish and nats_source in a real `sluice serve` against a real nats-server on loopback:
// the REST → JetStream → graph round trip through a server restart, and the ack contract
// through a kill -9 of sluice.
#include <doctest/doctest.h>

#include "nats_graphs.hpp"
#include "../../plugins/nats/nats_server.hpp"

using namespace rest_test;
using namespace nats_test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST_CASE("REST → nats_publish → JetStream → nats_source → file: a nats-server restart mid-stream loses nothing") {
  TempDir dir;
  NatsServer nats(dir.path / "nats");
  NatsClient(nats.url()).add_stream("JOBS", "jobs.>", 1);
  write_file(dir.path / "graphs/ingest.yaml", publish_graph({nats.url()}));
  write_file(dir.path / "graphs/work.yaml", consume_graph({nats.url()}, 5000, 200));
  ServerProcess sluice(dir);
  REQUIRE(wait_until([&] { return ready(sluice); }, 20s));
  const fs::path output = dir.path / "var/data/done.jsonl";

  Poster poster([&] { return std::vector<std::uint16_t>{sluice.port()}; });
  REQUIRE_MESSAGE(wait_until([&] { return poster.acknowledged_count() >= 500 && processed({output}).times.size() >= 200; }, 30s),
                  sluice.stderr_text());
  nats.kill(SIGTERM);
  nats.start();  // the same port and store: the clients reconnect
  const std::size_t before = poster.acknowledged_count();
  REQUIRE_MESSAGE(wait_until([&] { return poster.acknowledged_count() >= before + 500; }, 30s), sluice.stderr_text());
  poster.stop();

  const auto acknowledged = poster.acknowledged();
  std::vector<std::string> missing;
  CHECK_MESSAGE(wait_until([&] { return (missing = missing_from(acknowledged, processed({output}))).empty(); }, 30s),
                missing.size() << " of " << acknowledged.size() << " acknowledged keys not processed; "
                               << sluice.stderr_text());
  CHECK(sluice.stop() == 0);
}

TEST_CASE("kill -9 of sluice mid-stream: the restarted sluice gets again every message that was not done") {
  TempDir dir;
  NatsServer nats(dir.path / "nats");
  NatsClient client(nats.url());
  client.add_stream("JOBS", "jobs.>", 1);
  constexpr int messages = 3000;
  for (int i = 0; i < messages; ++i)
    client.publish("jobs.a", "{\"key\": \"k" + std::to_string(i) + "\"}", "m" + std::to_string(i));
  // fsync after every line: slow enough for the kill to land mid-stream.
  write_file(dir.path / "graphs/work.yaml", consume_graph({nats.url()}, 1000, 50, true));
  const fs::path output = dir.path / "var/data/done.jsonl";
  {
    ServerProcess sluice(dir);
    REQUIRE_MESSAGE(wait_until([&] { return processed({output}).times.size() >= 300; }, 30s), sluice.stderr_text());
    // Held back by the slow sink: sluice holds max_in_flight (50) unacked, the rest waits in
    // JetStream rather than in sluice's memory.
    const auto [unacked, waiting] = client.consumer_backlog("JOBS", "workers");
    CHECK(unacked <= 50);
    CHECK(waiting > 0);
    sluice.stop(SIGKILL);
  }
  CHECK(processed({output}).times.size() < static_cast<std::size_t>(messages));
  ServerProcess restarted(dir);
  Processed after;
  CHECK_MESSAGE(wait_until([&] { return (after = processed({output})).times.size() == messages; }, 30s),
                after.times.size() << " of " << messages << " keys; " << restarted.stderr_text());
  // What was in flight at the kill came again; only what was done then and not yet acked
  // (50 in flight at most) was processed twice: what was done and acked never came back.
  MESSAGE(after.redelivered << " messages delivered again, " << after.duplicates() << " processed twice");
  CHECK(after.redelivered >= 1);
  CHECK(after.duplicates() <= 50);
  CHECK(restarted.stop() == 0);
}
