// The subcommands of the `sluice` binary. Each add_* registers one (or a family) on the app
// and sets the process exit code through set_exit_code() when it runs.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace sluice::cli {

void add_plugins_command(CLI::App& app);  // plugins_command.cpp: `plugins`, `plugins describe`

// `--plugins DIR` (repeatable) on a subcommand; the search path is then built by
// PluginRegistry::search_path(dirs).
void add_plugin_dirs_option(CLI::App& command, std::vector<std::string>& dirs);

void set_exit_code(int code);
int exit_code();

}  // namespace sluice::cli
