// `sluice new component NAME [--kind K] [--dir D] [--set VAR=VALUE]...`: writes a new
// component project from templates/component: finds the templates, gets the variables' values
// (template_values.hpp), renders the project (component_template.hpp) and writes it at once.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <sluice/json.hpp>

#include "cli/commands.hpp"
#include "cli/component_template.hpp"
#include "cli/template_rules.hpp"
#include "cli/template_values.hpp"
#include "support/files.hpp"

namespace sluice::cli {

namespace {

namespace fs = std::filesystem;

struct NewOptions {
  GivenValues given;
  std::string dir = ".";
  std::vector<std::string> plugin_dirs;
  std::string templates;
};

// A meson build tree that holds `path`, found by its meson-info/meson-info.json.
std::optional<fs::path> enclosing_build_dir(fs::path path) {
  std::error_code ec;
  for (; !path.empty() && path != path.root_path(); path = path.parent_path())
    if (fs::exists(path / "meson-info" / "meson-info.json", ec)) return path;
  return std::nullopt;
}

fs::path own_executable() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe;
}

// The directory holding the templates: --templates, $SLUICE_TEMPLATE_DIR, the installed
// <prefix>/share/sluice/templates beside <prefix>/bin/sluice, or, for a sluice in a build
// tree, the source tree's templates/.
fs::path find_templates(const NewOptions& options) {
  if (!options.templates.empty()) return options.templates;
  if (const char* env = std::getenv("SLUICE_TEMPLATE_DIR"); env && *env) return env;
  std::vector<fs::path> tried;
  const fs::path exe = own_executable();
  std::error_code ec;
  if (!exe.empty()) {
    tried.push_back(exe.parent_path().parent_path() / "share" / "sluice" / "templates");
    if (auto build = enclosing_build_dir(exe.parent_path())) {
      const Value info = json::parse(read_file(*build / "meson-info" / "meson-info.json"));
      if (const Value* source = info.find_path("directories.source"); source && source->is_string())
        tried.push_back(fs::path(source->as_string()) / "templates");
    }
  }
  for (const auto& candidate : tried)
    if (fs::is_directory(candidate, ec)) return candidate;
  std::string list;
  for (const auto& candidate : tried) list += "\n  " + candidate.string();
  throw std::runtime_error("no templates directory found; looked in:" + list +
                           "\npass --templates DIR or set SLUICE_TEMPLATE_DIR");
}

// Writes the files into a hidden sibling, then renames it into place: a failure leaves no
// half-written project, and the rename itself refuses to replace anything that appeared.
void write_project(const fs::path& target, const std::vector<RenderedFile>& files) {
  const fs::path staging =
      target.parent_path() / ("." + target.filename().string() + ".new-" + std::to_string(::getpid()));
  try {
    fs::create_directories(staging);
    for (const auto& file : files) {
      const fs::path path = staging / file.relative_path;
      fs::create_directories(path.parent_path());
      std::ofstream out(path, std::ios::binary);
      out << file.content;
      out.close();
      if (!out) throw std::runtime_error("cannot write " + path.string());
      fs::permissions(path, file.permissions);
    }
    if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) != 0)
      throw std::system_error(errno, std::generic_category(), "cannot create " + target.string());
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    throw;
  }
}

// Shell-quotes a path when it needs it.
std::string shell_word(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789_-./=:+@%") == std::string::npos)
    return text;
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

void print_next_steps(const fs::path& target, const TemplateValues& values, std::size_t file_count) {
  const std::string& name = values.at("name");
  std::cout << "created " << target.string() << "/: " << values.at("kind") << " '" << name
            << "' (" << file_count << " files)\n\nnext:\n";
  // A sluice run from its build tree has an SDK there that pkg-config does not know about.
  std::string pkg_config_path;
  const fs::path exe = own_executable();
  if (auto build = exe.empty() ? std::nullopt : enclosing_build_dir(exe.parent_path())) {
    std::error_code ec;
    if (fs::exists(*build / "meson-uninstalled" / "sluice-sdk-uninstalled.pc", ec))
      pkg_config_path = "PKG_CONFIG_PATH=" + shell_word((*build / "meson-uninstalled").string()) + " ";
  }
  // How the sample graph runs depends on the kind (over a file, a raw body, in a server): the
  // project's README says it, so the generator does not repeat the template's knowledge.
  std::cout << "  cd " << shell_word(target.string()) << '\n'
            << "  " << pkg_config_path << "meson setup build\n"
            << "  meson test -C build            # builds build/lib" << name
            << ".so and runs its tests\n"
            << "  then README.md, \"Run it\": the sample graph over the sample data\n"
            << "  cp build/lib" << name
            << ".so PLUGINS_DIR/    # a running `sluice serve --plugins PLUGINS_DIR` picks it up\n";
}

void run_new_component(const NewOptions& options) {
  try {
    const ProjectTemplate tmpl = load_template(find_templates(options) / "component");
    TakenNames taken(options.plugin_dirs);
    const bool interactive = ::isatty(STDIN_FILENO) != 0;
    const auto values = resolve_values(tmpl, options.given, taken, interactive);
    if (!values) {
      set_exit_code(1);
      return;
    }
    const RenderedProject project = render_project(tmpl, *values);
    const fs::path target = (fs::path(options.dir) / project.name).lexically_normal();
    std::error_code ec;
    if (fs::exists(fs::symlink_status(target, ec))) {
      std::cerr << "sluice new: " << target.string()
                << " already exists; nothing was written (choose another name or --dir)\n";
      set_exit_code(1);
      return;
    }
    write_project(target, project.files);
    print_next_steps(target, *values, project.files.size());
    set_exit_code(0);
  } catch (const std::exception& e) {
    std::cerr << "sluice new: " << e.what() << '\n';
    set_exit_code(1);
  }
}

}  // namespace

void add_new_command(CLI::App& app) {
  auto options = std::make_shared<NewOptions>();
  CLI::App* command = app.add_subcommand("new", "generate a project from a template");
  command->require_subcommand(1);
  CLI::App* component = command->add_subcommand(
      "component", "write a buildable, tested component project (templates/component)");
  component->add_option("name", options->given.name,
                        "component name: lowercase letters, digits and '_', e.g. word_count "
                        "(asked for on a terminal when left out)");
  component->add_option("--kind", options->given.kind,
                        "the example to start from, one of the template's kinds: transformer "
                        "(default), filter, adapter, extractor, publisher, operator, source");
  component->add_option("--dir", options->dir, "where to create the project directory")
      ->capture_default_str();
  component->add_option("--set", options->given.sets, "set a template variable (repeatable): VAR=VALUE")
      ->allow_extra_args(false);
  component->add_option("--templates", options->templates,
                        "templates directory (default: $SLUICE_TEMPLATE_DIR, the installed one, "
                        "or the source tree's)");
  add_plugin_dirs_option(*component, options->plugin_dirs);
  component->callback([options] { run_new_component(*options); });
}

}  // namespace sluice::cli
