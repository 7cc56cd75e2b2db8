#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>

#include <sluice/json.hpp>

#include "cli/commands.hpp"
#include "runtime/fiber_stacks.hpp"
#include "support/byte_size.hpp"

#ifndef SLUICE_INSTALLED_EDITOR_DIR
#error "SLUICE_INSTALLED_EDITOR_DIR is defined by kernel/cli/meson.build"
#endif

namespace sluice::cli {

namespace fs = std::filesystem;

namespace {

int process_exit_code = 0;
// --no-bundled-plugins: only one subcommand runs per process, so one flag for all of them.
bool without_bundled_plugins = false;

// The build tree this binary runs from: meson puts it in <build>/kernel/cli/ and writes
// <build>/meson-info/meson-info.json, which names the source tree, at setup. Nothing for an
// installed binary.
struct BuildTree {
  fs::path build, source;
};
std::optional<BuildTree> build_tree() {
  std::error_code ec;
  const fs::path executable = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  const fs::path build = executable.parent_path().parent_path().parent_path();
  std::ifstream in(build / "meson-info" / "meson-info.json");
  if (!in) return std::nullopt;
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  try {
    const Value info = json::parse(text);
    if (const Value* source = info.find_path("directories.source"); source && source->is_string())
      return BuildTree{build, source->as_string()};
  } catch (const json::ParseError&) {
    // not meson's file, so not a build tree
  }
  return std::nullopt;
}

}  // namespace

const CLI::Validator at_least_one(
    [](const std::string& value) {
      const bool whole = !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
      return whole && value.find_first_not_of('0') != std::string::npos ? std::string()
                                                                          : "must be a whole number of at least 1";
    },
    "AT LEAST 1");

const CLI::Validator byte_size(
    [](std::string& value) {
      const auto bytes = parse_byte_size(value);
      if (!bytes) return std::string("must be a number of bytes, such as 1048576 or 64MiB");
      value = std::to_string(*bytes);
      return std::string();
    },
    "SIZE");

void add_fiber_stack_option(CLI::App& command, std::size_t& bytes) {
  command
      .add_option_function<std::size_t>(
          "--fiber-stack-kib", [&bytes](std::size_t kib) { bytes = kib << 10; },
          "stack of each node's fiber in KiB, above a guard region: a component that recurses deeper "
          "stops the server with a message naming its node (default " +
              std::to_string(fiber_stacks::default_stack_bytes >> 10) + ")")
      ->check(CLI::Range(64, 1 << 20));
}

void add_plugin_dirs_option(CLI::App& command, std::vector<std::string>& dirs) {
  command
      .add_option("--plugins", dirs,
                  "plugin directory (repeatable); searched before SLUICE_PLUGIN_PATH and the "
                  "bundled plugins")
      // One directory per --plugins, so that a positional after it stays a positional.
      ->allow_extra_args(false)
      ->check(CLI::ExistingDirectory);
  command.add_flag("--no-bundled-plugins", without_bundled_plugins,
                   "search only --plugins and SLUICE_PLUGIN_PATH (e.g. a node that must not offer "
                   "every bundled component)");
}

fs::path bundled_plugin_dir() {
  if (const auto tree = build_tree()) return tree->build / "plugins";
  return PluginRegistry::installed_dir();
}

std::vector<fs::path> plugin_search_path(const std::vector<std::string>& dirs) {
  return PluginRegistry::search_path(dirs, without_bundled_plugins ? fs::path() : bundled_plugin_dir());
}

void warn_if_no_components(const PluginRegistry& registry, std::string_view command) {
  if (!registry.names().empty()) return;
  std::cerr << "sluice " << command << ": warning: no components found in";
  for (const auto& dir : registry.directories()) std::cerr << ' ' << dir.string();
  std::cerr << "; pass --plugins DIR or set SLUICE_PLUGIN_PATH to a directory of plugin .so files "
               "(the bundled ones are built into <build>/plugins and installed by `meson install`)\n";
}

std::string bundled_editor_dir() {
  const auto tree = build_tree();
  const fs::path dir = tree ? tree->source / "tools" / "editor" / "dist" : fs::path(SLUICE_INSTALLED_EDITOR_DIR);
  std::error_code ec;
  return fs::is_regular_file(dir / "index.html", ec) ? dir.string() : std::string();
}

http::Url server_url(const std::string& text) {
  return http::Url::parse(text.find("://") == std::string::npos ? "http://" + text : text);
}

void set_exit_code(int code) { process_exit_code = code; }
int exit_code() { return process_exit_code; }

}  // namespace sluice::cli
