// batch: n packets or t milliseconds of them into one packet that holds them.
#pragma once

#include <string>
#include <vector>

#include <sluice/component.hpp>

namespace sluice::flow {

class Batch : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Batch(const Params& params);
  void run(RunContext& ctx) override;

 private:
  std::size_t size_;
  Clock::duration max_wait_;
  std::string field_;
  bool envelopes_;
};

}  // namespace sluice::flow
