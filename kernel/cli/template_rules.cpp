#include "cli/template_rules.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <iostream>
#include <set>
#include <stdexcept>
#include <string_view>

#include "cli/commands.hpp"

namespace sluice::cli {

namespace {

constexpr std::array cpp_keywords = {
    "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break",
    "case", "catch", "char", "char8_t", "char16_t", "char32_t", "class", "compl", "concept",
    "const", "consteval", "constexpr", "constinit", "const_cast", "continue", "co_await",
    "co_return", "co_yield", "decltype", "default", "delete", "do", "double", "dynamic_cast",
    "else", "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto",
    "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
    "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register",
    "reinterpret_cast", "requires", "return", "short", "signed", "sizeof", "static",
    "static_assert", "static_cast", "struct", "switch", "template", "this", "thread_local",
    "throw", "true", "try", "typedef", "typeid", "typename", "union", "unsigned", "using",
    "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq"};

// Common checks of a C++ identifier; "" when fine.
std::string identifier_problem(std::string_view value) {
  if (std::find(cpp_keywords.begin(), cpp_keywords.end(), value) != cpp_keywords.end())
    return "'" + std::string(value) + "' is a C++ keyword";
  if (value.find("__") != std::string_view::npos)
    return "'__' is reserved in C++ identifiers";
  if (value.size() > 64) return "at most 64 characters";
  return "";
}

std::string lowercase_identifier_problem(std::string_view value) {
  if (value.empty()) return "must not be empty";
  if (!std::islower(static_cast<unsigned char>(value[0])))
    return "must start with a lowercase letter (a-z), e.g. word_count";
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (!std::islower(static_cast<unsigned char>(c)) && !std::isdigit(static_cast<unsigned char>(c)) && c != '_')
      return "'" + std::string(1, c) + "' at position " + std::to_string(i + 1) +
             " is not allowed: use lowercase letters, digits and '_' (a C identifier, e.g. word_count)";
  }
  // The name is also the component's C++ namespace.
  static const std::set<std::string, std::less<>> taken_namespaces = {"std", "sluice", "boost", "doctest"};
  if (taken_namespaces.contains(value))
    return "'" + std::string(value) + "' is a namespace of the SDK or its libraries";
  return identifier_problem(value);
}

std::string cpp_class_name_problem(std::string_view value) {
  if (value.empty() || !std::isupper(static_cast<unsigned char>(value[0])))
    return "must start with an uppercase letter (A-Z), e.g. WordCount";
  for (std::size_t i = 0; i < value.size(); ++i)
    if (!std::isalnum(static_cast<unsigned char>(value[i])) && value[i] != '_')
      return "'" + std::string(1, value[i]) + "' at position " + std::to_string(i + 1) +
             " is not allowed in a C++ class name";
  return identifier_problem(value);
}

std::string one_line_text_problem(std::string_view value) {
  if (value.empty()) return "must not be empty";
  if (value.size() > 200) return "at most 200 characters";
  for (const char c : value)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "must be one line of text";
  // It lands in C++ string literals.
  if (value.find_first_of("\"\\") != std::string_view::npos) return "must not contain '\"' or '\\'";
  return "";
}

std::string version_problem(std::string_view value) {
  int parts = 0;
  std::size_t digits = 0;
  for (const char c : value) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      ++digits;
    } else if (c == '.' && digits > 0 && parts < 2) {
      ++parts;
      digits = 0;
    } else {
      return "must be MAJOR.MINOR.PATCH, e.g. 0.1.0";
    }
  }
  if (parts != 2 || digits == 0) return "must be MAJOR.MINOR.PATCH, e.g. 0.1.0";
  return "";
}

// The reason `value` breaks `rule`, or "".
std::string rule_problem(const std::string& rule, const std::string& value, TakenNames& taken) {
  if (rule == "lowercase_identifier") return lowercase_identifier_problem(value);
  if (rule == "cpp_class_name") return cpp_class_name_problem(value);
  if (rule == "one_line_text") return one_line_text_problem(value);
  if (rule == "version") return version_problem(value);
  if (rule == "component_name_free") return taken.problem(value);
  throw std::runtime_error("sluice-template.json: unknown rule '" + rule +
                           "' (known: lowercase_identifier, component_name_free, cpp_class_name, "
                           "one_line_text, version)");
}

}  // namespace

std::string TakenNames::problem(const std::string& name) {
  if (!registry_ && !unavailable_) {
    try {
      registry_ = std::make_unique<PluginRegistry>(plugin_search_path(dirs_));
    } catch (const std::exception& e) {
      std::cerr << "sluice new: warning: cannot scan the plugin path, so '" << name
                << "' is not checked against the components there: " << e.what() << '\n';
      unavailable_ = true;
    }
  }
  if (!registry_ || !registry_->find(name)) return "";
  for (const auto& package : registry_->packages())
    if (std::find(package.components.begin(), package.components.end(), name) != package.components.end())
      return "'" + name + "' is taken: plugin package '" + package.name + "' (" +
             package.path.string() + ") has a component of that name, and graphs name components";
  return "'" + name + "' is taken by a component on the plugin path";
}

std::string value_problem(const TemplateVariable& variable, const std::string& value,
                          TakenNames& taken) {
  if (!variable.choices.empty()) {
    if (std::find(variable.choices.begin(), variable.choices.end(), value) != variable.choices.end())
      return "";
    std::string list;
    for (const auto& choice : variable.choices) list += (list.empty() ? "" : ", ") + choice;
    return "'" + value + "' is not one of: " + list;
  }
  // cookiecutter renders every value as a template; a value must mean the same to both.
  for (const char* tag : {"{{", "{%", "{#"})
    if (value.find(tag) != std::string::npos) return "must not contain '" + std::string(tag) + "'";
  for (const auto& rule : variable.rules)
    if (std::string problem = rule_problem(rule, value, taken); !problem.empty()) return problem;
  return "";
}

}  // namespace sluice::cli
