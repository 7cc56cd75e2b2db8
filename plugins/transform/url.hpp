// url: the URLs of a text field.
#pragma once

#include <string>
#include <vector>

#include <sluice/component.hpp>

#include "pattern_extractor.hpp"

namespace sluice::transform {

class Url : public PatternExtractor {
 public:
  static ComponentDescriptor descriptor();
  explicit Url(const Params& params);
};

}  // namespace sluice::transform
