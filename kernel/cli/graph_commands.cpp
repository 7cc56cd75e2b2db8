// `sluice check FILE... [--plugins DIR]...`: validates graph files against the plugins found in
// the search path and prints every error like a compiler (file:line:col: error: …).
// `sluice dot FILE`: the graph as Graphviz DOT, for `sluice dot g.yaml | dot -Tsvg > g.svg`.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "control/graph_loading.hpp"
#include "registry/plugin_registry.hpp"
#include "support/strings.hpp"

namespace sluice::cli {

namespace {

struct CheckOptions {
  std::vector<std::string> files;
  std::vector<std::string> plugin_dirs;
};

void run_check(const CheckOptions& options) {
  const PluginRegistry registry(plugin_search_path(options.plugin_dirs));
  warn_if_no_components(registry, "check");
  bool failed = false;
  for (const auto& file : options.files) {
    const LoadedGraph graph = load_graph(file, registry, Validation::construct);
    if (graph.plan) {
      std::cout << file << ": ok (" << count_of(graph.plan->nodes.size(), "node") << ", "
                << count_of(graph.plan->edges.size(), "edge") << ")\n";
      continue;
    }
    failed = true;
    report_errors(std::cerr, graph, {}, registry.rejected().size());
  }
  set_exit_code(failed ? 1 : 0);
}

void run_dot(const std::string& file) {
  const LoadedGraph graph = read_graph_file(file);
  if (!graph.errors.empty()) {
    report_errors(std::cerr, graph);
    set_exit_code(1);
    return;
  }
  std::cout << to_dot(graph.spec);
  set_exit_code(0);
}

}  // namespace

void add_graph_commands(CLI::App& app) {
  auto check_options = std::make_shared<CheckOptions>();
  CLI::App* check = app.add_subcommand(
      "check", "validate graph files: YAML, components, ports, params, cycles, reachability, "
               "and that every component starts with its params");
  check->add_option("files", check_options->files, "graph YAML files")->required();
  add_plugin_dirs_option(*check, check_options->plugin_dirs);
  check->final_callback([check_options] { run_check(*check_options); });

  auto dot_file = std::make_shared<std::string>();
  CLI::App* dot = app.add_subcommand("dot", "print a graph file as Graphviz DOT");
  dot->add_option("file", *dot_file, "graph YAML file")->required();
  dot->final_callback([dot_file] { run_dot(*dot_file); });
}

}  // namespace sluice::cli
