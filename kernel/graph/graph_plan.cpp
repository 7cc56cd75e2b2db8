// GraphSpec → GraphPlan: resolves components, params and ports against the catalog, checks
// the graph's shape (duplicates, cycles, sources, reachability) and orders the nodes
// topologically. Every check runs even after others failed, so one run reports everything;
// check_graph also constructs each component once.
#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <queue>
#include <tuple>
#include <unordered_map>

#include <sluice/descriptor_rules.hpp>
#include <sluice/json.hpp>

#include "graph/graph_spec.hpp"

namespace sluice {
namespace {

constexpr std::size_t none = static_cast<std::size_t>(-1);

std::string in_quotes(std::string_view text) { return "'" + std::string(text) + "'"; }

std::string joined(const std::vector<std::string>& words, std::string_view separator = ", ") {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += separator;
    out += w;
  }
  return out;
}

std::string edge_text(const EdgeSpec& edge) {
  auto end = [](const std::string& node, const std::string& port) {
    return port.empty() ? node : node + "." + port;
  };
  return end(edge.from_node, edge.from_port) + " -> " + end(edge.to_node, edge.to_port);
}

// "(first at line 7)" for a repeated node or edge; nothing when the first has no location.
std::string first_at(const SourceLocation& first) {
  return first.line == 0 ? "" : " (first at line " + std::to_string(first.line) + ")";
}

// An edge whose two nodes exist; its ports may still be wrong (then they are `none`).
struct LinkedEdge {
  std::size_t spec_index;
  std::size_t from, to;  // indices into spec.nodes
  std::size_t from_port = none, to_port = none;
};

class GraphPlanner {
 public:
  GraphPlanner(const GraphSpec& spec, const ComponentCatalog& catalog,
               std::vector<Diagnostic>& errors, const PathPolicy& paths, bool construct)
      : spec_(spec),
        catalog_(catalog),
        paths_(paths),
        construct_(construct),
        errors_(errors),
        components_(spec.nodes.size()),
        params_(spec.nodes.size()),
        origins_(spec.nodes.size()),
        outgoing_(spec.nodes.size()),
        incoming_(spec.nodes.size()) {}

  std::optional<GraphPlan> plan() {
    // A spec that failed to parse may be empty only because of that failure; saying that it
    // has no nodes would add noise to the real error.
    if (spec_.nodes.empty() && errors_.empty()) error(spec_.where, "the graph has no nodes");
    index_nodes();
    resolve_components();
    link_edges();
    check_cycles();
    check_sources();
    if (!errors_.empty()) return std::nullopt;
    return build();
  }

 private:
  void error(const SourceLocation& where, std::string message, std::string node = {}, std::string param = {}) {
    errors_.push_back({where, std::move(message), std::move(node), std::move(param)});
  }

  std::string hint(std::string_view word, const std::vector<std::string>& candidates) const {
    auto match = closest_match(word, candidates);
    return match.empty() ? "" : " (did you mean " + in_quotes(match) + "?)";
  }

  // ---- nodes -------------------------------------------------------------------------------

  void index_nodes() {
    for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
      const NodeSpec& node = spec_.nodes[i];
      auto [first, inserted] = index_.emplace(node.id, i);
      if (!inserted) {
        error(node.where,
              "node " + in_quotes(node.id) + " is defined twice" + first_at(spec_.nodes[first->second].where),
              node.id);
        continue;
      }
      unique_.push_back(i);
      ids_.push_back(node.id);
    }
  }

  void resolve_components() {
    std::vector<std::string> names;  // fetched once, and only when a hint is needed
    for (std::size_t i : unique_) {
      const NodeSpec& node = spec_.nodes[i];
      const std::string who = "node " + in_quotes(node.id);
      const std::size_t errors_before = errors_.size();
      if (node.component.empty()) {
        error(node.where, who + " has no component (write {component: NAME})", node.id);
        continue;
      }
      components_[i] = catalog_.find(node.component);
      if (!components_[i]) {
        if (names.empty()) names = catalog_.names();
        const auto match = hint(node.component, names);
        error(node.component_where,
              who + ": unknown component " + in_quotes(node.component) +
                  (match.empty() ? " (no loaded plugin provides it; `sluice plugins` lists the "
                                   "components there are)"
                                 : match),
              node.id);
        continue;
      }
      for (const ParamError& problem : validate_params(*components_[i], node.params, params_[i]))
        error(param_where(node, problem.param), who + ": " + problem.message, node.id, problem.param);
      resolve_param_values(*components_[i], node, params_[i]);
      origins_[i] = catalog_.origin(node.component);
      if (node.isolation == Isolation::process) check_isolation(i);
      // An isolated component is constructed in its host at deploy, never in the kernel.
      if (construct_ && errors_.size() == errors_before && node.isolation == Isolation::in_process)
        try_construct(i);
    }
  }

