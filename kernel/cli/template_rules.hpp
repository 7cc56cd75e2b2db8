// The checks of a template variable's value: a choice must be one of its choices, any other
// value must pass the rules sluice-template.json gives it (lowercase_identifier,
// component_name_free, cpp_class_name, one_line_text, version).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/component_template.hpp"
#include "registry/plugin_registry.hpp"

namespace sluice::cli {

// The rule component_name_free: no component of the name on the plugin search path (of
// `sluice plugins`, with these --plugins dirs). The registry is built on first use, since
// scanning loads every plugin once; a path that cannot be scanned is warned about, not refused.
class TakenNames {
 public:
  explicit TakenNames(std::vector<std::string> dirs) : dirs_(std::move(dirs)) {}

  // Why `name` is taken, or "".
  std::string problem(const std::string& name);

 private:
  std::vector<std::string> dirs_;
  std::unique_ptr<PluginRegistry> registry_;
  bool unavailable_ = false;
};

// Every problem of one value; "" when it is fine. Throws std::runtime_error for a rule it does
// not know.
std::string value_problem(const TemplateVariable& variable, const std::string& value,
                          TakenNames& taken);

}  // namespace sluice::cli
