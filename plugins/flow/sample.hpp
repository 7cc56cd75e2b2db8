// sample: a fraction of the packets, randomly or consistently by key.
#pragma once

#include <random>
#include <string>
#include <vector>

#include <sluice/component.hpp>

namespace sluice::flow {

class Sample : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Sample(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  double rate_;
  std::vector<FieldPath> key_;
  std::mt19937_64 random_;
};

}  // namespace sluice::flow
