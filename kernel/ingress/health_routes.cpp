// GET /healthz (the process answers) and GET /readyz (it can take work: started, admitting,
// not overloaded, the write-ahead log not near full, no graph stalled or crash-looping).
#include <algorithm>

#include "ingress/rest_call.hpp"

namespace sluice {

void RestApi::healthz(Call& call) { call.responder.send(HttpResponse::json(200, R"({"status": "ok"})")); }

namespace {

// Why a graph cannot serve as it should, node by node: an isolated node whose host keeps
// failing ("crash_looping"), a node in the kernel's process stuck on one packet ("stalled").
// Empty: the graph is ready.
Array graph_problems(const GraphStats& stats) {
  Array problems;
  for (const auto& node : stats.nodes) {
    if (node.crash_looping)
      problems.push_back(Object{{"node", node.node}, {"state", "crash_looping"}, {"reason", node.host_last_failure}});
    if (node.stalled)
      problems.push_back(Object{{"node", node.node},
                                {"state", "stalled"},
                                {"reason", "busy with one packet for longer than its timeout; its worker is held"}});
  }
  return problems;
}

bool has_stalled_node(const GraphStats& stats) {
  return std::any_of(stats.nodes.begin(), stats.nodes.end(), [](const NodeStats& node) { return node.stalled; });
}

}  // namespace

void RestApi::readyz(Call& call) {
  if (const auto graph = call.request.query_value("graph")) {
    // One graph's readiness, for a balancer that routes by graph.
    const auto stats = runtime_.stats(*graph);
    if (!stats) throw no_such_graph(std::string(*graph));
    Array problems = graph_problems(*stats);
    const bool ready = problems.empty() && admitting_ && !starting_ && !runtime_.shutting_down() &&
                       !(options_.ingest && !options_.ingest->recovered());
    HttpResponse response = json_response(
        ready ? 200 : 503, Value(Object{{"graph", stats->graph}, {"ready", ready}, {"nodes", std::move(problems)}}));
    if (!ready) response.with_header("Retry-After", "1");
    call.responder.send(std::move(response));
    return;
  }
  // A graph in trouble does not make the server unready (the other graphs serve): it is
  // listed, and /readyz?graph=NAME answers 503 for it. A stalled node does: it holds a
  // worker, and every graph has an instance there.
  Object unready;
  bool stalled = false;
  for (const auto& name : runtime_.graph_names())
    if (const auto stats = runtime_.stats(name)) {
      stalled = stalled || has_stalled_node(*stats);
      if (Array problems = graph_problems(*stats); !problems.empty()) unready.set(name, std::move(problems));
    }
  const double load = runtime_.load();
  const bool admitting = admitting_ && !runtime_.shutting_down();
  const bool recovering = options_.ingest && !options_.ingest->recovered();
  const bool log_filling = options_.ingest && options_.ingest->above(options_.ready_wal_fill);
  const bool starting = starting_;
  const bool ready = admitting && !starting && load <= options_.ready_load && !recovering && !log_filling && !stalled;
  Object document{{"ready", ready}, {"starting", starting}, {"load", load}, {"admitting", admitting},
                  {"stalled", stalled}};
  if (options_.ingest) {
    document.set("recovering", recovering);
    document.set("wal_filling", log_filling);
  }
  document.set("graphs_not_ready", std::move(unready));
  HttpResponse response = json_response(ready ? 200 : 503, Value(std::move(document)));
  if (!ready) response.with_header("Retry-After", "1");
  call.responder.send(std::move(response));
}

}  // namespace sluice
