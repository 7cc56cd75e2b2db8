// parse_graph / load_graph_file: YAML → GraphSpec, structure errors, and where things are.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdint>

#include <sluice/json.hpp>

#include "graph_test_support.hpp"

using namespace sluice;
using sluice::testing::formatted;

namespace {

std::string at(const SourceLocation& where) {
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

const Value& param(const NodeSpec& node, std::string_view name) {
  const Value* value = node.params.find(name);
  REQUIRE_MESSAGE(value, "no param " << name);
  return *value;
}

std::vector<std::string> parse_errors(std::string_view yaml) {
  std::vector<Diagnostic> errors;
  parse_graph(yaml, "g.yaml", errors);
  return formatted(errors);
}

}  // namespace

TEST_CASE("a full graph file: fields, typed params and the location of everything") {
  const char* yaml = R"(name: enrich
description: split and enrich
workers: 2
nodes:
  parse: {component: json_adapter}
  clean:
    component: delete_field
    params:
      fields: [password, ssn]
      limit: 5
      ratio: 0.5
      exp: 1e3
      on: true
      off: False
      nothing: ~
      empty:
      quoted: "42"
      single: 'true'
      yes_word: yes
      hex: 0x1F
      negative: -7
      nested: {a: [1, {b: null}]}
      block: |
        two lines
      forced: !!str 12
edges:
  - parse -> clean
  - from: clean.out
    to: out.in
    capacity: 16
)";
  std::vector<Diagnostic> errors;
  GraphSpec spec = parse_graph(yaml, "graphs/enrich.yaml", errors);
  REQUIRE(formatted(errors) == std::vector<std::string>{});
  CHECK(spec.name == "enrich");
  CHECK(spec.description == "split and enrich");
  CHECK(spec.workers == std::optional<std::size_t>(2));
  CHECK(spec.file == "graphs/enrich.yaml");
  CHECK(spec.yaml_text == yaml);
  CHECK(at(spec.where) == "graphs/enrich.yaml:4:1");

  REQUIRE(spec.nodes.size() == 2);
  const NodeSpec& parse = spec.nodes[0];
  CHECK(parse.id == "parse");
  CHECK(parse.component == "json_adapter");
  CHECK(at(parse.where) == "graphs/enrich.yaml:5:3");
  CHECK(at(parse.component_where) == "graphs/enrich.yaml:5:22");
  CHECK(parse.params.empty());

  const NodeSpec& clean = spec.nodes[1];
  CHECK(at(clean.where) == "graphs/enrich.yaml:6:3");
  CHECK(at(clean.component_where) == "graphs/enrich.yaml:7:16");
  CHECK(param(clean, "fields") == Value(Array{"password", "ssn"}));
  CHECK(param(clean, "limit").is_int());
  CHECK(param(clean, "limit").as_int() == 5);
  CHECK(param(clean, "ratio").is_double());
  CHECK(param(clean, "ratio").as_double() == 0.5);
  CHECK(param(clean, "exp").is_double());
  CHECK(param(clean, "exp").as_double() == 1000.0);
  CHECK(param(clean, "on") == Value(true));
  CHECK(param(clean, "off") == Value(false));
  CHECK(param(clean, "nothing").is_null());
  CHECK(param(clean, "empty").is_null());
  CHECK(param(clean, "quoted") == Value("42"));
  CHECK(param(clean, "single") == Value("true"));
  CHECK(param(clean, "yes_word") == Value("yes"));  // YAML 1.2: not a boolean
  CHECK(param(clean, "hex") == Value(31));
  CHECK(param(clean, "negative") == Value(-7));
  CHECK(param(clean, "nested") ==
        Value(Object{{"a", Array{1, Object{{"b", nullptr}}}}}));
  CHECK(param(clean, "block") == Value("two lines\n"));
  CHECK(param(clean, "forced") == Value("12"));

  REQUIRE(clean.param_locations.size() == clean.params.size());
  CHECK(clean.param_locations[0].first == "fields");
  CHECK(at(clean.param_locations[0].second) == "graphs/enrich.yaml:9:15");
  // An empty value has no text of its own: it is located at its key.
  CHECK(clean.param_locations[7].first == "empty");
  CHECK(at(clean.param_locations[7].second) == "graphs/enrich.yaml:16:7");

