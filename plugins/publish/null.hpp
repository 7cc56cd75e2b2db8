// null: discards packets.
#pragma once

#include <sluice/component.hpp>

namespace sluice::publish {

class Null : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Null(const Params&) {}
  void process(Packet&, Emitter&) override {}
};

}  // namespace sluice::publish
