// to_dot: Graphviz output of a spec.
#include <doctest/doctest.h>

#include "graph_test_support.hpp"

using namespace sluice;

TEST_CASE("DOT: nodes labelled id and component, edges labelled with non-default ports") {
  std::vector<Diagnostic> errors;
  GraphSpec spec = parse_graph(R"(name: g
description: a "quoted" graph
nodes:
  a: {component: json_adapter}
  r: {component: router}
  w: {component: jsonl_writer}
edges:
  - a -> r.left
  - {from: r.matched, to: w, capacity: 4, capacity_bytes: 1KiB}
  - r.error -> w
)",
                               "g.yaml", errors);
  REQUIRE(errors.empty());
  CHECK(to_dot(spec) == R"(digraph "g" {
  rankdir=LR;
  node [shape=box, style=rounded];
  tooltip="a \"quoted\" graph";
  "a" [label="a\njson_adapter"];
  "r" [label="r\nrouter"];
  "w" [label="w\njsonl_writer"];
  "a" -> "r" [headlabel="left"];
  "r" -> "w" [taillabel="matched", label="capacity 4, 1024 bytes"];
  "r" -> "w" [taillabel="error", style=dashed, color=red];
}
)");
}

TEST_CASE("DOT: names are escaped, and a repeated node is drawn once") {
  GraphSpec spec;
  spec.name = R"(odd "name" \ here)";
  for (const char* component : {"x\"y", "other"}) {
    NodeSpec node;
    node.id = "a";
    node.component = component;
    spec.nodes.push_back(node);
  }
  CHECK(to_dot(spec) == R"(digraph "odd \"name\" \\ here" {
  rankdir=LR;
  node [shape=box, style=rounded];
  "a" [label="a\nx\"y"];
}
)");
}