  REQUIRE(spec.edges.size() == 2);
  const EdgeSpec& first = spec.edges[0];
  CHECK(first.from_node == "parse");
  CHECK(first.from_port == "");
  CHECK(first.to_node == "clean");
  CHECK(first.to_port == "");
  CHECK_FALSE(first.capacity);
  CHECK(at(first.where) == "graphs/enrich.yaml:27:5");
  CHECK(at(first.from_where) == "graphs/enrich.yaml:27:5");
  CHECK(at(first.to_where) == "graphs/enrich.yaml:27:14");

  const EdgeSpec& second = spec.edges[1];
  CHECK(second.from_node == "clean");
  CHECK(second.from_port == "out");
  CHECK(second.to_node == "out");
  CHECK(second.to_port == "in");
  CHECK(second.capacity == std::optional<std::size_t>(16));
  CHECK(at(second.where) == "graphs/enrich.yaml:28:5");
  CHECK(at(second.from_where) == "graphs/enrich.yaml:28:11");
  CHECK(at(second.to_where) == "graphs/enrich.yaml:29:9");
}

TEST_CASE("scalars follow the YAML 1.2 core schema") {
  std::vector<Diagnostic> errors;
  GraphSpec spec = parse_graph(R"(name: g
nodes:
  n:
    component: c
    params: {a: +12, b: 0o17, c: -.5, d: 2., e: .inf, f: -.INF, g: .nan, h: 1_000, i: 0x,
             j: 1.5e-3, k: 1e999, l: NULL, m: "", n: '', o: 9223372036854775807,
             p: -9223372036854775808, q: 3e, r: 1.2.3}
)",
                               "g.yaml", errors);
  REQUIRE(formatted(errors) == std::vector<std::string>{});
  REQUIRE(spec.nodes.size() == 1);
  const NodeSpec& n = spec.nodes[0];
  CHECK(param(n, "a") == Value(12));
  CHECK(param(n, "b") == Value(15));
  CHECK(param(n, "c") == Value(-0.5));
  CHECK(param(n, "d") == Value(2.0));
  CHECK(std::isinf(param(n, "e").as_double()));
  CHECK(param(n, "e").as_double() > 0);
  CHECK(param(n, "f").as_double() < 0);
  CHECK(std::isnan(param(n, "g").as_double()));
  CHECK(param(n, "h") == Value("1_000"));
  CHECK(param(n, "i") == Value("0x"));
  CHECK(param(n, "j") == Value(0.0015));
  CHECK(std::isinf(param(n, "k").as_double()));
  CHECK(param(n, "l").is_null());
  CHECK(param(n, "m") == Value(""));
  CHECK(param(n, "n") == Value(""));
  CHECK(param(n, "o") == Value(INT64_MAX));
  CHECK(param(n, "p") == Value(INT64_MIN));
  CHECK(param(n, "q") == Value("3e"));
  CHECK(param(n, "r") == Value("1.2.3"));
}

TEST_CASE("YAML syntax errors are located where the parser stopped") {
  CHECK(parse_errors("name: g\nnodes:\n  a: {component: x\nedges: []\n") ==
        std::vector<std::string>{
            "g.yaml:4:6: error: invalid YAML: end of map flow not found"});
  CHECK(parse_errors("name: g\n  nodes: 1\n") ==
        std::vector<std::string>{"g.yaml:2:8: error: invalid YAML: illegal map value"});
}

TEST_CASE("a file must hold one YAML map") {
  CHECK(parse_errors("") ==
        std::vector<std::string>{
            "g.yaml:1:1: error: a graph file must be a YAML map with the keys name, description, "
            "workers, durability, nodes, edges and pipeline"});
  CHECK(parse_errors("name: a\nnodes: {}\n---\nname: b\n") ==
        std::vector<std::string>{
            "g.yaml:4:1: error: the file holds 2 YAML documents; a graph file holds exactly one"});
}