  // An `isolation: process` host loads the node's plugin file, and has no thread of its own.
  void check_isolation(std::size_t i) {
    const NodeSpec& node = spec_.nodes[i];
    const std::string who = "node " + in_quotes(node.id);
    if (components_[i]->kind == ComponentKind::source) {
      error(node.isolation_where,
            who + ": a source (" + components_[i]->name + ") cannot have isolation: process; it runs on a thread of its own",
            node.id);
      return;
    }
    if (!origins_[i])
      error(node.isolation_where,
            who + ": isolation: process needs a component loaded from a plugin file, and " +
                components_[i]->name + " is built into this program",
            node.id);
  }

  // Creates and destroys the node's component, as each instance of a deploy does.
  void try_construct(std::size_t i) {
    const NodeSpec& node = spec_.nodes[i];
    std::string failure;
    if (components_[i]->create(Params(params_[i]), failure)) return;
    // "param 'NAME': …", as constructors word an error about one param; "param 'tls.ca_file'"
    // is about the param tls (where the editor shows it, and whose value the error points at).
    constexpr std::string_view prefix = "param '";
    std::string param;
    if (failure.starts_with(prefix))
      if (const auto end = failure.find_first_of("'.[", prefix.size()); end != std::string::npos)
        param = failure.substr(prefix.size(), end - prefix.size());
    error(param.empty() ? node.where : param_where(node, param),
          "node " + in_quotes(node.id) + ": " + components_[i]->name + " failed to start: " + failure, node.id,
          param);
  }

  static const SourceLocation& param_where(const NodeSpec& node, std::string_view param) {
    const auto located = std::find_if(node.param_locations.begin(), node.param_locations.end(),
                                      [&](const auto& entry) { return entry.first == param; });
    // A missing param has no value to point at; its node is where it belongs.
    return located != node.param_locations.end() ? located->second : node.where;
  }

  // File paths (file_path params and the file_keys of object params) and secret references,
  // in the validated values (a param that failed validation is not among them).
  void resolve_param_values(const ComponentDescriptor& component, const NodeSpec& node, Object& values) {
    for (const ParamSpec& param : component.params) {
      Value* value = values.find(param.name);
      if (!value || value->is_null()) continue;
      const auto refused = [&](const std::string& name, const std::invalid_argument& e) {
        error(param_where(node, param.name), "node " + in_quotes(node.id) + ": param " + in_quotes(name) + ": " + e.what(),
              node.id, param.name);
      };
      try {
        if (param.file_path) *value = resolve_file_path(value->as_string(), paths_).string();
        if (param.secret) *value = resolve_secret(*value, paths_);
      } catch (const std::invalid_argument& e) {
        refused(param.name, e);
      }
      if (!value->is_object()) continue;
      for (const std::string& key : param.file_keys) {
        Value* file = value->as_object().find(key);
        if (!file || !file->is_string()) continue;  // the component says what it expects there
        try {
          *file = resolve_file_path(file->as_string(), paths_).string();
        } catch (const std::invalid_argument& e) {
          refused(param.name + "." + key, e);
        }
      }
    }
  }

  // ---- edges -------------------------------------------------------------------------------

  std::size_t find_node(const std::string& id, const SourceLocation& where, const EdgeSpec& edge) {
    if (auto it = index_.find(id); it != index_.end()) return it->second;
    error(where, "edge " + in_quotes(edge_text(edge)) + ": unknown node " + in_quotes(id) +
                     hint(id, ids_));
    return none;
  }

