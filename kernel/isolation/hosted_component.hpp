// HostedComponent — a node with `isolation: process`: its component runs in a `sluice host`
// process of its own (component_host.hpp), and this Component, in the kernel, relays between
// the node's RunContext and that process (host_channel.hpp).
//
// What the process boundary buys (docs/plugins.md, "Isolation"):
//  - a crash (SIGSEGV, abort, exit) costs the packet the host had: it goes to the node's
//    `error` port or the dead letters with the signal named, packets the component was holding
//    (hold()) go there too, and the host is started again after a back-off (100 ms doubling to
//    10 s, back to 100 ms once a packet passes);
//  - a host that keeps a packet (or its start, or its flush) for longer than the node's
//    `timeout` without a word is killed, with the same outcome;
//  - the kernel's memory, threads and other graphs are out of the component's reach.
// What it costs: every packet crosses a socket twice as a JSON envelope (tools/bench/bench_isolation).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <sluice/component.hpp>
#include <sluice/value.hpp>

#include "isolation/host_channel.hpp"
#include "registry/component_catalog.hpp"
#include "support/child_process.hpp"

namespace sluice {

struct HostedNode {
  std::filesystem::path program;  // the sluice executable, run as `sluice host …`
  ComponentOrigin origin;
  std::string node_path;  // "graph/node"
  Object params;          // validated and resolved
  std::chrono::milliseconds timeout;
};

// How a node's host is doing, for the stats (read from other threads).
class HostState {
 public:
  void started(int pid) { pid_ = pid; }
  void failed(std::string reason) {
    std::lock_guard lock(mutex_);
    last_failure_ = std::move(reason);
    ++failures_;
    ++consecutive_failures_;
    pid_ = 0;
  }
  void packet_done() { consecutive_failures_ = 0; }

  int pid() const { return pid_; }
  std::uint64_t failures() const { return failures_; }
  // Failed this many times in a row without a packet passing in between.
  std::uint64_t consecutive_failures() const { return consecutive_failures_; }
  std::string last_failure() const {
    std::lock_guard lock(mutex_);
    return last_failure_;
  }

 private:
  std::atomic<int> pid_{0};
  std::atomic<std::uint64_t> failures_{0}, consecutive_failures_{0};
  mutable std::mutex mutex_;
  std::string last_failure_;
};

class HostedComponent final : public Component {
 public:
  // Starts the host and has it construct the component; nullptr with `error` when that fails
  // (the constructor threw, the host crashed or did not answer within the node's timeout).
  static std::unique_ptr<HostedComponent> start(HostedNode node, std::shared_ptr<HostState> state,
                                                std::string& error);
  ~HostedComponent() override;  // closes the socket; the host ends (and is reaped) with it

  void run(RunContext& ctx) override;

 private:
  HostedComponent(HostedNode node, std::shared_ptr<HostState> state);
  // Spawns the host and waits for `ready`; blocks (the caller is not a worker's fiber, or
  // wraps it in io::run_blocking).
  bool launch(std::string& error);
  // Ends the host (it was killed already, or `kill` now) and says how it ended.
  std::string end_host(bool kill);
  // The next frame from the host, waiting at most until `deadline` off the worker thread.
  HostChannel::ReadStatus next_frame(Frame& frame, Clock::time_point deadline);
  // After the host failed: waits out the back-off and starts it again, until it starts.
  void restart();

  // The steps of run(), which keeps track of the host's work in a HostWork.
  struct HostWork;
  // The host asks for input (a `want` frame with `payload`): hands it the next packet, the timeout, or
  // the end of the input.
  void answer_want(std::string_view payload, RunContext& ctx, HostWork& work);
  // The host crashed, hung (`status` timed_out) or broke the protocol: ends it, and fails what it had.
  void fail_host(HostChannel::ReadStatus status, RunContext& ctx, HostWork& work);

  HostedNode node_;
  std::shared_ptr<HostState> state_;
  std::unique_ptr<HostChannel> channel_;
  std::unique_ptr<ChildProcess> child_;
  std::chrono::milliseconds backoff_{0};
};

}  // namespace sluice
