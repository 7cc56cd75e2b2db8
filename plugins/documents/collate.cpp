#include "collate.hpp"

namespace sluice::documents {

ComponentDescriptor Collate::descriptor() {
  return {.name = "collate",
          .version = "1.0.0",
          .summary = "Interleaves two inputs: a packet from left, then one from right, and so "
                     "on; a packet whose turn does not come within timeout_ms leaves alone",
          .kind = ComponentKind::operator_,
          .inputs = {{"left", "packets sent first of each pair"},
                     {"right", "packets sent second of each pair"}},
          .outputs = {{"out", "left, right, left, right, … in the order each side sent them"}},
          .params = {{.name = "timeout_ms",
                      .type = ParamType::integer,
                      .description = "how long a packet waits for one from the other side",
                      .default_value = 1000,
                      .minimum = 1},
                     {.name = "max_pending",
                      .type = ParamType::integer,
                      .description = "at most this many packets of one side wait; beyond it "
                                     "the oldest leaves early (bounds memory)",
                      .default_value = 10000,
                      .minimum = 1}},
          .example = {.description = "Interleaves two feeds one packet at a time: wire one to example.left and the other to example.right",
                      .params = "timeout_ms: 500"}};
}

Collate::Collate(const Params& params)
    : timeout_(std::chrono::milliseconds(params.get_int("timeout_ms"))),
      max_pending_(static_cast<std::size_t>(params.get_int("max_pending"))) {}

void Collate::emit_front(RunContext& ctx, std::size_t side) {
  ctx.emit(std::move(waiting_[side].front().packet));
  waiting_[side].pop_front();
}

std::size_t Collate::oldest_side() const {
  if (waiting_[0].empty()) return 1;
  if (waiting_[1].empty()) return 0;
  return waiting_[1].front().deadline < waiting_[0].front().deadline ? 1 : 0;
}

void Collate::run(RunContext& ctx) {
  const std::size_t left = ctx.in_port_index("left");
  Received received;
  for (;;) {
    const bool any_waiting = !waiting_[0].empty() || !waiting_[1].empty();
    const auto deadline = any_waiting ? waiting_[oldest_side()].front().deadline : Clock::time_point::max();
    const ReceiveStatus status = ctx.receive(received, deadline);
    if (status == ReceiveStatus::closed) break;
    const auto now = ctx.now();
    while ((!waiting_[0].empty() || !waiting_[1].empty()) && waiting_[oldest_side()].front().deadline <= now)
      emit_front(ctx, oldest_side());
    if (status == ReceiveStatus::timeout) continue;
    const std::size_t side = received.in_port == left ? 0 : 1;
    waiting_[side].push_back({std::move(received.packet), now + timeout_});
    if (waiting_[side].size() > max_pending_) emit_front(ctx, side);
    while (!waiting_[0].empty() && !waiting_[1].empty()) {
      emit_front(ctx, 0);
      emit_front(ctx, 1);
    }
  }
  // The inputs are closed: what waits leaves alternately while both sides have some.
  while (!waiting_[0].empty() || !waiting_[1].empty()) {
    if (!waiting_[0].empty()) emit_front(ctx, 0);
    if (!waiting_[1].empty()) emit_front(ctx, 1);
  }
}

}  // namespace sluice::documents
