#include "cli/component_template.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <sluice/component.hpp>
#include <sluice/json.hpp>

#include "support/files.hpp"

namespace sluice::cli {

namespace {

namespace fs = std::filesystem;

// ---- substitution --------------------------------------------------------------------------

// A problem in a template text, at a 1-based line and column (in characters).
class TemplateError : public std::runtime_error {
 public:
  TemplateError(std::string_view where, std::size_t line, std::size_t column,
                const std::string& message)
      : std::runtime_error(std::string(where) + ":" + std::to_string(line) + ":" +
                           std::to_string(column) + ": " + message) {}
};

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The tag at the start of `text` as a message shows it: up to its closing delimiter when that
// is near and on the same line, else the beginning of the line from it.
std::string quoted_tag(std::string_view text) {
  const std::string_view close = text[1] == '{' ? "}}" : text[1] == '%' ? "%}" : "#}";
  std::string_view tag = text.substr(0, text.find('\n'));
  if (const std::size_t end = tag.find(close, 2); end != std::string_view::npos)
    tag = tag.substr(0, end + close.size());
  if (tag.size() > 60) return "'" + std::string(tag.substr(0, 57)) + "…'";
  return "'" + std::string(tag) + "'";
}

// Replaces each {{cookiecutter.VAR}} of `text` with VAR's value. cookiecutter reads any other
// `{{`, `{%` or `{#` as Jinja, which is not rendered here, so a template could not mean the
// same to both: an error at `where`:line:column.
std::string substitute(std::string_view text, const TemplateValues& values, std::string_view where) {
  constexpr std::string_view variable_open = "{{cookiecutter.";
  std::string out;
  out.reserve(text.size());
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < text.size();) {
    const bool tag = text[i] == '{' && i + 1 < text.size() &&
                     (text[i + 1] == '{' || text[i + 1] == '%' || text[i + 1] == '#');
    if (!tag) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {  // not a UTF-8 continuation
        ++column;
      }
      out += text[i++];
      continue;
    }
    const std::size_t name_start = i + variable_open.size();
    std::size_t name_end = name_start;
    if (text.substr(i, variable_open.size()) == variable_open)
      while (name_end < text.size() && word_char(text[name_end])) ++name_end;
    if (name_end == name_start || text.substr(name_end, 2) != "}}")
      throw TemplateError(where, line, column,
                          "unsupported template syntax " + quoted_tag(text.substr(i)) +
                              ": sluice new substitutes only {{cookiecutter.VAR}}, without "
                              "spaces, filters or tags");
    const std::string_view name = text.substr(name_start, name_end - name_start);
    const auto found = values.find(name);
    if (found == values.end()) {
      std::vector<std::string> names;
      for (const auto& [defined, value] : values) names.push_back(defined);
      const std::string hint = closest_match(name, names);
      throw TemplateError(where, line, column + variable_open.size(),
                          "'cookiecutter." + std::string(name) + "' is undefined here" +
                              (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                              "; only the variables of cookiecutter.json are, and in "
                              "cookiecutter.json only those before it");
    }
    out += found->second;
    column += name_end + 2 - i;
    i = name_end + 2;
  }
  return out;
}

// ---- computed defaults ---------------------------------------------------------------------

// The value of `name`, which the default of `of` is computed from.
const std::string& value_before(const TemplateValues& values, std::string_view name,
                                std::string_view of) {
  const auto found = values.find(name);
  if (found == values.end())
    throw std::runtime_error("cookiecutter.json: the default of '" + std::string(of) +
                             "' is computed from '" + std::string(name) +
                             "', which must come before it");
  return found->second;
}

// {{ cookiecutter.name|replace('_', ' ')|title|replace(' ', '') }}: word_count → WordCount. For
// the names the rules let through (lowercase letters, digits and '_') that is each '_'-separated
// word with its first letter upper case.
std::string class_name_of(std::string_view name) {
  std::string class_name;
  bool word_start = true;
  for (const char c : name) {
    if (c == '_') {
      word_start = true;
      continue;
    }
    class_name += word_start ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    word_start = false;
  }
  return class_name;
}

// The summary of each kind's example (kinds/<kind>/), as cookiecutter.json's `summary` picks it.
constexpr std::array<std::pair<std::string_view, std::string_view>, 7> example_summaries = {{
    {"transformer", "Counts the words in a text field"},
    {"filter", "Passes the packets whose field equals one of the given values"},
    {"adapter", "Splits a text body into one packet per line"},
    {"extractor", "Puts the distinct hashtags of a text field into a list"},
    {"publisher", "Appends each packet to a file as one JSON line"},
    {"operator", "Pairs packets from left and right that share a key"},
    {"source", "Sends numbered packets on an interval, resuming after a restart where it was acked"},
}};

std::string example_summary(std::string_view kind) {
  for (const auto& [example_kind, summary] : example_summaries)
    if (example_kind == kind) return std::string(summary);
  throw std::runtime_error("sluice new has no default summary for the kind '" + std::string(kind) +
                           "' (kernel/cli/component_template.cpp has one per kind of "
                           "cookiecutter.json)");
}

// The defaults that cookiecutter.json gives as Jinja expressions, for cookiecutter to evaluate;
// tests/template (template-cookiecutter) checks that both compute the same.
using ComputeDefault = std::string (*)(const TemplateValues&);
constexpr std::array<std::pair<std::string_view, ComputeDefault>, 2> computed_defaults = {{
    {"class_name",
     [](const TemplateValues& values) { return class_name_of(value_before(values, "name", "class_name")); }},
    {"summary",
     [](const TemplateValues& values) { return example_summary(value_before(values, "kind", "summary")); }},
}};

// ---- loading -------------------------------------------------------------------------------

Value read_json(const fs::path& path) {
  try {
    return json::parse(read_file(path));
  } catch (const json::ParseError& e) {
    throw std::runtime_error(path.string() + ":" + std::to_string(e.line()) + ":" +
                             std::to_string(e.column()) + ": " + e.reason());
  }
}

std::string string_or_throw(const Value& value, const std::string& what) {
  if (!value.is_string()) throw std::runtime_error(what + " must be a string");
  return value.as_string();
}

// "files_by_choice": {"variable": "kind", "folder": "kinds"}, checked against the variables and
// the project: a folder for each choice and nothing else there.
FilesByChoice load_files_by_choice(const Value& entry, const ProjectTemplate& tmpl,
                                   const fs::path& metadata_path) {
  const std::string what = metadata_path.string() + ": \"files_by_choice\"";
  const Value* variable = entry.get("variable");
  const Value* folder = entry.get("folder");
  if (!variable || !folder)
    throw std::runtime_error(what + " needs \"variable\" and \"folder\"");
  FilesByChoice files{string_or_throw(*variable, what + " \"variable\""),
                      string_or_throw(*folder, what + " \"folder\"")};
  const auto by = std::find_if(tmpl.variables.begin(), tmpl.variables.end(),
                               [&](const TemplateVariable& v) { return v.name == files.variable; });
  if (by == tmpl.variables.end() || by->choices.empty())
    throw std::runtime_error(what + ": '" + files.variable +
                             "' is not a choice variable of cookiecutter.json");
  const fs::path dir = tmpl.project_dir / files.folder;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error(what + ": " + dir.string() + " is no folder");
  for (const auto& choice : by->choices)
    if (!fs::is_directory(dir / choice, ec))
      throw std::runtime_error(dir.string() + " has no folder for the " + files.variable + " '" +
                               choice + "'");
  for (const auto& entry_in_dir : fs::directory_iterator(dir)) {
    const std::string name = entry_in_dir.path().filename().string();
    if (std::find(by->choices.begin(), by->choices.end(), name) == by->choices.end())
      throw std::runtime_error(entry_in_dir.path().string() + ": not a " + files.variable +
                               " of cookiecutter.json, so never rendered");
  }
  return files;
}

// The first two parts of `relative` when it lies in files_by_choice's folder: the choice and
// the path inside that choice's folder.
std::optional<std::pair<std::string, fs::path>> in_choice_folder(const fs::path& relative,
                                                                 const FilesByChoice& files) {
  auto part = relative.begin();
  for (const auto& folder_part : files.folder)
    if (part == relative.end() || *part++ != folder_part) return std::nullopt;
  if (part == relative.end()) return std::nullopt;
  const std::string choice = (part++)->string();
  fs::path inside;
  for (; part != relative.end(); ++part) inside /= *part;
  return std::pair{choice, inside};
}

}  // namespace

