// sluice/descriptor_rules.hpp — what the kernel checks in a plugin's descriptors when it loads
// them, and in a node's params when it deploys a graph. Not a public SDK header (not
// installed, not seen by components); a component's tests reach the same checks through
// sluice/harness.hpp (descriptor_problems, deployed_params).
#pragma once

#include <string>
#include <vector>

#include "sluice/component.hpp"

namespace sluice {

// Problems with the descriptor itself (empty name, duplicate port or param, a default that
// breaks its own type, range or allowed values, …); empty when it is sound.
std::vector<std::string> check_descriptor(const ComponentDescriptor& descriptor);

struct ParamError {
  std::string param;    // the param the error is about ("" for the params block as a whole)
  std::string message;  // complete sentence, e.g. "unknown param 'feild' (did you mean 'field'?)"
};

// Checks `given` against the table, collecting every error. On success `resolved` holds the
// given values with defaults filled in (string_list params normalised to arrays).
std::vector<ParamError> validate_params(const ComponentDescriptor& descriptor, const Object& given,
                                        Object& resolved);

}  // namespace sluice
