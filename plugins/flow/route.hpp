// route: each packet to the out port of the first (or every) matching condition.
#pragma once

#include <vector>

#include <sluice/component.hpp>
#include <sluice/condition.hpp>

namespace sluice::flow {

class Route : public Component {
 public:
  // Out ports are declared statically (see README): `out` for unmatched, then route1..route<n>.
  static constexpr std::size_t max_routes = 8;
  static ComponentDescriptor descriptor();
  explicit Route(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::vector<Condition> routes_;  // routes_[i] goes to out port i + 1
  bool all_;
};

}  // namespace sluice::flow
