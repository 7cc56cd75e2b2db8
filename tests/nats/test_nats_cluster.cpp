// The distributed mode of docs/cluster.md on loopback: a 3-server NATS cluster with the stream
// JOBS replicated 3 times, 2 sluice nodes each serving the REST → JetStream graph and the
// JetStream → work graph. Under load one sluice node (frozen first, so that it dies holding
// messages) and one NATS server are killed with SIGKILL; every message JetStream acknowledged
// to a REST client is processed at least once.
#include <doctest/doctest.h>

#include "nats_graphs.hpp"
#include "../../plugins/nats/nats_server.hpp"

using namespace rest_test;
using namespace nats_test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST_CASE("3 NATS servers (R=3), 2 sluice nodes: kill -9 a node and a server under load, nothing is lost") {
  TempDir nats_dir, node1_dir, node2_dir;
  NatsCluster cluster(nats_dir.path);
  NatsClient(cluster.urls()).add_stream("JOBS", "jobs.>", 3);
  for (const TempDir* node : {&node1_dir, &node2_dir}) {
    write_file(node->path / "graphs/ingest.yaml", publish_graph(cluster.urls()));
    write_file(node->path / "graphs/work.yaml", consume_graph(cluster.urls(), 3000, 200, true));
  }
  auto node1 = std::make_unique<ServerProcess>(node1_dir);
  auto node2 = std::make_unique<ServerProcess>(node2_dir);
  REQUIRE(wait_until([&] { return ready(*node1) && ready(*node2); }, 20s));
  const std::vector<fs::path> outputs = {node1_dir.path / "var/data/done.jsonl", node2_dir.path / "var/data/done.jsonl"};

  std::atomic<bool> node2_alive{true};
  const std::uint16_t port1 = node1->port(), port2 = node2->port();
  Poster poster([&] { return node2_alive ? std::vector<std::uint16_t>{port1, port2} : std::vector<std::uint16_t>{port1}; });
  // Both nodes are working when the kills come.
  REQUIRE_MESSAGE(wait_until([&] {
                    return poster.acknowledged_count() >= 2000 && fs::exists(outputs[0]) && fs::exists(outputs[1]) &&
                           processed({outputs[0]}).times.size() >= 200 && processed({outputs[1]}).times.size() >= 200;
                  }, 40s),
                  node1->stderr_text() << node2->stderr_text());
  // Node 2 must die holding messages it never acked. Killed at an idle moment it would hold none
  // (its open fetch goes with its connection), so it is frozen first: the poster moves to node 1
  // (two more answers, the second to a post begun after the switch), then the stopped node's
  // open fetch is filled by what node 1 publishes next, and only then comes SIGKILL.
  const std::size_t at_switch = poster.acknowledged_count();
  node2_alive = false;
  REQUIRE(wait_until([&] { return poster.acknowledged_count() >= at_switch + 100; }, 20s));
  REQUIRE(::kill(node2->pid(), SIGSTOP) == 0);
  const std::size_t at_freeze = poster.acknowledged_count();
  REQUIRE(wait_until([&] { return poster.acknowledged_count() >= at_freeze + 100; }, 20s));
  node2->stop(SIGKILL);
  cluster.servers[0]->kill(SIGKILL);
  const std::size_t at_kill = poster.acknowledged_count();
  REQUIRE_MESSAGE(wait_until([&] { return poster.acknowledged_count() >= at_kill + 1000; }, 40s), node1->stderr_text());
  poster.stop();

  const auto acknowledged = poster.acknowledged();
  Processed seen;
  std::vector<std::string> missing;
  CHECK_MESSAGE(wait_until([&] { return (missing = missing_from(acknowledged, seen = processed(outputs))).empty(); }, 30s),
                missing.size() << " of " << acknowledged.size() << " acknowledged messages not processed; "
                               << NatsClient(cluster.urls()).consumer_report("JOBS", "workers") << "\n"
                               << cluster.servers[0]->log_warnings() << cluster.servers[1]->log_warnings()
                               << cluster.servers[2]->log_warnings()
                               << node1->stderr_text());
  MESSAGE(acknowledged.size() << " messages acknowledged, " << seen.times.size() << " processed, "
                              << seen.redelivered << " delivered again, " << seen.duplicates()
                              << " processed more than once");
  // The messages node 2 held at its kill went to node 1 once their ack_wait passed.
  CHECK(seen.redelivered >= 1);
  CHECK(node1->stop() == 0);
}
