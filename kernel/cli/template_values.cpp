#include "cli/template_values.hpp"

#include <algorithm>
#include <cctype>
#include <iostream>
#include <map>
#include <stdexcept>

#include <sluice/component.hpp>

namespace sluice::cli {

namespace {

// Reads one answer; nullopt at the end of input.
std::optional<std::string> ask(const std::string& prompt) {
  std::cout << prompt << std::flush;
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  return line;
}

// Prompts like cookiecutter does, until the answer is valid.
std::string prompt_for(const TemplateVariable& variable, const std::string& fallback,
                       TakenNames& taken) {
  if (!variable.description.empty()) std::cout << "# " << variable.description << '\n';
  for (;;) {
    std::optional<std::string> answer;
    std::string value;
    if (variable.choices.empty()) {
      answer = ask(variable.name + " [" + fallback + "]: ");
      if (!answer) throw std::runtime_error("input ended before '" + variable.name + "' was given");
      value = answer->empty() ? fallback : *answer;
    } else {
      std::string numbers;
      std::cout << "Select " << variable.name << ":\n";
      for (std::size_t i = 0; i < variable.choices.size(); ++i) {
        std::cout << i + 1 << " - " << variable.choices[i] << '\n';
        numbers += (i ? ", " : "") + std::to_string(i + 1);
      }
      answer = ask("Choose from " + numbers + " [1]: ");
      if (!answer) throw std::runtime_error("input ended before '" + variable.name + "' was chosen");
      value = answer->empty() ? variable.choices.front() : *answer;
      // A number picks by position; the choice itself is accepted too.
      if (!value.empty() && value.size() <= 3 &&
          std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        const std::size_t index = std::stoul(value);
        if (index >= 1 && index <= variable.choices.size()) value = variable.choices[index - 1];
      }
    }
    const std::string problem = value_problem(variable, value, taken);
    if (problem.empty()) return value;
    std::cout << "  " << variable.name << ": " << problem << '\n';
  }
}

}  // namespace

// Collects every problem of the values given before giving up.
std::optional<TemplateValues> resolve_values(const ProjectTemplate& tmpl, const GivenValues& given_values,
                                             TakenNames& taken, bool interactive) {
  std::map<std::string, std::string> given;
  std::vector<std::string> problems;
  std::vector<std::string> names;
  for (const auto& variable : tmpl.variables) names.push_back(variable.name);
  for (const auto& assignment : given_values.sets) {
    const auto equals = assignment.find('=');
    if (equals == std::string::npos || equals == 0) {
      problems.push_back("--set '" + assignment + "': expected VAR=VALUE");
      continue;
    }
    const std::string var = assignment.substr(0, equals);
    if (std::find(names.begin(), names.end(), var) == names.end()) {
      std::string message = "--set " + var + ": the template has no variable '" + var + "'";
      if (const std::string hint = closest_match(var, names); !hint.empty())
        message += " (did you mean '" + hint + "'?)";
      std::string list;
      for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
      problems.push_back(message + "; its variables: " + list);
      continue;
    }
    given[var] = assignment.substr(equals + 1);
  }
  auto give = [&](const std::string& var, const std::string& value, const char* option) {
    if (value.empty()) return;
    if (given.contains(var) && given[var] != value)
      problems.push_back(std::string(option) + " and --set " + var + "= disagree");
    given[var] = value;
  };
  give("name", given_values.name, "NAME");
  give("kind", given_values.kind, "--kind");
  if (!interactive && !given.contains("name"))
    problems.push_back("NAME is missing: sluice new component NAME (e.g. word_count)");
  if (interactive && !tmpl.description.empty())
    std::cout << tmpl.description << "\nPress Enter to take the default in [brackets].\n\n";

  TemplateValues values;
  for (const auto& variable : tmpl.variables) {
    const auto fixed = given.find(variable.name);
    std::string value;
    if (fixed != given.end()) {
      value = fixed->second;
    } else {
      // A default may be computed from a value refused already (class_name from name): its
      // problem would repeat that one, and a user would answer questions in vain.
      if (!problems.empty()) continue;
      const std::string fallback = variable.choices.empty() ? default_value(tmpl, variable, values)
                                                            : variable.choices.front();
      if (interactive) {
        values[variable.name] = prompt_for(variable, fallback, taken);
        continue;
      }
      value = fallback;
    }
    if (const std::string problem = value_problem(variable, value, taken); !problem.empty())
      problems.push_back(variable.name + ": " + problem);
    values[variable.name] = value;
  }
  if (problems.empty()) return values;
  for (const auto& problem : problems) std::cerr << "sluice new: " << problem << '\n';
  std::cerr << "sluice new: nothing was written\n";
  return std::nullopt;
}

}  // namespace sluice::cli