ProjectTemplate load_template(const fs::path& root) {
  ProjectTemplate tmpl{root, {}, {}, {}, {}};
  const fs::path manifest = root / "cookiecutter.json";
  const Value variables = read_json(manifest);
  if (!variables.is_object()) throw std::runtime_error(manifest.string() + " is not a JSON object");
  const fs::path metadata_path = root / "sluice-template.json";
  const Value metadata = read_json(metadata_path);
  const Value* described = metadata.get("variables");
  if (!described || !described->is_object())
    throw std::runtime_error(metadata_path.string() + " has no \"variables\" object");
  if (const Value* description = metadata.get("description"))
    tmpl.description = description->to_display_string();

  for (const auto& [name, value] : variables.as_object()) {
    // cookiecutter's private variables (_copy_without_render, _extensions) change how it
    // renders; a template for both renderers must not depend on them.
    if (name.starts_with('_'))
      throw std::runtime_error(manifest.string() + ": private variable '" + name +
                               "' is not supported by sluice new");
    TemplateVariable variable{name, {}, {}, {}, {}};
    const std::string what = manifest.string() + ": '" + name + "'";
    if (value.is_array()) {
      for (const Value& choice : value.as_array())
        variable.choices.push_back(string_or_throw(choice, what + " choices"));
      if (variable.choices.empty()) throw std::runtime_error(what + " has no choices");
    } else {
      variable.raw_default = string_or_throw(value, what + " (a string or a list of choices)");
    }
    if (const Value* entry = described->get(name)) {
      if (const Value* d = entry->get("description")) variable.description = d->to_display_string();
      if (const Value* rules = entry->get("rules"))
        for (const Value& rule : rules->is_array() ? rules->as_array() : Array{*rules})
          variable.rules.push_back(string_or_throw(rule, metadata_path.string() + ": rules of '" + name + "'"));
    }
    tmpl.variables.push_back(std::move(variable));
  }
  for (const auto& [name, entry] : described->as_object()) {
    const bool known = std::any_of(tmpl.variables.begin(), tmpl.variables.end(),
                                   [&](const TemplateVariable& v) { return v.name == name; });
    if (!known)
      throw std::runtime_error(metadata_path.string() + " describes '" + name +
                               "', which cookiecutter.json does not have");
  }

  // As cookiecutter: the project is the folder whose name is a {{cookiecutter.…}} expression.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.find("cookiecutter") != std::string::npos &&
        name.find("{{") != std::string::npos && name.find("}}") != std::string::npos)
      tmpl.project_dir = entry.path();
  }
  if (ec) throw std::runtime_error("cannot list " + root.string() + ": " + ec.message());
  if (tmpl.project_dir.empty())
    throw std::runtime_error(root.string() + " has no '{{cookiecutter.…}}' project folder");
  if (const Value* files_by_choice = metadata.get("files_by_choice"))
    tmpl.files_by_choice = load_files_by_choice(*files_by_choice, tmpl, metadata_path);
  return tmpl;
}

