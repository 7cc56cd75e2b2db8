// trim: strips Unicode white space (or given characters) from both ends of string fields.
#pragma once

#include <string>
#include <vector>

#include <sluice/component.hpp>

namespace sluice::transform {

class Trim : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Trim(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::vector<FieldPath> fields_;  // empty: every top-level string field
  std::u32string chars_;              // code points to strip; empty: Unicode White_Space
};

}  // namespace sluice::transform
