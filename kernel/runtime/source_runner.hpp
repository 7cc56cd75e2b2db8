// SourceRunner — one source node of one deployed graph version: its component and the thread
// that runs its produce() loop.
//
// Each send() becomes one stream, admitted (like a REST submission) into the least loaded
// instance of that version, at the source node, whose fiber relays it to the node's out port
// (GraphInstance). The runner bounds the packets it has in the graph: send() waits while the
// graph refuses more or while `max_in_flight` of its own are not done, so a source is held
// back by its slowest sink instead of buffering. Completion callbacks run on worker threads;
// the runner outlives every stream it sent (the version drains before it is destroyed).
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sluice/component.hpp>

#include "runtime/runtime.hpp"

namespace sluice {

class SourceRunner final : public SourceContext {
 public:
  // Admits a stream into the graph version the runner belongs to; `shutting_down` when that
  // version no longer takes input.
  using Submit = std::function<Admission(std::vector<Packet>& packets, StreamCallback& on_done)>;

  // `observe`, when given, sees each of its streams as it completes (before the source's own
  // completion callback): `sluice run` writes their results.
  SourceRunner(std::string path, std::unique_ptr<Component> component, std::string state_dir,
               std::size_t max_in_flight, Submit submit, StreamCallback observe = {});
  ~SourceRunner();  // stop()
  SourceRunner(const SourceRunner&) = delete;
  SourceRunner& operator=(const SourceRunner&) = delete;

  void start();
  // Tells produce() to stop, wakes a send() or sleep_until() that waits, and joins the thread.
  // Streams already sent go on to completion. Idempotent.
  void stop();
  // Waits until produce() has returned by itself (a source with an end: a count, a file read
  // through) and every stream it sent is done.
  void wait_finished();

  // SourceContext
  bool send(std::vector<Packet>&& packets, StreamDoneCallback on_done) override;
  bool sleep_until(Clock::time_point deadline) override;
  bool stopping() const override;
  Clock::time_point now() const override { return Clock::now(); }
  const std::string& state_dir() const override { return state_dir_; }
  const std::string& node_path() const override { return path_; }

 private:
  void run();

  std::string path_;
  std::unique_ptr<Component> component_;
  std::string state_dir_;
  std::size_t max_in_flight_;
  Submit submit_;
  StreamCallback observe_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;  // stop asked, a stream of ours completed, produce() returned
  bool stop_ = false;
  bool produced_ = false;  // produce() returned
  std::size_t in_flight_ = 0;  // packets sent whose streams are not done
  std::thread thread_;
};

}  // namespace sluice