std::string default_value(const ProjectTemplate& tmpl, const TemplateVariable& variable,
                          const TemplateValues& values_before) {
  for (const auto& [name, compute] : computed_defaults)
    if (name == variable.name) return compute(values_before);
  return substitute(variable.raw_default, values_before,
                    (tmpl.root / "cookiecutter.json").string() + " '" + variable.name + "'");
}

RenderedProject render_project(const ProjectTemplate& tmpl, const TemplateValues& values) {
  RenderedProject project;
  project.name = substitute(tmpl.project_dir.filename().string(), values, tmpl.project_dir.string());
  std::vector<fs::path> sources;
  for (const auto& entry : fs::recursive_directory_iterator(tmpl.project_dir))
    if (entry.is_regular_file()) sources.push_back(entry.path());
  std::sort(sources.begin(), sources.end());

  std::vector<RenderedFile> common, chosen;
  for (const fs::path& source : sources) {
    fs::path relative = fs::relative(source, tmpl.project_dir);
    std::vector<RenderedFile>* into = &common;
    if (tmpl.files_by_choice) {
      if (auto choice = in_choice_folder(relative, *tmpl.files_by_choice)) {
        into = choice->first == values.at(tmpl.files_by_choice->variable) ? &chosen : nullptr;
        relative = choice->second;
      }
    }
    fs::path rendered_path;
    for (const auto& part : relative) rendered_path /= substitute(part.string(), values, source.string());
    std::string content = read_file(source);
    // Like cookiecutter, binary files (here: any with a NUL byte) are copied as they are.
    if (content.find('\0') == std::string::npos) content = substitute(content, values, source.string());
    if (into)
      into->push_back({std::move(rendered_path), std::move(content), fs::status(source).permissions()});
  }
  // The chosen files replace the common ones of the same path.
  for (RenderedFile& file : common) {
    const bool replaced = std::any_of(chosen.begin(), chosen.end(), [&](const RenderedFile& c) {
      return c.relative_path == file.relative_path;
    });
    if (!replaced) project.files.push_back(std::move(file));
  }
  for (RenderedFile& file : chosen) project.files.push_back(std::move(file));
  return project;
}

}  // namespace sluice::cli
