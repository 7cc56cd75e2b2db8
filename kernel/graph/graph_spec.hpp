// Graph specifications: what a graph YAML file says (GraphSpec), and the validated, resolved
// form the runtime deploys (GraphPlan).
//
//   std::vector<Diagnostic> errors;
//   GraphSpec spec = load_graph_file("graphs/enrich.yaml", errors);   // YAML → spec
//   std::optional<GraphPlan> plan = plan_graph(spec, registry, errors); // validate + resolve
//   … or check_graph(spec, registry, errors): the same, and each component constructed once
//   for (auto& e : errors) std::cerr << format(e) << '\n';             // file:line:col: error: …
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/component.hpp>
#include <sluice/value.hpp>

#include "registry/component_catalog.hpp"

namespace sluice {

struct SourceLocation {
  std::string file;  // as given (or "<input>" for text without a file)
  std::size_t line = 0;    // 1-based; 0 when unknown
  std::size_t column = 0;  // 1-based
};

struct Diagnostic {
  SourceLocation where;
  std::string message;  // one sentence, no location prefix
  // The node the error is about, and its param, when it is about one ("" otherwise): for
  // clients that show errors where they belong (the editor) without reading the message.
  std::string node = {};
  std::string param = {};
};

// "file:line:col: error: message" (like a compiler).
std::string format(const Diagnostic& diagnostic);

// How a node's component runs (docs/plugins.md): in the kernel's own process, or in a
// `sluice host` process of its own, which a crash or a hang of the component takes down
// instead of the server.
enum class Isolation { in_process, process };
const char* to_string(Isolation isolation);  // "in_process", "process"

// How long a component may keep a packet (or its start, or its flush) before it counts as
// hung: an `isolation: process` host is then killed and restarted, an in-process node shown
// as stalled.
inline constexpr std::chrono::milliseconds default_node_timeout{30000};

struct NodeSpec {
  std::string id;
  std::string component;
  Object params;
  Object ui;                       // the editor's layout ({x, y}); the runtime ignores it
  SourceLocation where;            // the node's key
  SourceLocation component_where;  // the `component:` value
  // Where each given param's value is, for errors about it.
  std::vector<std::pair<std::string, SourceLocation>> param_locations;
  Isolation isolation = Isolation::in_process;
  SourceLocation isolation_where = {};  // the `isolation:` value, when given
  std::optional<std::chrono::milliseconds> timeout = std::nullopt;  // `timeout:`
};

struct EdgeSpec {
  std::string from_node, from_port;  // port "" = the default (`out`)
  std::string to_node, to_port;      // port "" = the default (`in`)
  std::optional<std::size_t> capacity;        // packets
  std::optional<std::size_t> capacity_bytes;  // the memory those may take
  SourceLocation where;
  // Each endpoint's own text, so that "unknown node" points at the name that is wrong.
  SourceLocation from_where, to_where;
};

// Whether `sluice serve` writes a graph's submissions to its write-ahead log before answering.
enum class Durability { wal, none };
const char* to_string(Durability durability);  // "wal", "none"

struct GraphSpec {
  std::string name;
  std::string description;
  std::optional<std::size_t> workers;  // parallel instances; absent = one per runtime worker
  // `durability:`; absent = the server's --durability (`sluice run` never logs).
  std::optional<Durability> durability = std::nullopt;
  SourceLocation durability_where = {};  // the `durability:` value, when given
  std::vector<NodeSpec> nodes;
  std::vector<EdgeSpec> edges;
  std::string file;       // where it was read from ("" when from text)
  std::string yaml_text;  // the original text, served back by GET /v1/graphs/{g}
  // The `nodes:` key (the top of the document when absent): errors about the graph as a
  // whole, such as "no source node", point here.
  SourceLocation where;
};

// Parses YAML text. Syntax and structure errors are appended to `errors` (with file:line:col);
// the returned spec holds whatever could be read.
GraphSpec parse_graph(std::string_view yaml_text, std::string_view file_name,
                      std::vector<Diagnostic>& errors);
GraphSpec load_graph_file(const std::filesystem::path& file, std::vector<Diagnostic>& errors);

// An edge (or a source node's ingress queue) holds this many packets, and packets of this many
// bytes, at most; a packet larger than the byte bound passes alone.
inline constexpr std::size_t default_edge_capacity = 1024;
inline constexpr std::size_t default_edge_capacity_bytes = 8 << 20;

struct PlannedNode {
  std::string id;
  std::shared_ptr<const ComponentDescriptor> component;  // keeps its library loaded
  Params params;                                          // validated, defaults filled in
  Isolation isolation = Isolation::in_process;
  std::chrono::milliseconds timeout = default_node_timeout;
  // The plugin build it runs (what an isolation: process host loads); nullopt for a component
  // built into this program.
  std::optional<ComponentOrigin> origin = std::nullopt;
};

struct PlannedEdge {
  std::size_t from_node = 0;
  std::size_t from_port = 0;  // index into outputs; outputs.size() is the implicit `error` port
  std::size_t to_node = 0;
  std::size_t to_port = 0;    // index into inputs
  std::size_t capacity = default_edge_capacity;
  std::size_t capacity_bytes = default_edge_capacity_bytes;
};

struct GraphPlan {
  std::string name;
  std::optional<std::size_t> workers;
  std::vector<PlannedNode> nodes;    // in topological order: every edge goes forward
  std::vector<PlannedEdge> edges;
  // Nodes with no incoming edge that are not of kind source: where posted data enters (none:
  // the graph takes no posted data).
  std::vector<std::size_t> sources;
  std::vector<std::size_t> producers;  // nodes of kind source: they make their own packets
  GraphSpec spec;
  // 16 hex digits that change when what the graph does changes: its nodes (component, plugin
  // build, params with defaults filled in) and edges; not its comments or formatting. The
  // write-ahead log records it with each submission, so that a replay can tell whether the
  // graph changed since the submission was accepted.
  std::string version;
};

// Where file_path params (ParamSpec::file_path) and ${file:PATH} references may point.
struct PathPolicy {
  // Relative paths resolve against it; empty: the working directory.
  std::filesystem::path base;
  // Directories a path must lie in once `..` and symlinks are resolved (canonical paths);
  // empty: anywhere. `sluice serve` gives its data root and --allow-path directories; the
  // operator's own commands (`sluice run`, `check`) give none.
  std::vector<std::filesystem::path> roots;
};

// `path` resolved under `policy`: absolute, `..` and symlinks resolved (as far as it exists).
// Throws std::invalid_argument saying why it is refused.
std::filesystem::path resolve_file_path(std::string_view path, const PathPolicy& policy);

// A secret param's value with every ${env:NAME} and ${file:PATH} in its strings replaced by
// the variable's value or the file's content (one trailing newline dropped). Throws
// std::invalid_argument naming the reference that cannot be resolved, or when the value is the
// "***" that shown_spec shows (a graph read back and sent again without its secret).
Value resolve_secret(const Value& value, const PathPolicy& policy);

// Validates everything (unknown component with did-you-mean, unknown port, duplicate node,
// cycle naming its nodes, params against the component's table, file paths outside `paths`,
// unresolvable secret references, unreachable node, edge out of a publisher, …), appending
// every error to `errors`. Returns the plan only when `errors` is empty afterwards, so parse
// errors collected into the same vector also withhold the plan (their spec may be missing
// parts). The default `paths` lets file paths point anywhere, relative to the working
// directory: what the operator's own commands need.
std::optional<GraphPlan> plan_graph(const GraphSpec& spec, const ComponentCatalog& catalog,
                                    std::vector<Diagnostic>& errors, const PathPolicy& paths = {});

// The plan's spec as it may be shown (GET /v1/graphs/{g}, the editor): in secret params, a
// string that holds no reference becomes "***", and so does any other value; references are
// shown as written. When anything was masked the original text is dropped (yaml_text is
// empty), since it holds the secret.
GraphSpec shown_spec(const GraphPlan& plan);

// plan_graph, and also constructs each node whose component and params are valid once, as a
// deploy would, and destroys it again, appending an error at the node (at the param, when the
// constructor's message begins "param 'NAME'") for each constructor that fails: what the param
// table alone cannot catch (a regex or condition that does not compile, an unknown time zone,
// …). Nodes are constructed even when other parts of the graph have errors, so that one round
// reports everything (`sluice check`, PUT /v1/graphs/{g}).
std::optional<GraphPlan> check_graph(const GraphSpec& spec, const ComponentCatalog& catalog,
                                     std::vector<Diagnostic>& errors, const PathPolicy& paths = {});

// The JSON form of a spec, as GET /v1/graphs/{g} serves it with Accept: application/json;
// parse_graph reads it back (edges as {from, to, capacity} maps). Validation not required.
Value spec_document(const GraphSpec& spec);

// Graphviz DOT of a spec (validation not required).
std::string to_dot(const GraphSpec& spec);

}  // namespace sluice
