// The subcommands of the `sluice` binary. Each add_* registers one (or a family) on the app
// and sets the process exit code through set_exit_code() when it runs.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/http_client.hpp>

#include "registry/plugin_registry.hpp"

namespace sluice::cli {

void add_plugins_command(CLI::App& app);  // plugins_command.cpp: `plugins`, `plugins describe`
void add_graph_commands(CLI::App& app);   // graph_commands.cpp: `check`, `dot`
void add_run_command(CLI::App& app);      // run_command.cpp: `run GRAPH` over NDJSON
void add_serve_command(CLI::App& app);    // serve_command.cpp: `serve`, the REST server
void add_new_command(CLI::App& app);      // new_command.cpp: `new component`, from templates/
void add_deploy_command(CLI::App& app);   // deploy_command.cpp: `deploy GRAPH` to every node of a cluster
void add_tap_command(CLI::App& app);      // tap_command.cpp: `tap URL GRAPH NODE.PORT`, live packets as NDJSON
void add_host_command(CLI::App& app);     // host_command.cpp: `host`, an isolation: process node's process

// `--plugins DIR` (repeatable, each an existing directory) and `--no-bundled-plugins` on a
// subcommand; the search path is then plugin_search_path(dirs).
void add_plugin_dirs_option(CLI::App& command, std::vector<std::string>& dirs);
// --fiber-stack-kib: the stack of every node's fiber (runtime/fiber_stacks.hpp), in bytes.
void add_fiber_stack_option(CLI::App& command, std::size_t& bytes);
// For counts and sizes that must not be 0: says so in those words (CLI::PositiveNumber
// answers with a range up to the largest double).
extern const CLI::Validator at_least_one;
// For sizes in bytes (a transform: 64MiB becomes 67108864), read as a graph's capacity_bytes is
// (support/byte_size.hpp).
extern const CLI::Validator byte_size;

// The plugins this binary ships: <build>/plugins when it runs from its build tree, else
// PluginRegistry::installed_dir(). No flag or variable is needed to find them.
std::filesystem::path bundled_plugin_dir();
// `dirs`, then SLUICE_PLUGIN_PATH, then bundled_plugin_dir() (unless --no-bundled-plugins).
std::vector<std::filesystem::path> plugin_search_path(const std::vector<std::string>& dirs);
// A warning on stderr naming the directories searched and the fix, when `registry` found no
// component at all (`command` names the subcommand in the message).
void warn_if_no_components(const PluginRegistry& registry, std::string_view command);

// The editor this binary ships, for `sluice serve` without --editor: the source tree's
// tools/editor/dist when it runs from its build tree, else <prefix>/share/sluice/editor;
// "" when that holds no built editor (no index.html).
std::string bundled_editor_dir();

// A server's address as `deploy` and `tap` take it: http://host:port[/prefix], https://…, or
// host:port (http). Throws std::invalid_argument.
http::Url server_url(const std::string& text);

void set_exit_code(int code);
int exit_code();

}  // namespace sluice::cli
