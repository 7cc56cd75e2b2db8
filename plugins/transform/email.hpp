// email: the e-mail addresses of a text field.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <sluice/component.hpp>

#include "pattern_extractor.hpp"

namespace sluice::transform {

class Email : public PatternExtractor {
 public:
  static ComponentDescriptor descriptor();
  explicit Email(const Params& params);

 private:
  // The domain lowercased: it is case-insensitive (RFC 5321), the local part is not.
  std::string canonical(std::string_view match) const override;
};

}  // namespace sluice::transform
