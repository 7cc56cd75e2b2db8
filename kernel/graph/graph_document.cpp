// The JSON form of a spec (GET /v1/graphs/{g} with Accept: application/json, the editor);
// parse_graph reads it back.
#include "graph/graph_spec.hpp"

namespace sluice {

namespace {

std::string endpoint_text(const std::string& node, const std::string& port) {
  return port.empty() ? node : node + "." + port;
}

}  // namespace

Value spec_document(const GraphSpec& spec) {
  Object nodes;
  for (const auto& node : spec.nodes) {
    Object entry{{"component", node.component}};
    if (!node.params.empty()) entry.set("params", node.params);
    if (node.isolation != Isolation::in_process) entry.set("isolation", to_string(node.isolation));
    if (node.timeout) entry.set("timeout", std::to_string(node.timeout->count()) + "ms");
    if (!node.ui.empty()) entry.set("ui", node.ui);
    nodes.set(node.id, std::move(entry));
  }
  Array edges;
  for (const auto& edge : spec.edges) {
    Object entry{{"from", endpoint_text(edge.from_node, edge.from_port)},
                 {"to", endpoint_text(edge.to_node, edge.to_port)}};
    if (edge.capacity) entry.set("capacity", *edge.capacity);
    if (edge.capacity_bytes) entry.set("capacity_bytes", *edge.capacity_bytes);
    edges.push_back(std::move(entry));
  }
  Object document{{"name", spec.name}};
  if (!spec.description.empty()) document.set("description", spec.description);
  if (spec.workers) document.set("workers", *spec.workers);
  if (spec.durability) document.set("durability", to_string(*spec.durability));
  document.set("nodes", std::move(nodes));
  document.set("edges", std::move(edges));
  return document;
}

}  // namespace sluice