TEST_CASE("stray flow indicators are an error, not an endless loop (found by fuzz_graph_yaml)") {
  // yaml-cpp 0.7's LoadAll loops forever, allocating, on these.
  for (const std::string text : {",", "\n,\n", ", vaCue: [1, 2] }d, params: { field: x } }\n  b: *a\npipeline: [a, YY,Y]\n"}) {
    CAPTURE(text);
    CHECK_FALSE(parse_errors(text).empty());
  }
}

TEST_CASE("unknown keys are reported with a did-you-mean") {
  CHECK(parse_errors("name: g\nnodes:\n  a: {component: json_adapter}\nedgs: []\n") ==
        std::vector<std::string>{
            "g.yaml:4:1: error: unknown key 'edgs' (did you mean 'edges'?); a graph has: name, "
            "description, workers, durability, nodes, edges, pipeline"});
  CHECK(parse_errors("name: g\nnodes:\n  a: {component: json_adapter, param: {}}\n") ==
        std::vector<std::string>{
            "g.yaml:3:32: error: node 'a': unknown key 'param' (did you mean 'params'?); a node "
            "has: component, params, isolation, timeout, ui"});
  CHECK(parse_errors("name: g\nnodes: {a: {component: c}}\nedges:\n  - {from: a, too: a}\n") ==
        std::vector<std::string>{
            "g.yaml:4:15: error: edge 'a -> ?': unknown key 'too' (did you mean 'to'?); an edge "
            "has: from, to, capacity, capacity_bytes",
            "g.yaml:4:5: error: edge 'a -> ?' has no 'to'"});
}

TEST_CASE("a node's ui block (the editor's layout) is kept as it is and must be a map") {
  std::vector<Diagnostic> errors;
  const GraphSpec spec =
      parse_graph("name: g\nnodes:\n  a: {component: c, ui: {x: 120, y: -4.5}}\n  b: {component: c}\n", "g.yaml", errors);
  REQUIRE(errors.empty());
  CHECK(json::to_string(Value(spec.nodes[0].ui)) == R"({"x":120,"y":-4.5})");
  CHECK(spec.nodes[1].ui.empty());
  CHECK(parse_errors("name: g\nnodes:\n  a: {component: c, ui: 3}\n") ==
        std::vector<std::string>{
            "g.yaml:3:25: error: node 'a': 'ui' must be a map like {x: 120, y: 40} (the editor's layout)"});
}

TEST_CASE("repeated keys, which yaml-cpp keeps silently, are errors") {
  CHECK(parse_errors("name: g\nnodes: {a: {component: c}}\nname: h\n") ==
        std::vector<std::string>{
            "g.yaml:3:1: error: in the graph, duplicate key 'name' (first given at line 1)"});
  CHECK(parse_errors("name: g\nnodes:\n  a:\n    component: c\n    params: {x: 1, x: 2}\n") ==
        std::vector<std::string>{
            "g.yaml:5:20: error: in node 'a' params, duplicate key 'x' (first given at line 5)"});
}

TEST_CASE("the name defaults to the file's stem; text without a file must name its graph") {
  std::vector<Diagnostic> errors;
  GraphSpec spec = parse_graph("nodes: {a: {component: c}}\n", "graphs/enrich.yaml", errors);
  CHECK(errors.empty());
  CHECK(spec.name == "enrich");

  spec = parse_graph("nodes: {a: {component: c}}\n", "", errors);
  CHECK(formatted(errors) ==
        std::vector<std::string>{"<input>:1:1: error: the graph has no 'name'"});

  CHECK(parse_errors("name: my graph\nnodes: {a: {component: c}}\n") ==
        std::vector<std::string>{
            "g.yaml:1:7: error: graph name 'my graph' may contain only letters, digits, '_' and "
            "'-'"});
}

TEST_CASE("node ids must be usable in edges") {
  CHECK(parse_errors("name: g\nnodes:\n  a.b: {component: c}\n") ==
        std::vector<std::string>{
            "g.yaml:3:3: error: node id 'a.b' may contain only letters, digits, '_' and '-' "
            "(edges write 'node.port')"});
}

