// StallWatchdog — notices a node of the kernel's own process that has been inside its
// component, with no packet taken, emitted or failed, for longer than the node's `timeout`
// (an endless loop, a deadlock, a blocking call that never returns). Such a node holds its
// worker thread and every other fiber on it, so it is shown: `stalled` in the stats, its
// graph and the server unready in /readyz, a warning in the log; the drain deadline still
// ends the server on SIGTERM. An `isolation: process` node needs none of this: its host is
// killed at the timeout (HostedComponent).
//
// The hot path pays one relaxed store each time a fiber starts or stops waiting
// (NodeRuntime::in_component); a periodic task of the control loop samples the nodes'
// counters four times a second.
#pragma once

#include <chrono>
#include <functional>

#include "support/control_loop.hpp"

namespace sluice {

class NodeRuntime;

class StallWatchdog {
 public:
  // Calls `visit` with a function to apply to every node of every running instance.
  using ForEachNode = std::function<void(const std::function<void(NodeRuntime&)>&)>;
  StallWatchdog(ControlLoop& loop, ForEachNode for_each_node,
                std::chrono::milliseconds period = std::chrono::milliseconds(250));
  ~StallWatchdog();  // ends the sampling (a sample in progress finishes first)
  StallWatchdog(const StallWatchdog&) = delete;
  StallWatchdog& operator=(const StallWatchdog&) = delete;

 private:
  void sample();

  ControlLoop& loop_;
  ForEachNode for_each_node_;
  ControlLoop::TimerId task_;  // last: started once everything it reads is ready
};

}  // namespace sluice
