// `sluice plugins [--json] [--plugins DIR]...`: what the plugin registry finds in the search
// path — packages, their components, and every rejected file with its reason.
// `sluice plugins describe NAME`: one component in full (the gst-inspect of sluice).
// `sluice plugins --markdown`: the catalogue of every component, as docs/components.md.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <sluice/component.hpp>
#include <sluice/json.hpp>

#include "cli/commands.hpp"
#include "registry/crash_quarantine.hpp"
#include "registry/plugin_package.hpp"
#include "registry/plugin_registry.hpp"

namespace sluice::cli {

namespace {

struct PluginsOptions {
  std::vector<std::string> dirs;
  bool json = false;
  bool markdown = false;
  std::string component;  // for `describe`
  std::string file;       // for `release` and `probe`
  std::string image;      // for `probe`
  long timeout_ms = 10000;
};

std::string format_number(double d) {
  if (std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
  std::ostringstream out;
  out << d;
  return out.str();
}

// "integer, default 1, 1..100" / "string, required, one of "a", "b""
std::string param_facts(const ParamSpec& param) {
  std::string facts = to_string(param.type);
  if (param.required) facts += ", required";
  if (!param.default_value.is_null()) facts += ", default " + json::to_string(param.default_value);
  if (param.minimum || param.maximum)
    facts += ", " + (param.minimum ? format_number(*param.minimum) : std::string()) + ".." +
             (param.maximum ? format_number(*param.maximum) : std::string());
  if (!param.allowed.empty()) {
    facts += ", one of ";
    for (std::size_t i = 0; i < param.allowed.size(); ++i)
      facts += (i ? ", " : "") + json::to_string(param.allowed[i]);
  }
  if (param.file_path) facts += ", file path";
  for (const auto& key : param.file_keys) facts += ", " + key + ": file path";
  if (param.secret) facts += ", secret";
  return facts;
}

// "fs_write, net", or "none".
std::string capability_names(const ComponentDescriptor& d) {
  std::string names;
  for (const auto& capability : d.capabilities) names += (names.empty() ? "" : ", ") + capability;
  return names.empty() ? "none" : names;
}

std::string port_names(const std::vector<PortSpec>& ports) {
  if (ports.empty()) return "-";
  std::string names;
  for (const auto& port : ports) names += (names.empty() ? "" : ", ") + port.name;
  return names;
}

void print_summary(std::ostream& out, const ComponentDescriptor& d) {
  out << "  " << d.name << " (" << to_string(d.kind) << ' ' << d.version << ") — " << d.summary
      << '\n';
  out << "      ports: " << port_names(d.inputs) << " -> " << port_names(d.outputs) << '\n';
  if (!d.capabilities.empty()) out << "      capabilities: " << capability_names(d) << '\n';
  for (const auto& param : d.params)
    out << "      " << param.name << " (" << param_facts(param) << "): " << param.description
        << '\n';
}

void print_listing(std::ostream& out, const PluginRegistry& registry) {
  out << "Plugin directories (in search order):\n";
  for (const auto& dir : registry.directories()) {
    std::error_code ec;
    out << "  " << dir.string() << (std::filesystem::is_directory(dir, ec) ? "" : " (missing)")
        << '\n';
  }
  std::size_t component_count = 0;
  const auto packages = registry.packages();
  for (const auto& package : packages) {
    out << '\n' << package.name << ' ' << package.version << " — " << package.description << '\n';
    out << "  " << package.path.string() << '\n';
    for (const auto& name : package.components)
      if (auto descriptor = registry.find(package.name + "/" + name)) {
        print_summary(out, *descriptor);
        ++component_count;
      }
  }
  const auto rejected = registry.rejected();
  if (!rejected.empty()) {
    out << "\nRejected:\n";
    for (const auto& rejection : rejected)
      out << "  " << rejection.path.string() << "\n      " << rejection.reason << '\n';
  }
  const auto clashes = registry.clashes();
  if (!clashes.empty()) {
    out << "\nClashes:\n";
    for (const auto& clash : clashes) out << "  " << clash.explanation() << '\n';
  }
  out << '\n'
      << packages.size() << " package(s), " << component_count << " component(s), "
      << rejected.size() << " rejected file(s). "
      << "`sluice plugins describe NAME` shows one component in full.\n";
}

// Each line of `text` after `indent`, with no trailing newline left over.
std::string indented(std::string_view text, std::string_view indent) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) out.append(indent).append(text.substr(start, end - start));
    out += '\n';
    start = end + 1;
  }
  return out;
}

