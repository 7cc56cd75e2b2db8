// unbatch: the packets a batch holds, one by one (the inverse of batch).
#pragma once

#include <string>

#include <sluice/component.hpp>

namespace sluice::flow {

class Unbatch : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Unbatch(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  FieldPath field_;
  bool envelopes_;
};

}  // namespace sluice::flow
