// keep: passes the packets for which `if` is true.
#pragma once

#include <sluice/component.hpp>
#include <sluice/condition.hpp>

namespace sluice::flow {

// Passes packets for which `if` is true.
class Keep : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Keep(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  Condition condition_;
};

}  // namespace sluice::flow
