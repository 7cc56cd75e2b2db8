// log: pretty-prints packets to stderr.
#pragma once

#include <string>

#include <sluice/component.hpp>

namespace sluice::publish {

class Log : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Log(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::string prefix_;
  bool meta_;
  bool pretty_;
  std::string line_;  // reused between packets
};

}  // namespace sluice::publish
