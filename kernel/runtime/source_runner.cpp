#include "runtime/source_runner.hpp"

#include <chrono>
#include <iostream>

namespace sluice {

namespace {
// How long a send() refused by a full graph waits before it asks again, when none of its own
// streams completes first: the room may be freed by other submissions, which do not wake it.
constexpr auto full_graph_retry = std::chrono::milliseconds(10);
}  // namespace

SourceRunner::SourceRunner(std::string path, std::unique_ptr<Component> component, std::string state_dir,
                           std::size_t max_in_flight, Submit submit, StreamCallback observe)
    : path_(std::move(path)),
      component_(std::move(component)),
      state_dir_(std::move(state_dir)),
      max_in_flight_(max_in_flight),
      submit_(std::move(submit)),
      observe_(std::move(observe)) {}

SourceRunner::~SourceRunner() { stop(); }

void SourceRunner::start() { thread_ = std::thread([this] { run(); }); }

void SourceRunner::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SourceRunner::wait_finished() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return produced_ && in_flight_ == 0; });
}

void SourceRunner::run() {
  try {
    component_->produce(*this);
  } catch (const std::exception& e) {
    std::cerr << path_ << ": produce() threw: " << e.what() << "; the source has stopped\n";
  } catch (...) {
    std::cerr << path_ << ": produce() threw an unknown exception; the source has stopped\n";
  }
  {
    std::lock_guard lock(mutex_);
    produced_ = true;
  }
  changed_.notify_all();
}

bool SourceRunner::stopping() const {
  std::lock_guard lock(mutex_);
  return stop_;
}

bool SourceRunner::sleep_until(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  changed_.wait_until(lock, deadline, [&] { return stop_; });
  return !stop_;
}

bool SourceRunner::send(std::vector<Packet>&& packets, StreamDoneCallback on_done) {
  const std::size_t count = packets.size();
  StreamCallback when_done = [this, count, notify = std::move(on_done)](const StreamResult& result) {
    if (observe_) observe_(result);
    if (notify) {
      try {
        notify(StreamOutcome{result.id, result.accepted, result.error_count});
      } catch (const std::exception& e) {
        std::cerr << path_ << ": stream completion callback threw: " << e.what() << '\n';
      }
    }
    {
      std::lock_guard lock(mutex_);
      in_flight_ -= count;
    }
    changed_.notify_all();
  };
  std::unique_lock lock(mutex_);
  for (;;) {
    // One batch larger than the bound still goes when nothing else is in flight.
    changed_.wait(lock, [&] { return stop_ || in_flight_ == 0 || in_flight_ + count <= max_in_flight_; });
    if (stop_) return false;
    in_flight_ += count;  // before admission: the stream may complete before submit returns
    lock.unlock();
    const Admission admission = submit_(packets, when_done);
    lock.lock();
    if (admission.status == Admission::Status::accepted) return true;
    in_flight_ -= count;
    if (admission.status != Admission::Status::overloaded) return false;
    changed_.wait_for(lock, full_graph_retry, [&] { return stop_; });
  }
}

}  // namespace sluice
