// dedupe: the first packet of each key within a bounded window.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_set>
#include <vector>

#include <sluice/component.hpp>

namespace sluice::flow {

class Dedupe : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Dedupe(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::vector<FieldPath> key_;
  std::size_t window_;
  std::deque<std::uint64_t> order_;  // oldest first
  std::unordered_set<std::uint64_t> seen_;
};

}  // namespace sluice::flow
