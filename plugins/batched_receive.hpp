// The receive loop of a sink that writes in batches (sqlite_sink, postgres_sink): every packet
// is held, so that its stream completes only once the batch it is in has been written.
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include <sluice/component.hpp>

namespace sluice::plugins {

// Calls `write(batch)` when the batch reaches `max_packets`, when `max_wait` has passed since
// its first packet, and at the end of the input; then releases the held packets.
template <class Write>
void receive_in_batches(RunContext& ctx, std::size_t max_packets, std::chrono::milliseconds max_wait,
                        Write&& write) {
  std::vector<Packet> batch;
  Clock::time_point deadline = Clock::time_point::max();
  auto flush = [&] {
    if (batch.empty()) return;
    write(batch);
    batch.clear();
    ctx.release_held();
    deadline = Clock::time_point::max();
  };
  Received received;
  for (;;) {
    const ReceiveStatus status = ctx.receive(received, deadline);
    if (status == ReceiveStatus::closed) break;
    if (status == ReceiveStatus::timeout) {
      flush();
      continue;
    }
    batch.push_back(std::move(received.packet));
    ctx.hold();
    if (batch.size() == 1) deadline = ctx.now() + max_wait;
    if (batch.size() >= max_packets) flush();
  }
  flush();
}

}  // namespace sluice::plugins