  // The index of a port, `none` (after an error) when the node has no such port. An empty
  // name is the default port: `out`/`in` if the component has it, else its only port.
  std::size_t find_port(const EdgeSpec& edge, std::size_t node, bool output) {
    const auto& component = components_[node];
    if (!component) return none;  // its unknown component is already reported
    const std::string& name = output ? edge.from_port : edge.to_port;
    const SourceLocation& where = output ? edge.from_where : edge.to_where;
    const std::string who = "edge " + in_quotes(edge_text(edge)) + ": node " +
                            in_quotes(spec_.nodes[node].id) + " (" + component->name + ")";
    const auto& ports = output ? component->outputs : component->inputs;
    if (output && name == error_port) return ports.size();
    if (output && component->kind == ComponentKind::publisher) {
      error(where, who + " is a publisher and has no output ports; only its 'error' port can "
                         "be wired");
      return none;
    }
    if (!output && component->kind == ComponentKind::source) {
      error(where, who + " is a source and has no input ports: it makes its own packets");
      return none;
    }
    // Both arms string_view: with a `const char*` arm and a `std::string` arm the result would
    // be a temporary string, and the view would outlive it.
    const std::string_view wanted =
        name.empty() ? std::string_view(output ? "out" : "in") : std::string_view(name);
    for (std::size_t p = 0; p < ports.size(); ++p)
      if (ports[p].name == wanted) return p;
    if (name.empty() && ports.size() == 1) return 0;

    std::vector<std::string> names;
    for (const auto& port : ports) names.push_back(port.name);
    if (output) names.emplace_back(error_port);
    const std::string direction = output ? "output" : "input";
    if (name.empty())
      error(where, who + " has no default " + direction + " port '" + std::string(wanted) +
                       "'; name one of its " + direction + " ports: " + joined(names));
    else
      error(where, who + " has no " + direction + " port " + in_quotes(name) +
                       hint(name, names) + "; its " + direction + " ports are: " +
                       joined(names));
    return none;
  }

  void link_edges() {
    std::map<std::tuple<std::size_t, std::size_t, std::size_t, std::size_t>, std::size_t> seen;
    for (std::size_t e = 0; e < spec_.edges.size(); ++e) {
      const EdgeSpec& edge = spec_.edges[e];
      if (edge.capacity && *edge.capacity == 0)
        error(edge.where, "edge " + in_quotes(edge_text(edge)) + ": capacity must be at least 1");
      const std::size_t from = find_node(edge.from_node, edge.from_where, edge);
      const std::size_t to = find_node(edge.to_node, edge.to_where, edge);
      if (from == none || to == none) continue;
      LinkedEdge linked{e, from, to};
      linked.from_port = find_port(edge, from, true);
      linked.to_port = find_port(edge, to, false);
      if (linked.from_port != none && linked.to_port != none) {
        auto [first, inserted] =
            seen.emplace(std::tuple{from, linked.from_port, to, linked.to_port}, e);
        if (!inserted) {
          error(edge.where, "edge " + in_quotes(edge_text(edge)) + " is given twice" +
                                first_at(spec_.edges[first->second].where));
          continue;
        }
      }
      outgoing_[from].push_back(edges_.size());
      incoming_[to].push_back(edges_.size());
      edges_.push_back(linked);
    }
  }

  // ---- shape -------------------------------------------------------------------------------