// The example as a node of a graph file, the way a user would paste it.
std::string example_node(const ComponentDescriptor& d) {
  // A name YAML reads as something else than a string is quoted (null: the `null` component).
  static const std::set<std::string_view> not_strings = {"null", "true", "false", "yes", "no", "on", "off", "~"};
  const std::string component = not_strings.contains(d.name) ? "'" + d.name + "'" : d.name;
  if (d.example.params.empty()) return "example: { component: " + component + " }\n";
  return "example:\n  component: " + component + "\n  params:\n" + indented(d.example.params, "    ");
}

void print_ports(std::ostream& out, const char* title, const std::vector<PortSpec>& ports) {
  out << "  " << title << ":\n";
  if (ports.empty()) out << "    (none)\n";
  for (const auto& port : ports) out << "    " << port.name << " — " << port.description << '\n';
}

void print_description(std::ostream& out, const ComponentDescriptor& d,
                       const PluginPackageInfo* package) {
  out << d.name << " — " << d.summary << '\n';
  out << "  kind:     " << to_string(d.kind) << '\n';
  out << "  version:  " << d.version << '\n';
  if (package)
    out << "  package:  " << package->name << ' ' << package->version << " ("
        << package->path.string() << ")\n";
  out << "  blocking: "
      << (d.blocking ? "yes (process() runs on the I/O pool)" : "no") << '\n';
  out << "  capabilities: " << capability_names(d) << '\n';
  print_ports(out, "inputs", d.inputs);
  print_ports(out, "outputs", d.outputs);
  out << "    " << error_port << " — packets that failed (implicit on every node)\n";
  out << "  params:\n";
  if (d.params.empty()) out << "    (none)\n";
  for (const auto& param : d.params)
    out << "    " << param.name << " (" << param_facts(param) << ")\n        "
        << param.description << '\n';
  if (!has_example(d)) return;
  const auto& e = d.example;
  out << "  example: " << e.description << '\n' << indented(example_node(d), "    ");
  if (!e.input.empty())
    out << "    in" << (e.content_type.empty() ? "" : " (" + e.content_type + ")") << ":\n"
        << indented(e.input, "      ");
  if (!e.output.empty()) out << "    out:\n" << indented(e.output, "      ");
}

