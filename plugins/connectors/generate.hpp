// generate — a packet on an interval, with fixed or templated content (Node-RED's inject).
#pragma once

#include <chrono>
#include <cstdint>

#include <sluice/component.hpp>

namespace sluice::connectors {

class Generate : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Generate(const Params& params);
  void produce(SourceContext& ctx) override;

 private:
  Value payload_;
  std::chrono::milliseconds interval_;
  std::int64_t count_;  // 0: no limit
  std::int64_t batch_;
};

}  // namespace sluice::connectors
