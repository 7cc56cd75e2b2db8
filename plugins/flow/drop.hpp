// drop: passes the packets for which `if` is false.
#pragma once

#include <sluice/component.hpp>
#include <sluice/condition.hpp>

namespace sluice::flow {

// Passes packets for which `if` is false.
class Drop : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Drop(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  Condition condition_;
};

}  // namespace sluice::flow
