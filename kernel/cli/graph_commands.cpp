// `sluice check FILE... [--plugins DIR]...`: validates graph files against the plugins found in
// the search path and prints every error like a compiler (file:line:col: error: …).
// `sluice dot FILE`: the graph as Graphviz DOT, for `sluice dot g.yaml | dot -Tsvg > g.svg`.
#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "cli/commands.hpp"
#include "graph/graph_spec.hpp"
#include "registry/plugin_registry.hpp"

namespace sluice::cli {

namespace {

struct CheckOptions {
  std::vector<std::string> files;
  std::vector<std::string> plugin_dirs;
};

std::string count(std::size_t n, const char* noun) {
  return std::to_string(n) + ' ' + noun + (n == 1 ? "" : "s");
}

// In the order of the file, as a compiler prints them (the validator groups them by check).
void print_errors(std::vector<Diagnostic> errors) {
  std::stable_sort(errors.begin(), errors.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.where.line, a.where.column) < std::tie(b.where.line, b.where.column);
  });
  for (const auto& error : errors) std::cerr << format(error) << '\n';
}

void run_check(const CheckOptions& options) {
  const PluginRegistry registry(plugin_search_path(options.plugin_dirs));
  warn_if_no_components(registry, "check");
  bool failed = false;
  for (const auto& file : options.files) {
    std::vector<Diagnostic> errors;
    const GraphSpec spec = load_graph_file(file, errors);
    if (const auto plan = check_graph(spec, registry, errors)) {
      std::cout << file << ": ok (" << count(plan->nodes.size(), "node") << ", "
                << count(plan->edges.size(), "edge") << ")\n";
      continue;
    }
    failed = true;
    print_errors(errors);
    std::cerr << file << ": " << count(errors.size(), "error");
    // An unknown component is often a plugin that failed to load: say where to look.
    if (const auto rejected = registry.rejected().size(); rejected != 0)
      std::cerr << "; " << count(rejected, "plugin file") << " rejected, `sluice plugins` says why";
    std::cerr << '\n';
  }
  set_exit_code(failed ? 1 : 0);
}

void run_dot(const std::string& file) {
  std::vector<Diagnostic> errors;
  const GraphSpec spec = load_graph_file(file, errors);
  if (!errors.empty()) {
    print_errors(errors);
    std::cerr << file << ": " << count(errors.size(), "error") << '\n';
    set_exit_code(1);
    return;
  }
  std::cout << to_dot(spec);
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
