// The one way a graph becomes a plan and its problems a report. `sluice check`, `run` and
// `deploy`, and `sluice serve` (its graphs directory and PUT /v1/graphs/{g}) all read, plan
// and report through here, so they accept and refuse the same graphs in the same words.
//
//   LoadedGraph graph = load_graph("graphs/enrich.yaml", registry);
//   if (!graph.plan) report_errors(std::cerr, graph, "nothing deployed", registry.rejected().size());
#pragma once

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string_view>
#include <vector>

#include "graph/graph_spec.hpp"
#include "registry/component_catalog.hpp"

namespace sluice {

struct LoadedGraph {
  std::filesystem::path file;  // where it was read from, or the name its text goes by
  GraphSpec spec = {};
  std::optional<GraphPlan> plan = std::nullopt;  // set by validate(), only when `errors` is empty
  std::vector<Diagnostic> errors = {};           // reading's, then validation's
};

// YAML (or JSON, which YAML reads too) into a spec; syntax and structure errors are kept in
// `errors`. A text is read under `file_name`: its errors name it, and a graph without `name`
// takes it from there (graphs/enrich.yaml → enrich).
LoadedGraph read_graph_file(const std::filesystem::path& file);
LoadedGraph read_graph_text(std::string_view text, const std::filesystem::path& file_name);

enum class Validation {
  plan,       // the spec against the catalog (plan_graph)
  construct,  // that, and every node constructed once, as a deploy would (check_graph)
};
// Validates the spec even when reading found errors, so that one round reports everything;
// the plan is kept only when there is no error at all.
void validate(LoadedGraph& graph, const ComponentCatalog& catalog, Validation validation = Validation::plan,
              const PathPolicy& paths = {});

// read_graph_file, then validate.
LoadedGraph load_graph(const std::filesystem::path& file, const ComponentCatalog& catalog,
                       Validation validation = Validation::plan, const PathPolicy& paths = {});

// The errors sorted by line and column, as a compiler prints them (validation finds them check
// by check).
std::vector<Diagnostic> in_file_order(std::vector<Diagnostic> errors);

// Each error as `file:line:col: error: …`, then `FILE: N errors[; CONSEQUENCE]`, and when
// plugin files were rejected `; K plugin files rejected, `sluice plugins` says why` (an unknown
// component is often a plugin that failed to load).
void report_errors(std::ostream& out, const LoadedGraph& graph, std::string_view consequence = {},
                   std::size_t rejected_plugins = 0);

}  // namespace sluice