TEST_CASE("shapes: nodes, params, edges and workers") {
  CHECK(parse_errors("name: g\nnodes: [a, b]\n") ==
        std::vector<std::string>{
            "g.yaml:2:8: error: 'nodes' must be a map of node id to {component: NAME, params: "
            "{...}}"});
  CHECK(parse_errors("name: g\nnodes:\n  a: {component: c, params: [1]}\n") ==
        std::vector<std::string>{
            "g.yaml:3:29: error: node 'a': 'params' must be a map of name: value"});
  CHECK(parse_errors("name: g\nnodes:\n  a: {component: [c]}\n") ==
        std::vector<std::string>{"g.yaml:3:18: error: node 'a': 'component' must be a string"});
  CHECK(parse_errors("name: g\nnodes:\n  a: {component: null}\n") ==
        std::vector<std::string>{"g.yaml:3:18: error: node 'a': 'component' must be a string, not YAML null "
                                 "(for the text null, quote it: 'null')"});
  CHECK(parse_errors("name: g\nworkers: 0\nnodes: {a: {component: c}}\n") ==
        std::vector<std::string>{
            "g.yaml:2:10: error: 'workers' must be a whole number of at least 1, got '0'"});
  CHECK(parse_errors("name: g\nnodes: {a: {component: c}}\nedges: a -> b\n") ==
        std::vector<std::string>{
            "g.yaml:3:8: error: 'edges' must be a list of 'from -> to' strings or {from, to, "
            "capacity, capacity_bytes} maps"});
}

TEST_CASE("edge strings: 'a -> b', ports optional on either side") {
  std::vector<Diagnostic> errors;
  GraphSpec spec = parse_graph(R"(name: g
nodes: {}
edges:
  - a.matched->b
  - "  x ->  y.right"
)",
                               "g.yaml", errors);
  REQUIRE(errors.empty());
  REQUIRE(spec.edges.size() == 2);
  CHECK(spec.edges[0].from_node == "a");
  CHECK(spec.edges[0].from_port == "matched");
  CHECK(spec.edges[0].to_node == "b");
  CHECK(spec.edges[0].to_port == "");
  CHECK(at(spec.edges[0].to_where) == "g.yaml:4:16");
  CHECK(spec.edges[1].from_node == "x");
  CHECK(spec.edges[1].to_port == "right");
  // Quoted: the columns count from inside the quotes.
  CHECK(at(spec.edges[1].from_where) == "g.yaml:5:8");
  CHECK(at(spec.edges[1].to_where) == "g.yaml:5:14");

  CHECK(parse_errors("name: g\nnodes: {}\nedges:\n  - a => b\n  - a -> b -> c\n  - a. -> b\n") ==
        std::vector<std::string>{
            "g.yaml:4:5: error: edge 'a => b' is not of the form 'from -> to' (ports optional: "
            "'from.port -> to.port')",
            "g.yaml:5:5: error: edge 'a -> b -> c' is not of the form 'from -> to' (ports "
            "optional: 'from.port -> to.port')",
            "g.yaml:6:5: error: edge 'a. -> b': 'a.' is not an endpoint; write 'node' or "
            "'node.port'"});
}

