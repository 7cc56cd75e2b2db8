// The values of a template's variables for one `sluice new`: those the command line gives
// (NAME, --kind, --set VAR=VALUE), then on a terminal the user's answers, else the defaults;
// each one checked by its rules (template_rules.hpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/component_template.hpp"
#include "cli/template_rules.hpp"

namespace sluice::cli {

// What the command line gives: NAME and --kind ("" when left out), and each --set VAR=VALUE.
struct GivenValues {
  std::string name;
  std::string kind;
  std::vector<std::string> sets;
};

// The value of every variable, in cookiecutter.json order, or nullopt once every problem was
// written to stderr. `interactive`: ask for each value not given, re-asking after an invalid
// answer, as cookiecutter asks.
std::optional<TemplateValues> resolve_values(const ProjectTemplate& tmpl, const GivenValues& given,
                                             TakenNames& taken, bool interactive);

}  // namespace sluice::cli
