// set_field: sets a field to a fixed value.
#pragma once

#include <string>
#include <vector>

#include <sluice/component.hpp>

namespace sluice::transform {

class SetField : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit SetField(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  FieldPath field_;
  Value value_;
  bool overwrite_;
};

}  // namespace sluice::transform
