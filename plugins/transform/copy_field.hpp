// copy_field: copies a field (its value and field metadata) to another path.
#pragma once

#include <string>
#include <vector>

#include <sluice/component.hpp>

namespace sluice::transform {

class CopyField : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit CopyField(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  FieldPath from_, to_;
};

}  // namespace sluice::transform