  // Tarjan's algorithm, iterative so that a long chain of nodes (a graph sent over REST is
  // untrusted input) cannot exhaust the stack. Components come out in reverse topological
  // order; each is a list of spec node indices.
  std::vector<std::vector<std::size_t>> strongly_connected_components() const {
    const std::size_t n = spec_.nodes.size();
    std::vector<std::size_t> order(n, none), low(n, 0);
    std::vector<bool> on_stack(n, false);
    std::vector<std::size_t> stack;
    std::vector<std::vector<std::size_t>> components;
    std::size_t counter = 0;
    struct Frame {
      std::size_t node, next_edge;
    };
    auto enter = [&](std::size_t v, std::vector<Frame>& calls) {
      order[v] = low[v] = counter++;
      stack.push_back(v);
      on_stack[v] = true;
      calls.push_back({v, 0});
    };
    for (std::size_t root : unique_) {
      if (order[root] != none) continue;
      std::vector<Frame> calls;
      enter(root, calls);
      while (!calls.empty()) {
        const std::size_t v = calls.back().node;
        if (calls.back().next_edge < outgoing_[v].size()) {
          const std::size_t w = edges_[outgoing_[v][calls.back().next_edge++]].to;
          if (order[w] == none)
            enter(w, calls);
          else if (on_stack[w])
            low[v] = std::min(low[v], order[w]);
          continue;
        }
        calls.pop_back();
        if (!calls.empty()) low[calls.back().node] = std::min(low[calls.back().node], low[v]);
        if (low[v] != order[v]) continue;
        std::vector<std::size_t> component;
        std::size_t w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          component.push_back(w);
        } while (w != v);
        components.push_back(std::move(component));
      }
    }
    return components;
  }

  // Reports one cycle per strongly connected component that has one: the shortest through
  // the component's first-declared node, located at the edge that closes it. An edge from a
  // node to itself is a cycle of its own, reported on its own.
  void check_cycles() {
    auto components = strongly_connected_components();
    for (auto& c : components) std::sort(c.begin(), c.end());
    std::sort(components.begin(), components.end());
    for (const auto& component : components) {
      if (component.size() > 1) report_cycle_through(component.front(), component);
      for (std::size_t v : component)
        for (std::size_t e : outgoing_[v])
          if (edges_[e].to == v)
            error(spec_.edges[edges_[e].spec_index].where,
                  "the edges form a cycle: " + spec_.nodes[v].id + " -> " + spec_.nodes[v].id +
                      " (a graph must be acyclic)");
    }
  }

  // Breadth-first from `start` inside its (sorted) component until an edge leads back to it.
  void report_cycle_through(std::size_t start, const std::vector<std::size_t>& component) {
    std::unordered_map<std::size_t, std::size_t> reached_by;  // node → edge into it
    std::queue<std::size_t> frontier;
    frontier.push(start);
    std::size_t closing = none;
    while (closing == none && !frontier.empty()) {
      const std::size_t v = frontier.front();
      frontier.pop();
      for (std::size_t e : outgoing_[v]) {
        const std::size_t w = edges_[e].to;
        if (w == v) continue;  // a self-loop, reported by itself
        if (w == start) {
          closing = e;
          break;
        }
        if (std::binary_search(component.begin(), component.end(), w) &&
            reached_by.emplace(w, e).second)
          frontier.push(w);
      }
    }
    std::vector<std::string> path{spec_.nodes[start].id};
    for (std::size_t v = edges_[closing].from; v != start; v = edges_[reached_by.at(v)].from)
      path.insert(path.begin() + 1, spec_.nodes[v].id);
    path.push_back(spec_.nodes[start].id);
    error(spec_.edges[edges_[closing].spec_index].where,
          "the edges form a cycle: " + joined(path, " -> ") + " (a graph must be acyclic)");
  }

  // Data enters at the nodes without incoming edges: posted data at the entry nodes, the
  // packets of source components at those; a node no path leads to from them would never run.
  void check_sources() {
    std::vector<bool> reached(spec_.nodes.size(), false);
    std::vector<std::size_t> frontier;
    std::vector<std::string> source_ids;
    for (std::size_t i : unique_) {
      if (!incoming_[i].empty()) continue;
      const bool is_source = components_[i] && components_[i]->kind == ComponentKind::source;
      (is_source ? producers_ : sources_).push_back(i);
      source_ids.push_back(spec_.nodes[i].id);
      reached[i] = true;
      frontier.push_back(i);
    }
    if (source_ids.empty()) {
      if (!unique_.empty())
        error(spec_.where, "the graph has no source node: every node has an incoming edge, so "
                           "posted data has no way in");
      return;
    }
    while (!frontier.empty()) {
      const std::size_t v = frontier.back();
      frontier.pop_back();
      for (std::size_t e : outgoing_[v])
        if (!reached[edges_[e].to]) {
          reached[edges_[e].to] = true;
          frontier.push_back(edges_[e].to);
        }
    }
    for (std::size_t i : unique_)
      if (!reached[i])
        error(spec_.nodes[i].where, "node " + in_quotes(spec_.nodes[i].id) +
                                        " is unreachable: no path leads to it from a source "
                                        "node (" + joined(source_ids) + ")",
              spec_.nodes[i].id);
  }

  // ---- the plan ----------------------------------------------------------------------------

  // Kahn's algorithm; ties go to the node declared first, so plans are stable across runs.
  std::vector<std::size_t> topological_order() const {
    std::vector<std::size_t> waiting(spec_.nodes.size(), 0);
    for (const auto& edge : edges_) ++waiting[edge.to];
    std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
    for (std::size_t i : unique_)
      if (waiting[i] == 0) ready.push(i);
    std::vector<std::size_t> order;
    while (!ready.empty()) {
      const std::size_t v = ready.top();
      ready.pop();
      order.push_back(v);
      for (std::size_t e : outgoing_[v])
        if (--waiting[edges_[e].to] == 0) ready.push(edges_[e].to);
    }
    return order;
  }

  GraphPlan build() const {
    GraphPlan plan;
    plan.name = spec_.name;
    plan.workers = spec_.workers;
    std::vector<std::size_t> position(spec_.nodes.size(), none);
    for (std::size_t i : topological_order()) {
      position[i] = plan.nodes.size();
      const NodeSpec& node = spec_.nodes[i];
      plan.nodes.push_back({node.id, components_[i], Params(params_[i]), node.isolation,
                            node.timeout.value_or(default_node_timeout), origins_[i]});
    }
    for (const auto& edge : edges_) {
      const EdgeSpec& written = spec_.edges[edge.spec_index];
      plan.edges.push_back({position[edge.from], edge.from_port, position[edge.to], edge.to_port,
                            written.capacity.value_or(default_edge_capacity),
                            written.capacity_bytes.value_or(default_edge_capacity_bytes)});
    }
    for (std::size_t i : sources_) plan.sources.push_back(position[i]);
    std::sort(plan.sources.begin(), plan.sources.end());
    for (std::size_t i : producers_) plan.producers.push_back(position[i]);
    std::sort(plan.producers.begin(), plan.producers.end());
    plan.spec = spec_;
    plan.version = version_of(plan);
    return plan;
  }

  static std::string version_of(const GraphPlan& plan) {
    std::string canonical;
    for (const auto& node : plan.nodes) {
      // '\x1e' occurs in no JSON text nor name: the parts cannot run into each other.
      canonical += node.id + '\x1e' + node.component->name + '\x1e' + (node.origin ? node.origin->hash : "") + '\x1e';
      json::write(Value(node.params.values()), canonical);
      canonical += '\x1e' + std::to_string(static_cast<int>(node.isolation)) + '\x1e' +
                   std::to_string(node.timeout.count()) + '\n';
    }
    for (const auto& edge : plan.edges)
      canonical += std::to_string(edge.from_node) + ':' + std::to_string(edge.from_port) + '>' +
                   std::to_string(edge.to_node) + ':' + std::to_string(edge.to_port) + '/' +
                   std::to_string(edge.capacity) + '/' + std::to_string(edge.capacity_bytes) + '\n';
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx",
                  static_cast<unsigned long long>(XXH3_64bits(canonical.data(), canonical.size())));
    return hex;
  }

  const GraphSpec& spec_;
  const ComponentCatalog& catalog_;
  const PathPolicy& paths_;
  const bool construct_;  // check_graph: each valid node's component is constructed once
  std::vector<Diagnostic>& errors_;

  std::unordered_map<std::string, std::size_t> index_;  // node id → first node with it
  std::vector<std::size_t> unique_;                     // spec.nodes indices, repeats left out
  std::vector<std::string> ids_;                        // their ids, for did-you-mean
  std::vector<std::shared_ptr<const ComponentDescriptor>> components_;  // per spec node
  std::vector<Object> params_;                                          // validated, per node
  std::vector<std::optional<ComponentOrigin>> origins_;                 // nullopt: not from a plugin file
  std::vector<LinkedEdge> edges_;
  std::vector<std::vector<std::size_t>> outgoing_, incoming_;  // per node: indices into edges_
  std::vector<std::size_t> sources_;    // entry nodes: no incoming edge, not of kind source
  std::vector<std::size_t> producers_;  // nodes of kind source
};

}  // namespace

std::optional<GraphPlan> plan_graph(const GraphSpec& spec, const ComponentCatalog& catalog,
                                    std::vector<Diagnostic>& errors, const PathPolicy& paths) {
  return GraphPlanner(spec, catalog, errors, paths, false).plan();
}

std::optional<GraphPlan> check_graph(const GraphSpec& spec, const ComponentCatalog& catalog,
                                     std::vector<Diagnostic>& errors, const PathPolicy& paths) {
  return GraphPlanner(spec, catalog, errors, paths, true).plan();
}

}  // namespace sluice
