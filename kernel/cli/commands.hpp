// The subcommands of the `sluice` binary. Each add_* registers one (or a family) on the app
// and sets the process exit code through set_exit_code() when it runs.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace sluice::cli {

void add_plugins_command(CLI::App& app);  // plugins_command.cpp: `plugins`, `plugins describe`
void add_graph_commands(CLI::App& app);   // graph_commands.cpp: `check`, `dot`
void add_run_command(CLI::App& app);      // run_command.cpp: `run GRAPH` over NDJSON
void add_serve_command(CLI::App& app);    // serve_command.cpp: `serve`, the REST server
void add_new_command(CLI::App& app);      // new_command.cpp: `new component`, from templates/
void add_deploy_command(CLI::App& app);   // deploy_command.cpp: `deploy GRAPH` to every node of a cluster

// `--plugins DIR` (repeatable) on a subcommand; the search path is then built by
// PluginRegistry::search_path(dirs).
void add_plugin_dirs_option(CLI::App& command, std::vector<std::string>& dirs);

void set_exit_code(int code);
int exit_code();

}  // namespace sluice::cli
