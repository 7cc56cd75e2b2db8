// collate: interleaves two inputs, as Pypes' Collate did: a packet from `left`, then one from
// `right`, and so on. A packet whose turn does not come within `timeout_ms` (the other side
// is quiet) leaves alone, so one idle input never holds the other back for long.
#pragma once

#include <array>
#include <cstddef>
#include <deque>

#include <sluice/component.hpp>

namespace sluice::documents {

class Collate : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Collate(const Params& params);
  void run(RunContext& ctx) override;

 private:
  struct Waiting {
    Packet packet;
    Clock::time_point deadline;
  };
  void emit_front(RunContext& ctx, std::size_t side);
  // The side whose front packet waits longest; only when some packet waits.
  std::size_t oldest_side() const;

  Clock::duration timeout_;
  std::size_t max_pending_;
  std::array<std::deque<Waiting>, 2> waiting_;  // by in port: left, right
};

}  // namespace sluice::documents