TEST_CASE("map-form edges carry a capacity in packets and in bytes") {
  std::vector<Diagnostic> errors;
  GraphSpec spec = parse_graph(R"(name: g
nodes: {}
edges:
  - {from: a.unmatched, to: b, capacity: 64}
  - from: b
    to: c.left
  - {from: c, to: d, capacity_bytes: 16MiB}
  - {from: d, to: e, capacity: 8, capacity_bytes: 4096}
  - {from: e, to: f, capacity_bytes: 2 k}
)",
                               "g.yaml", errors);
  REQUIRE(errors.empty());
  REQUIRE(spec.edges.size() == 5);
  CHECK(spec.edges[0].from_port == "unmatched");
  CHECK(spec.edges[0].capacity == std::optional<std::size_t>(64));
  CHECK_FALSE(spec.edges[0].capacity_bytes);
  CHECK(spec.edges[1].to_port == "left");
  CHECK_FALSE(spec.edges[1].capacity);
  CHECK(spec.edges[2].capacity_bytes == std::optional<std::size_t>(16 << 20));
  CHECK_FALSE(spec.edges[2].capacity);
  CHECK(spec.edges[3].capacity == std::optional<std::size_t>(8));
  CHECK(spec.edges[3].capacity_bytes == std::optional<std::size_t>(4096));
  CHECK(spec.edges[4].capacity_bytes == std::optional<std::size_t>(2048));

  CHECK(parse_errors("name: g\nnodes: {}\nedges:\n  - {from: a, to: b, capacity_bytes: 0}\n"
                     "  - {from: a, to: b, capacity_bytes: 3 parsecs}\n"
                     "  - {from: a, to: b, capacity_bytes: 99999999999999999999G}\n") ==
        std::vector<std::string>{
            "g.yaml:4:38: error: edge 'a -> b': 'capacity_bytes' must be a number of bytes of at least 1, "
            "such as 1048576 or 16MiB, got '0'",
            "g.yaml:5:38: error: edge 'a -> b': 'capacity_bytes' must be a number of bytes of at least 1, "
            "such as 1048576 or 16MiB, got '3 parsecs'",
            "g.yaml:6:38: error: edge 'a -> b': 'capacity_bytes' must be a number of bytes of at least 1, "
            "such as 1048576 or 16MiB, got '99999999999999999999G'"});

  CHECK(parse_errors("name: g\nnodes: {}\nedges:\n  - {from: a, to: b, capacity: 0}\n"
                     "  - {from: a, to: b, capacity: lots}\n  - {from: a, to: b, capacity: 1.5}\n") ==
        std::vector<std::string>{
            "g.yaml:4:32: error: edge 'a -> b': 'capacity' must be a whole number of at least 1, "
            "got '0'",
            "g.yaml:5:32: error: edge 'a -> b': 'capacity' must be a whole number of at least 1, "
            "got 'lots'",
            "g.yaml:6:32: error: edge 'a -> b': 'capacity' must be a whole number of at least 1, "
            "got '1.5'"});
}

TEST_CASE("pipeline is the short form of a straight line, and combines with edges") {
  std::vector<Diagnostic> errors;
  GraphSpec spec = parse_graph(R"(name: g
nodes: {}
pipeline: [a, b, c]
edges:
  - c -> d
)",
                               "g.yaml", errors);
  REQUIRE(errors.empty());
  REQUIRE(spec.edges.size() == 3);
  CHECK(spec.edges[0].from_node == "a");
  CHECK(spec.edges[0].to_node == "b");
  CHECK(at(spec.edges[0].from_where) == "g.yaml:3:12");
  CHECK(at(spec.edges[0].to_where) == "g.yaml:3:15");
  CHECK(spec.edges[1].from_node == "b");
  CHECK(spec.edges[1].to_node == "c");
  CHECK(spec.edges[2].from_node == "c");
  CHECK(spec.edges[2].to_node == "d");

  CHECK(parse_errors("name: g\nnodes: {}\npipeline: [a, b.out, c]\n") ==
        std::vector<std::string>{
            "g.yaml:3:15: error: 'pipeline' entries are node ids (use 'edges' to name ports), got "
            "'b.out'"});
}

TEST_CASE("values YAML cannot hand over faithfully are errors") {
  CHECK(parse_errors("name: g\nnodes:\n  a: {component: c, params: {n: 99999999999999999999}}\n") ==
        std::vector<std::string>{
            "g.yaml:3:33: error: the integer 99999999999999999999 does not fit in 64 bits (quote "
            "it to keep it as a string)"});
  CHECK(parse_errors("name: g\nnodes:\n  a: {component: c, params: {p: !env HOME}}\n") ==
        std::vector<std::string>{
            "g.yaml:3:33: error: unsupported YAML tag '!env' (only !!str is understood; quote a "
            "value to make it a string)"});
}

