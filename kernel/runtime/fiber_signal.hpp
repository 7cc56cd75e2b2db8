// FiberSignal — one fiber waits, fibers of the same thread wake it.
//
// The queues between nodes of a graph instance never cross threads, so they need no locks:
// a condition_variable_any over a no-op lock is enough, and notify() costs nothing when no
// one waits. Callers re-check their condition in a loop (wake-ups may be spurious).
#pragma once

#include <boost/fiber/condition_variable.hpp>
#include <chrono>

namespace sluice {

class FiberSignal {
 public:
  void wait() {
    waiting_ = true;
    cv_.wait(no_lock_);
    waiting_ = false;
  }
  // False when `deadline` passed first.
  bool wait_until(std::chrono::steady_clock::time_point deadline) {
    waiting_ = true;
    const auto status = cv_.wait_until(no_lock_, deadline);
    waiting_ = false;
    return status == boost::fibers::cv_status::no_timeout;
  }
  void notify() {
    if (waiting_) cv_.notify_all();
  }

 private:
  struct NoLock {
    void lock() {}
    void unlock() {}
  };
  boost::fibers::condition_variable_any cv_;
  NoLock no_lock_;
  bool waiting_ = false;
};

}  // namespace sluice
