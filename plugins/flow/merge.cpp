#include "merge.hpp"

#include <chrono>
#include <stdexcept>
#include <utility>

#include "flow_params.hpp"
#include "packet_key.hpp"

namespace sluice::flow {

ComponentDescriptor Merge::descriptor() {
  return {.name = "merge",
          .version = "1.0.0",
          .summary = "Pairs packets from left and right that share a key into one packet; "
                     "unpaired ones leave on unpaired after a timeout",
          .kind = ComponentKind::operator_,
          .inputs = {{"left", "packets to pair; their fields come first"},
                     {"right", "packets to pair; their fields win over left's on a clash"}},
          .outputs = {{"out", "one packet per pair: left merged with right (fields and metadata)"},
                      {"unpaired", "packets whose partner did not arrive in time, or still "
                                   "waiting when the inputs closed"}},
          .params = {key_param("field paths whose values together form the pairing key", true),
                     {.name = "timeout_ms",
                      .type = ParamType::integer,
                      .description = "how long a packet waits for its partner",
                      .default_value = 30000,
                      .minimum = 1},
                     {.name = "max_pending",
                      .type = ParamType::integer,
                      .description = "at most this many packets wait at once; beyond it the "
                                     "oldest leaves on unpaired early (bounds memory)",
                      .default_value = 100000,
                      .minimum = 1}},
          .example = {.description = "Pairs each order with its payment by order id: wire the orders to example.left and the payments to example.right; an order without a payment within a minute leaves on unpaired",
                      .params = R"(key: [order]
timeout_ms: 60000)"}};
}

Merge::Merge(const Params& params)
    : key_(key_paths(params)),
      timeout_(std::chrono::milliseconds(params.get_int("timeout_ms"))),
      max_pending_(static_cast<std::size_t>(params.get_int("max_pending"))) {}

void Merge::release_oldest(RunContext& ctx) {
  Waiting& oldest = pending_.front();
  auto [begin, end] = by_key_.equal_range(oldest.key);
  for (auto it = begin; it != end; ++it) {
    if (it->second == pending_.begin()) {
      by_key_.erase(it);
      break;
    }
  }
  ctx.emit(unpaired_, std::move(oldest.packet));
  pending_.pop_front();
}

void Merge::handle(RunContext& ctx, Received& received) {
  for (const auto& path : key_)
    if (!received.packet.find_path(path))
      throw std::runtime_error("merge: key field '" + path.text() + "' is missing");
  std::string key = plugins::key_text(received.packet, key_);
  auto [begin, end] = by_key_.equal_range(key);
  // The oldest waiting packet from the other side is the partner (arrival order is kept).
  auto partner = by_key_.end();
  for (auto it = begin; it != end; ++it)
    if (it->second->side != received.in_port &&
        (partner == by_key_.end() || it->second->deadline < partner->second->deadline))
      partner = it;
  if (partner == by_key_.end()) {
    pending_.push_back({std::move(received.packet), received.in_port, ctx.now() + timeout_, key});
    by_key_.emplace(std::move(key), std::prev(pending_.end()));
    if (pending_.size() > max_pending_) release_oldest(ctx);
    return;
  }
  auto waiting = partner->second;
  by_key_.erase(partner);
  Packet left = waiting->side == left_ ? std::move(waiting->packet) : std::move(received.packet);
  Packet right = waiting->side == left_ ? std::move(received.packet) : std::move(waiting->packet);
  pending_.erase(waiting);
  left.merge(right);
  ctx.emit(std::move(left));
}

void Merge::run(RunContext& ctx) {
  left_ = ctx.in_port_index("left");
  unpaired_ = ctx.out_port_index("unpaired");
  Received received;
  for (;;) {
    const auto deadline = pending_.empty() ? Clock::time_point::max() : pending_.front().deadline;
    const ReceiveStatus status = ctx.receive(received, deadline);
    if (status == ReceiveStatus::closed) break;
    // Deadlines grow with arrival, so the expired packets are at the front.
    const auto now = ctx.now();
    while (!pending_.empty() && pending_.front().deadline <= now) release_oldest(ctx);
    if (status == ReceiveStatus::timeout) continue;
    try {
      handle(ctx, received);
    } catch (const std::exception& e) {
      ctx.fail(std::move(received.packet), e.what());
    }
  }
  while (!pending_.empty()) release_oldest(ctx);
}

}  // namespace sluice::flow
