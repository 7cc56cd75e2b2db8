// plan_graph: one test per kind of error (with its exact line:column), errors collected
// together, and the plan itself (topological order, port indices, capacities, sources).
#include <doctest/doctest.h>

#include "graph_test_support.hpp"

using namespace sluice;
using sluice::testing::FakeCatalog;
using sluice::testing::formatted;

namespace {

struct Checked {
  std::vector<std::string> errors;
  std::optional<GraphPlan> plan;
};

// What `sluice check` does: parse, then plan, collecting into one list.
Checked check(std::string_view yaml) {
  static const FakeCatalog catalog;
  std::vector<Diagnostic> errors;
  GraphSpec spec = parse_graph(yaml, "g.yaml", errors);
  auto plan = plan_graph(spec, catalog, errors);
  return {formatted(errors), std::move(plan)};
}

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("a valid graph plans, with nodes in topological order") {
  Checked result = check(R"(name: g
workers: 3
nodes:
  out: {component: jsonl_writer, params: {path: o.jsonl}}
  failed: {component: jsonl_writer, params: {path: f.jsonl}}
  join: {component: router}
  right: {component: json_adapter}
  left: {component: delete_field, params: {fields: secret}}
  src: {component: json_adapter}
edges:
  - join.matched -> out
  - {from: join.unmatched, to: out, capacity: 8, capacity_bytes: 1KiB}
  - join.error -> failed
  - out.error -> failed
  - left -> join.left
  - right -> join.right
  - src -> left
)");
  REQUIRE(result.errors == Lines{});
  REQUIRE(result.plan);
  const GraphPlan& plan = *result.plan;
  CHECK(plan.name == "g");
  CHECK(plan.workers == std::optional<std::size_t>(3));
  CHECK(plan.spec.name == "g");

  // Ties go to the node declared first: right before src.
  std::vector<std::string> order;
  for (const auto& node : plan.nodes) order.push_back(node.id);
  CHECK(order == std::vector<std::string>{"right", "src", "left", "join", "out", "failed"});
  CHECK(plan.nodes[3].component->name == "router");
  CHECK(plan.sources == std::vector<std::size_t>{0, 1});

  // Validated params, defaults filled in, a single string normalised to a list.
  CHECK(plan.nodes[2].params.values() ==
        Object{{"fields", Array{"secret"}}, {"limit", 10}, {"mode", "drop"}});

  auto edge = [](const PlannedEdge& e) {
    return std::vector<std::size_t>{e.from_node, e.from_port, e.to_node, e.to_port, e.capacity};
  };
  REQUIRE(plan.edges.size() == 7);
  CHECK(edge(plan.edges[0]) == std::vector<std::size_t>{3, 0, 4, 0, default_edge_capacity});
  CHECK(edge(plan.edges[1]) == std::vector<std::size_t>{3, 1, 4, 0, 8});
  CHECK(plan.edges[1].capacity_bytes == 1024);
  CHECK(plan.edges[0].capacity_bytes == default_edge_capacity_bytes);
  // The implicit error port comes after the declared outputs (a publisher has none).
  CHECK(edge(plan.edges[2]) == std::vector<std::size_t>{3, 2, 5, 0, default_edge_capacity});
  CHECK(edge(plan.edges[3]) == std::vector<std::size_t>{4, 0, 5, 0, default_edge_capacity});
  CHECK(edge(plan.edges[4]) == std::vector<std::size_t>{2, 0, 3, 0, default_edge_capacity});
  CHECK(edge(plan.edges[5]) == std::vector<std::size_t>{0, 0, 3, 1, default_edge_capacity});
  CHECK(edge(plan.edges[6]) == std::vector<std::size_t>{1, 0, 2, 0, default_edge_capacity});
  for (const auto& e : plan.edges) CHECK(e.from_node < e.to_node);
}

TEST_CASE("the DESIGN.md example file plans") {
  const FakeCatalog catalog;
  std::vector<Diagnostic> errors;
  GraphSpec spec = load_graph_file(SLUICE_GRAPH_TEST_DATA "/enrich.yaml", errors);
  auto plan = plan_graph(spec, catalog, errors);
  CHECK(formatted(errors) == Lines{});
  REQUIRE(plan);
  CHECK(plan->nodes.size() == 4);
  CHECK(plan->edges.size() == 3);
  CHECK(plan->sources == std::vector<std::size_t>{0});
}

TEST_CASE("unknown component, with a did-you-mean when one is close") {
  CHECK(check(R"(name: g
nodes:
  parse: {component: json_adapter}
  clean: {component: delete_feild, params: {fields: [a]}}
  misc: {component: zzz}
pipeline: [parse, clean, misc]
)")
            .errors ==
        Lines{"g.yaml:4:22: error: node 'clean': unknown component 'delete_feild' (did you mean "
              "'delete_field'?)",
              "g.yaml:5:21: error: node 'misc': unknown component 'zzz' (no loaded plugin "
              "provides it; `sluice plugins` lists the components there are)"});
}

TEST_CASE("isolation: process runs a plugin file's component in a host, with the node's timeout") {
  const auto checked = check(R"(name: g
nodes:
  parse: {component: json_adapter, isolation: process, timeout: 2.5s}
  clean: {component: delete_field, params: {fields: [a]}, isolation: in_process}
pipeline: [parse, clean]
)");
  REQUIRE(checked.errors.empty());
  const PlannedNode& parse = checked.plan->nodes.at(0);
  CHECK(parse.isolation == Isolation::process);
  CHECK(parse.timeout == std::chrono::milliseconds(2500));
  REQUIRE(parse.origin);
  CHECK(parse.origin->image == "/cache/abc.so");
  CHECK(parse.origin->component == "json_adapter");
  const PlannedNode& clean = checked.plan->nodes.at(1);
  CHECK(clean.isolation == Isolation::in_process);
  CHECK(clean.timeout == default_node_timeout);
  CHECK_FALSE(clean.origin);
}

TEST_CASE("isolation and timeout errors, each at its value") {
  CHECK(check(R"(name: g
nodes:
  tick: {component: ticker, isolation: process}
  clean: {component: delete_field, params: {fields: [a]}, isolation: process}
  odd: {component: json_adapter, isolation: sideways, timeout: soon}
  zero: {component: json_adapter, timeout: 0s}
edges: [tick -> clean, clean -> odd, odd -> zero]
)")
            .errors ==
        Lines{"g.yaml:5:45: error: node 'odd': 'isolation' must be in_process (the default) or process, got 'sideways'",
              "g.yaml:5:64: error: node 'odd': 'timeout' must be a duration above 0 such as 500ms, 30s, 2m or 2.5, "
              "got 'soon'",
              "g.yaml:6:44: error: node 'zero': 'timeout' must be a duration above 0 such as 500ms, 30s, 2m or 2.5, "
              "got '0s'",
              "g.yaml:3:40: error: node 'tick': a source (ticker) cannot have isolation: process; it runs on a "
              "thread of its own",
              "g.yaml:4:70: error: node 'clean': isolation: process needs a component loaded from a plugin file, "
              "and delete_field is built into this program"});
}

TEST_CASE("a node without a component") {
  CHECK(check("name: g\nnodes:\n  a:\n").errors ==
        Lines{"g.yaml:3:3: error: node 'a' has no component (write {component: NAME})"});
}

TEST_CASE("params are checked against the component's table, each error at its value") {
  Checked result = check(R"(name: g
nodes:
  parse: {component: json_adapter}
  clean:
    component: delete_field
    params: {limit: 500, mode: burn, feilds: [a]}
  out: {component: jsonl_writer}
pipeline: [parse, clean, out]
)");
  CHECK_FALSE(result.plan);
  // The wording of each problem is validate_params's; where it points is plan_graph's.
  REQUIRE(result.errors.size() == 5);
  CHECK(result.errors[0].starts_with("g.yaml:6:46: error: node 'clean': unknown param 'feilds'"));
  CHECK(result.errors[0].find("did you mean 'fields'?") != std::string::npos);
  // A missing param has no value to point at: the node it belongs to.
  CHECK(result.errors[1].starts_with("g.yaml:4:3: error: node 'clean': missing required param 'fields'"));
  CHECK(result.errors[2].starts_with("g.yaml:6:21: error: node 'clean': param 'limit'"));
  CHECK(result.errors[2].find("100") != std::string::npos);
  CHECK(result.errors[3].starts_with("g.yaml:6:32: error: node 'clean': param 'mode'"));
  CHECK(result.errors[4].starts_with("g.yaml:7:3: error: node 'out': missing required param 'path'"));
}

TEST_CASE("unknown ports list the ports there are; the default port must exist") {
  CHECK(check(R"(name: g
nodes:
  a: {component: json_adapter}
  r: {component: router}
  b: {component: json_adapter}
edges:
  - a.outt -> r.left
  - a -> r.middle
  - r -> b
  - a -> r
  - r.matched -> b
)")
            .errors ==
        Lines{"g.yaml:7:5: error: edge 'a.outt -> r.left': node 'a' (json_adapter) has no output "
              "port 'outt' (did you mean 'out'?); its output ports are: out, error",
              "g.yaml:8:10: error: edge 'a -> r.middle': node 'r' (router) has no input port "
              "'middle'; its input ports are: left, right",
              "g.yaml:9:5: error: edge 'r -> b': node 'r' (router) has no default output port "
              "'out'; name one of its output ports: matched, unmatched, error",
              "g.yaml:10:10: error: edge 'a -> r': node 'r' (router) has no default input port "
              "'in'; name one of its input ports: left, right"});
}

TEST_CASE("an edge naming an unknown node points at that name") {
  CHECK(check(R"(name: g
nodes:
  parse: {component: json_adapter}
  clean: {component: delete_field, params: {fields: x}}
edges:
  - parse -> claen
  - {from: pars, to: clean}
  - parse -> clean
)")
            .errors ==
        Lines{"g.yaml:6:14: error: edge 'parse -> claen': unknown node 'claen' (did you mean "
              "'clean'?)",
              "g.yaml:7:12: error: edge 'pars -> clean': unknown node 'pars' (did you mean "
              "'parse'?)"});
}

TEST_CASE("a node id given twice") {
  CHECK(check(R"(name: g
nodes:
  a: {component: json_adapter}
  b: {component: json_adapter}
  a: {component: json_adapter}
pipeline: [a, b]
)")
            .errors == Lines{"g.yaml:5:3: error: node 'a' is defined twice (first at line 3)"});
}

TEST_CASE("a cycle is named in order, at the edge that closes it") {
  CHECK(check(R"(name: g
nodes:
  src: {component: json_adapter}
  a: {component: json_adapter}
  b: {component: json_adapter}
  c: {component: json_adapter}
edges:
  - src -> a
  - a -> b
  - b -> c
  - c -> a
  - c.error -> c
)")
            .errors ==
        Lines{"g.yaml:11:5: error: the edges form a cycle: a -> b -> c -> a (a graph must be "
              "acyclic)",
              "g.yaml:12:5: error: the edges form a cycle: c -> c (a graph must be acyclic)"});
}

TEST_CASE("nodes that only sit on a cycle are unreachable from the sources") {
  CHECK(check(R"(name: g
nodes:
  src: {component: json_adapter}
  sink: {component: jsonl_writer, params: {path: x}}
  x: {component: json_adapter}
  y: {component: json_adapter}
edges:
  - src -> sink
  - x -> y
  - y -> x
)")
            .errors ==
        Lines{"g.yaml:10:5: error: the edges form a cycle: x -> y -> x (a graph must be acyclic)",
              "g.yaml:5:3: error: node 'x' is unreachable: no path leads to it from a source "
              "node (src)",
              "g.yaml:6:3: error: node 'y' is unreachable: no path leads to it from a source "
              "node (src)"});
}

TEST_CASE("a graph without any source has no way in") {
  CHECK(check(R"(name: g
nodes:
  a: {component: json_adapter}
  b: {component: json_adapter}
pipeline: [a, b, a]
)")
            .errors ==
        Lines{"g.yaml:5:15: error: the edges form a cycle: a -> b -> a (a graph must be acyclic)",
              "g.yaml:2:1: error: the graph has no source node: every node has an incoming edge, "
              "so posted data has no way in"});
}

TEST_CASE("a publisher has no out ports, but its error port may be wired") {
  CHECK(check(R"(name: g
nodes:
  a: {component: json_adapter}
  w: {component: jsonl_writer, params: {path: x}}
  dead: {component: jsonl_writer, params: {path: y}}
  b: {component: json_adapter}
edges:
  - a -> w
  - w -> b
  - w.error -> dead
)")
            .errors ==
        Lines{"g.yaml:9:5: error: edge 'w -> b': node 'w' (jsonl_writer) is a publisher and has "
              "no output ports; only its 'error' port can be wired"});
}

TEST_CASE("the same edge twice, however it is spelled") {
  CHECK(check(R"(name: g
nodes:
  a: {component: json_adapter}
  b: {component: json_adapter}
edges:
  - a -> b
  - a.out -> b.in
pipeline: [a, b]
)")
            .errors ==
        Lines{"g.yaml:7:5: error: edge 'a.out -> b.in' is given twice (first at line 6)",
              "g.yaml:8:12: error: edge 'a -> b' is given twice (first at line 6)"});
}

TEST_CASE("an empty graph") {
  CHECK(check("name: g\nnodes: {}\n").errors ==
        Lines{"g.yaml:2:1: error: the graph has no nodes"});
}

TEST_CASE("every error of a file is reported in one run") {
  Checked result = check(R"(name: g
workers: none
nodes:
  parse: {component: json_adaptr}
  clean: {component: delete_field, params: {fields: [a], limit: 0}}
  clean: {component: delete_field}
edges:
  - parse -> clean
  - clean -> nowhere
)");
  CHECK_FALSE(result.plan);
  REQUIRE(result.errors.size() == 5);
  CHECK(result.errors[0] ==
        "g.yaml:2:10: error: 'workers' must be a whole number of at least 1, got 'none'");
  CHECK(result.errors[1] == "g.yaml:6:3: error: node 'clean' is defined twice (first at line 5)");
  CHECK(result.errors[2] ==
        "g.yaml:4:22: error: node 'parse': unknown component 'json_adaptr' (did you mean "
        "'json_adapter'?)");
  CHECK(result.errors[3].starts_with("g.yaml:5:65: error: node 'clean': param 'limit'"));
  CHECK(result.errors[4] == "g.yaml:9:14: error: edge 'clean -> nowhere': unknown node 'nowhere'");
}

TEST_CASE("parse errors in the same list withhold the plan") {
  Checked result = check("name: g\nnodes: {a: {component: json_adapter}}\ncolour: red\n");
  CHECK(result.errors.size() == 1);
  CHECK_FALSE(result.plan);
}

TEST_CASE("specs built in code are checked too") {
  const FakeCatalog catalog;
  GraphSpec spec;
  spec.name = "g";
  for (const char* id : {"a", "b"}) {
    NodeSpec node;
    node.id = id;
    node.component = "json_adapter";
    spec.nodes.push_back(node);
  }
  EdgeSpec edge;
  edge.from_node = "a";
  edge.to_node = "b";
  edge.capacity = 0;
  spec.edges.push_back(edge);
  std::vector<Diagnostic> errors;
  CHECK_FALSE(plan_graph(spec, catalog, errors));
  CHECK(formatted(errors) == Lines{"<input>: error: edge 'a -> b': capacity must be at least 1"});

  spec.edges[0].capacity = 1;
  errors.clear();
  auto plan = plan_graph(spec, catalog, errors);
  CHECK(errors.empty());
  REQUIRE(plan);
  CHECK(plan->edges.at(0).capacity == 1);
}

TEST_CASE("a plan's version changes with what the graph does, not with its comments or layout") {
  const std::string base = "name: g\nnodes:\n  src: {component: json_adapter}\n"
                           "  out: {component: jsonl_writer, params: {path: o.jsonl}}\nedges: [src -> out]\n";
  const auto version = [](std::string_view yaml) {
    Checked result = check(yaml);
    REQUIRE(result.errors == Lines{});
    REQUIRE(result.plan);
    return result.plan->version;
  };
  const std::string v = version(base);
  CHECK(v.size() == 16);
  CHECK(v.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(version(base) == v);
  CHECK(version("# a comment\n" + base) == v);
  CHECK(version("name: g\nnodes:\n  src:\n    component: json_adapter\n  out:\n    component: jsonl_writer\n"
                "    params:\n      path: o.jsonl\nedges:\n  - src -> out\n") == v);
  CHECK(version("name: g\nnodes:\n  src: {component: json_adapter}\n"
                "  out: {component: jsonl_writer, params: {path: other.jsonl}}\nedges: [src -> out]\n") != v);
  CHECK(version("name: g\nnodes:\n  src: {component: json_adapter}\n"
                "  out: {component: jsonl_writer, params: {path: o.jsonl}}\n"
                "edges: [{from: src, to: out, capacity: 8}]\n") != v);
  CHECK(version("name: g\nnodes:\n  input: {component: json_adapter}\n"
                "  out: {component: jsonl_writer, params: {path: o.jsonl}}\nedges: [input -> out]\n") != v);
}