TEST_CASE("load_graph_file reads a file, and says why it cannot") {
  std::vector<Diagnostic> errors;
  GraphSpec spec = load_graph_file(SLUICE_GRAPH_TEST_DATA "/enrich.yaml", errors);
  CHECK(formatted(errors) == std::vector<std::string>{});
  CHECK(spec.name == "enrich");
  CHECK(spec.file == SLUICE_GRAPH_TEST_DATA "/enrich.yaml");
  CHECK(spec.nodes.size() == 4);

  errors.clear();
  load_graph_file(SLUICE_GRAPH_TEST_DATA "/no-such-file.yaml", errors);
  CHECK(formatted(errors) ==
        std::vector<std::string>{SLUICE_GRAPH_TEST_DATA
                                 "/no-such-file.yaml: error: cannot read the graph file: No such "
                                 "file or directory"});

  errors.clear();
  load_graph_file(SLUICE_GRAPH_TEST_DATA, errors);
  CHECK(formatted(errors) ==
        std::vector<std::string>{SLUICE_GRAPH_TEST_DATA
                                 ": error: cannot read the graph file: it is a directory"});
}

TEST_CASE("format() prints like a compiler") {
  CHECK(format({{"g.yaml", 3, 7}, "boom"}) == "g.yaml:3:7: error: boom");
  CHECK(format({{"g.yaml", 0, 0}, "boom"}) == "g.yaml: error: boom");
  CHECK(format({{"", 2, 1}, "boom"}) == "<input>:2:1: error: boom");
}

// Nine lists of nine, each made of the one before: 626 bytes that stand for 9^9 strings.
std::string alias_bomb() {
  std::string yaml = "name: bomb\nnodes:\n  a:\n    component: log\n    params:\n      prefix:\n";
  yaml += "        l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int level = 1; level < 9; ++level) {
    const std::string previous = "*l" + std::to_string(level - 1);
    yaml += "        l" + std::to_string(level) + ": &l" + std::to_string(level) + " [";
    for (int i = 0; i < 9; ++i) yaml += (i ? ", " : "") + previous;
    yaml += "]\n";
  }
  return yaml;
}

TEST_CASE("an alias inside its own anchor is refused as too deep, not followed until the stack overflows") {
  // Found by fuzz_graph_yaml: the cycle took the process down (a PUT of these bytes would take
  // the server down).
  const auto errors = parse_errors("name: g\nnodes:\n  a: {component: log, params: {x: &a [1, *a]}}\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("g.yaml:3:") == 0);
  CHECK(errors[0].find("is nested deeper than 512 levels (a YAML alias inside its own anchor?)") != std::string::npos);
  // Plain nesting never gets there: yaml-cpp refuses a few hundred levels itself.
}

TEST_CASE("a YAML alias bomb is refused in milliseconds, at the value that crosses the budget") {
  const std::string bomb = alias_bomb();
  CHECK(bomb.size() == 626);
  const auto start = std::chrono::steady_clock::now();
  const auto errors = parse_errors(bomb);
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < std::chrono::milliseconds(500));  // unbounded, it builds 387 M values (GBs)
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("g.yaml:7:") == 0);  // in a list made of aliases
  CHECK(errors[0].find("the params expand to more than 100000 values or 16 MiB of text") != std::string::npos);

  // Aliases within the budget are the values they stand for.
  std::vector<Diagnostic> fine;
  const GraphSpec spec =
      parse_graph("name: g\nnodes:\n  a: {component: log, params: {x: &x [1, 2], y: [*x, *x]}}\n", "g.yaml", fine);
  CHECK(fine.empty());
  CHECK(param(spec.nodes.at(0), "y").as_array().at(1).as_array().at(1).as_int() == 2);
}

TEST_CASE("durability: wal or none, absent by default, anything else an error at its value") {
  std::vector<Diagnostic> errors;
  CHECK_FALSE(parse_graph("nodes:\n  a: {component: collect}\n", "g.yaml", errors).durability);
  const GraphSpec none = parse_graph("durability: none\nnodes:\n  a: {component: collect}\n", "g.yaml", errors);
  CHECK(none.durability == Durability::none);
  CHECK(at(none.durability_where) == "g.yaml:1:13");
  CHECK(parse_graph("durability: wal\nnodes:\n  a: {component: collect}\n", "g.yaml", errors).durability ==
        Durability::wal);
  REQUIRE_MESSAGE(errors.empty(), formatted(errors).front());
  CHECK(parse_errors("durability: sometimes\nnodes:\n  a: {component: collect}\n") ==
        std::vector<std::string>{"g.yaml:1:13: error: 'durability' must be wal (log submissions before answering) "
                                 "or none (keep them in memory only), got 'sometimes'"});
}
