#include "runtime/stall_watchdog.hpp"

#include "runtime/graph_instance.hpp"

namespace sluice {

StallWatchdog::StallWatchdog(ControlLoop& loop, ForEachNode for_each_node, std::chrono::milliseconds period)
    : loop_(loop), for_each_node_(std::move(for_each_node)), task_(loop.every(period, [this] { sample(); })) {}

StallWatchdog::~StallWatchdog() { loop_.cancel_and_wait(task_); }

void StallWatchdog::sample() {
  const auto now = Clock::now();
  for_each_node_([now](NodeRuntime& node) { node.watch_for_stall(now); });
}

}  // namespace sluice
