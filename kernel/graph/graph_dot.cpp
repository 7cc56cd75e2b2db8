// GraphSpec → Graphviz DOT, for `sluice dot graph.yaml | dot -Tsvg > graph.svg`.
#include <set>

#include "graph/graph_spec.hpp"

namespace sluice {
namespace {

// A DOT double-quoted string.
std::string dot_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + '"';
}

}  // namespace

std::string to_dot(const GraphSpec& spec) {
  std::string out = "digraph " + dot_string(spec.name) + " {\n";
  out += "  rankdir=LR;\n";
  out += "  node [shape=box, style=rounded];\n";
  if (!spec.description.empty()) out += "  tooltip=" + dot_string(spec.description) + ";\n";
  std::set<std::string_view> drawn;  // a repeated id (an error) would otherwise relabel the first
  for (const auto& node : spec.nodes) {
    if (!drawn.insert(node.id).second) continue;
    // dot_string escapes the parts; the "\n" between them is DOT's own line break.
    std::string label = dot_string(node.id);
    label.pop_back();
    label += "\\n" + dot_string(node.component).substr(1);
    out += "  " + dot_string(node.id) + " [label=" + label + "];\n";
  }
  for (const auto& edge : spec.edges) {
    std::vector<std::string> attributes;
    // Default ports (out → in) go unlabelled to keep the common picture clean.
    if (!edge.from_port.empty()) attributes.push_back("taillabel=" + dot_string(edge.from_port));
    if (!edge.to_port.empty()) attributes.push_back("headlabel=" + dot_string(edge.to_port));
    std::string capacity;
    if (edge.capacity) capacity = "capacity " + std::to_string(*edge.capacity);
    if (edge.capacity_bytes)
      capacity += (capacity.empty() ? "capacity " : ", ") + std::to_string(*edge.capacity_bytes) + " bytes";
    if (!capacity.empty()) attributes.push_back("label=" + dot_string(capacity));
    if (edge.from_port == error_port) attributes.push_back("style=dashed, color=red");
    out += "  " + dot_string(edge.from_node) + " -> " + dot_string(edge.to_node);
    if (!attributes.empty()) {
      out += " [";
      for (std::size_t i = 0; i < attributes.size(); ++i) out += (i ? ", " : "") + attributes[i];
      out += "]";
    }
    out += ";\n";
  }
  out += "}\n";
  return out;
}

}  // namespace sluice