// A table cell: `|` would end it, a newline the row.
std::string cell(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

void print_example_markdown(std::ostream& out, const ComponentDescriptor& d) {
  const auto& e = d.example;
  // The docs test leaves it to tests/cli, which gives it the directories and variables it names.
  out << "\nExample: " << e.description
      << "\n\n<!-- doc-test: skip: tests/cli/component_examples_test.py checks and runs it -->\n```yaml\n"
      << example_node(d) << "```\n";
  if (!e.input.empty())
    out << "\nIn" << (e.content_type.empty() ? "" : " (`" + e.content_type + "`)") << ":\n\n```"
        << (e.content_type.empty() ? "json" : "") << '\n' << indented(e.input, "") << "```\n";
  if (!e.output.empty()) out << "\nOut:\n\n```json\n" << indented(e.output, "") << "```\n";
}

// Only what the descriptors say, in package order, and no paths: the same text on every
// machine, so docs/components.md can be checked against it.
void print_markdown(std::ostream& out, const PluginRegistry& registry) {
  const auto packages = registry.packages();
  std::size_t component_count = 0;
  for (const auto& package : packages) component_count += package.components.size();
  out << "# Components\n\n"
      << "<!-- Generated by `sluice plugins --markdown` from the components' descriptors: edit those, "
         "not this file (tests/cli checks that it is current). -->\n\n"
      << component_count << " components in " << packages.size()
      << " packages. `sluice plugins describe NAME` shows one of them in a terminal; "
         "`GET /v1/components` serves the same facts as JSON. Every example is true: tests/cli "
         "checks each one with `sluice check` and, where it shows what comes out, runs its input "
         "through `sluice run` (`--content-type` for a raw input) and compares.\n";
  for (const auto& package : packages) {
    out << "\n## " << package.name << ' ' << package.version << "\n\n" << package.description << "\n";
    for (const auto& name : package.components) {
      const auto d = registry.find(name);
      if (!d) continue;
      out << "\n### `" << d->name << "` (" << to_string(d->kind) << ")\n\n" << d->summary << "\n\n";
      out << "- inputs: " << port_names(d->inputs) << "; outputs: " << port_names(d->outputs) << ", "
          << error_port << "\n";
      if (d->blocking) out << "- blocking: process() runs on the I/O pool\n";
      if (d->params.empty()) {
        out << "- params: none\n";
      } else {
        out << "\n| param | facts | description |\n|---|---|---|\n";
        for (const auto& param : d->params)
          out << "| `" << param.name << "` | " << cell(param_facts(param)) << " | " << cell(param.description) << " |\n";
      }
      if (has_example(*d)) print_example_markdown(out, *d);
    }
  }
}

void run_list(const PluginsOptions& options) {
  const PluginRegistry registry(plugin_search_path(options.dirs));
  warn_if_no_components(registry, "plugins");
  if (options.json) {
    Value document = registry.plugins_json();
    document["components"] = registry.components_json();
    std::cout << json::to_pretty_string(document) << '\n';
  } else if (options.markdown) {
    print_markdown(std::cout, registry);
  } else {
    print_listing(std::cout, registry);
  }
  set_exit_code(0);
}

void run_describe(const PluginsOptions& options) {
  const PluginRegistry registry(plugin_search_path(options.dirs));
  warn_if_no_components(registry, "plugins describe");
  const auto descriptor = registry.find(options.component);
  if (!descriptor) {
    std::cerr << "sluice plugins describe: unknown component '" << options.component << "'";
    const auto names = registry.names();
    if (auto hint = closest_match(options.component, names); !hint.empty())
      std::cerr << " (did you mean '" << hint << "'?)";
    std::cerr << "; `sluice plugins` lists the " << names.size() << " component(s) found\n";
    set_exit_code(1);
    return;
  }
  const auto packages = registry.packages();
  const PluginPackageInfo* owner = nullptr;
  for (const auto& package : packages)
    for (const auto& name : package.components)
      if (registry.find(package.name + "/" + name) == descriptor) owner = &package;
  if (options.json) {
    Value document = descriptor_to_json(*descriptor);
    if (owner) document["package"] = owner->name;
    std::cout << json::to_pretty_string(document) << '\n';
  } else {
    print_description(std::cout, *descriptor, owner);
  }
  set_exit_code(0);
}

void run_release(const PluginsOptions& options) {
  try {
    if (!crash_quarantine::release(PluginImageCache::default_dir(), options.file)) {
      std::cerr << "sluice plugins release: " << options.file << " is not quarantined\n";
      set_exit_code(1);
      return;
    }
  } catch (const std::exception& e) {
    std::cerr << "sluice plugins release: " << e.what() << '\n';
    set_exit_code(1);
    return;
  }
  std::cout << "released " << options.file << ": it is loaded again (a running server does so now)\n";
  set_exit_code(0);
}

}  // namespace

void add_plugins_command(CLI::App& app) {
  auto options = std::make_shared<PluginsOptions>();
  CLI::App* plugins = app.add_subcommand(
      "plugins", "list plugin packages, their components, and rejected files with reasons");
  add_plugin_dirs_option(*plugins, options->dirs);
  plugins->add_flag("--json", options->json,
                    "print JSON: the GET /v1/plugins document plus \"components\" "
                    "(the GET /v1/components document)");
  plugins->add_flag("--markdown", options->markdown,
                    "print the catalogue of every component as Markdown (docs/components.md)")
      ->excludes("--json");
  CLI::App* describe = plugins->add_subcommand("describe", "show one component in full");
  describe->add_option("name", options->component, "component name")->required();
  // `sluice plugins describe NAME --plugins DIR --json` reads the options of `plugins`.
  describe->fallthrough();
  CLI::App* release = plugins->add_subcommand(
      "release", "let a plugin file that crashed the server (quarantined) be loaded again");
  release->add_option("file", options->file, "the plugin file")->required();
  // The kernel's probe child (PluginProbe), not for people: hidden from the help.
  CLI::App* probe = plugins->add_subcommand("probe", "load one plugin file in a process of its own and report");
  probe->group("");
  probe->add_option("--image", options->image, "the private copy to load")->required();
  probe->add_option("--timeout-ms", options->timeout_ms, "give up loading after this long");
  probe->add_option("file", options->file, "the plugin file, for messages")->required();
  plugins->final_callback([options, describe, release, probe] {
    if (describe->parsed())
      run_describe(*options);
    else if (release->parsed())
      run_release(*options);
    else if (probe->parsed())
      set_exit_code(run_plugin_probe(options->file, options->image, std::chrono::milliseconds(options->timeout_ms)));
    else
      run_list(*options);
  });
}

}  // namespace sluice::cli
