#include "control/graph_loading.hpp"

#include <algorithm>
#include <ostream>
#include <tuple>

#include "support/strings.hpp"

namespace sluice {

LoadedGraph read_graph_file(const std::filesystem::path& file) {
  LoadedGraph graph{.file = file};
  graph.spec = load_graph_file(file, graph.errors);
  return graph;
}

LoadedGraph read_graph_text(std::string_view text, const std::filesystem::path& file_name) {
  LoadedGraph graph{.file = file_name};
  graph.spec = parse_graph(text, file_name.string(), graph.errors);
  return graph;
}

void validate(LoadedGraph& graph, const ComponentCatalog& catalog, Validation validation, const PathPolicy& paths) {
  graph.plan = validation == Validation::construct ? check_graph(graph.spec, catalog, graph.errors, paths)
                                                   : plan_graph(graph.spec, catalog, graph.errors, paths);
}

LoadedGraph load_graph(const std::filesystem::path& file, const ComponentCatalog& catalog, Validation validation,
                       const PathPolicy& paths) {
  LoadedGraph graph = read_graph_file(file);
  validate(graph, catalog, validation, paths);
  return graph;
}

std::vector<Diagnostic> in_file_order(std::vector<Diagnostic> errors) {
  std::stable_sort(errors.begin(), errors.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.where.line, a.where.column) < std::tie(b.where.line, b.where.column);
  });
  return errors;
}

void report_errors(std::ostream& out, const LoadedGraph& graph, std::string_view consequence,
                   std::size_t rejected_plugins) {
  for (const auto& error : in_file_order(graph.errors)) out << format(error) << '\n';
  out << graph.file.string() << ": " << count_of(graph.errors.size(), "error");
  if (!consequence.empty()) out << "; " << consequence;
  if (rejected_plugins != 0) out << "; " << count_of(rejected_plugins, "plugin file") << " rejected, `sluice plugins` says why";
  out << '\n';
}

}  // namespace sluice
