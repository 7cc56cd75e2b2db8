// hash: a stable id (XXH3-128 of the canonical JSON of some fields), in a field and optionally the packet id.
#pragma once

#include <string>
#include <vector>

#include <sluice/component.hpp>

namespace sluice::transform {

class Hash : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Hash(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::vector<FieldPath> fields_;
  FieldPath into_;
  bool set_meta_id_;
};

}  // namespace sluice::transform
