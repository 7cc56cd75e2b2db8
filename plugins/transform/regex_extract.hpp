// regex_extract: regex matches of a text field into a field (named groups become fields).
#pragma once

#include <string>
#include <vector>

#include <sluice/component.hpp>
#include <sluice/regex.hpp>

namespace sluice::transform {

class RegexExtract : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit RegexExtract(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  FieldPath field_, into_;
  Regex regex_;
  bool all_;
};

}  // namespace sluice::transform
