// collect: hands each packet back to the submitter (REST ?wait=true, `sluice run` output).
#pragma once

#include <sluice/component.hpp>

namespace sluice::publish {

class Collect : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Collect(const Params&) {}
  void process(Packet& packet, Emitter& emit) override;
};

}  // namespace sluice::publish
