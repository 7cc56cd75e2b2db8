// split: one packet per element of an array field.
#pragma once

#include <string>

#include <sluice/component.hpp>

namespace sluice::flow {

class Split : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Split(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  FieldPath field_;
  FieldPath into_;
  FieldPath index_;  // no text: no index field
};

}  // namespace sluice::flow
