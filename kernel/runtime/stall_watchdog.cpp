#include "runtime/stall_watchdog.hpp"

#include "runtime/graph_instance.hpp"
#include "support/log.hpp"

namespace sluice {

StallWatchdog::StallWatchdog(ForEachNode for_each_node, std::chrono::milliseconds period)
    : for_each_node_(std::move(for_each_node)), period_(period), thread_([this] { run(); }) {}

StallWatchdog::~StallWatchdog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void StallWatchdog::run() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, period_, [this] { return stopping_; })) {
    lock.unlock();
    const auto now = Clock::now();
    for_each_node_([now](NodeRuntime& node) { node.watch_for_stall(now); });
    lock.lock();
  }
}

}  // namespace sluice
