// rename_field: moves a field to another path.
#pragma once

#include <string>
#include <vector>

#include <sluice/component.hpp>

namespace sluice::transform {

class RenameField : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit RenameField(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  FieldPath from_, to_;
};

}  // namespace sluice::transform
