// A project template as `sluice new` reads and renders it. A template is a cookiecutter template,
// so that `cookiecutter` renders the same files: a cookiecutter.json with the variables in
// order (a string is a default, a list a choice whose first item is the default) and one folder
// named `{{cookiecutter.VAR}}` holding the project. Beside them, sluice-template.json (which
// cookiecutter ignores) describes each variable, gives its validation rules and may name the
// folder that holds one folder of files per choice of a variable ("files_by_choice").
//
// sluice new does no Jinja: file names and contents may only use {{cookiecutter.VAR}}, which it
// substitutes; any other `{{`, `{%` or `{#` is an error naming file:line:column. Where
// cookiecutter.json computes a default with a Jinja expression, sluice new computes the same
// value in C++ (default_value()).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::cli {

// The values of a template's variables, by name.
using TemplateValues = std::map<std::string, std::string, std::less<>>;

// One variable of cookiecutter.json with its entry in sluice-template.json.
struct TemplateVariable {
  std::string name;
  std::string raw_default;           // a string variable's default, as cookiecutter.json has it
  std::vector<std::string> choices;  // a choice variable's items, the default first
  std::string description;
  std::vector<std::string> rules;
};

// sluice-template.json's "files_by_choice": the project folder `folder` holds one folder per
// choice of `variable`; the chosen one's files are laid over the project (each replacing the
// common file of the same path, if any) and the others' are left out. The template's
// hooks/post_gen_project.py does the same for cookiecutter.
struct FilesByChoice {
  std::string variable;
  std::filesystem::path folder;  // relative to the project folder
};

struct ProjectTemplate {
  std::filesystem::path root;         // the template folder (holds cookiecutter.json)
  std::filesystem::path project_dir;  // root/{{cookiecutter.…}}: the project to render
  std::string description;            // what it makes, shown before asking questions
  std::vector<TemplateVariable> variables;  // in cookiecutter.json order
  std::optional<FilesByChoice> files_by_choice;
};

// Reads and checks the template in `root`. Throws std::runtime_error naming the file and what
// is wrong with it.
ProjectTemplate load_template(const std::filesystem::path& root);

// The default of a string variable from the values of the variables before it: computed in C++
// where cookiecutter.json gives a Jinja expression (class_name, summary), else its default with
// {{cookiecutter.VAR}} substituted.
std::string default_value(const ProjectTemplate& tmpl, const TemplateVariable& variable,
                          const TemplateValues& values_before);

struct RenderedFile {
  std::filesystem::path relative_path;  // in the project
  std::string content;
  std::filesystem::perms permissions;
};

struct RenderedProject {
  std::filesystem::path name;  // the project folder's rendered name
  std::vector<RenderedFile> files;
};

// Renders the project in memory, so that nothing is written unless every file rendered. Every
// choice's files render, so that a template error shows whichever is chosen.
RenderedProject render_project(const ProjectTemplate& tmpl, const TemplateValues& values);

}  // namespace sluice::cli
