// HandoffQueue — items handed from any thread to the fibers of one worker: push() from an
// HTTP thread, a source's thread or a fiber; pop() in a fiber, which waits without holding
// its worker.
//
//   HandoffQueue<Submission> ingress;
//   ingress.push(std::move(submission));       // false once closed
//   while (ingress.pop(submission)) admit(submission);
//
// It has no bound of its own: the caller bounds what it pushes, in packets and bytes (a
// graph's ingress limits), so that no count of items refuses before those bounds do.
#pragma once

#include <deque>
#include <mutex>

#include <boost/fiber/condition_variable.hpp>

namespace sluice {

template <class T>
class HandoffQueue {
 public:
  // Leaves `item` as it was and returns false once close() was called.
  bool push(T&& item) {
    {
      const std::lock_guard lock(mutex_);
      if (closed_) return false;
      items_.push_back(std::move(item));
    }
    ready_.notify_one();
    return true;
  }

  // The oldest item; false when closed and empty.
  bool pop(T& item) {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return false;
    item = std::move(items_.front());
    items_.pop_front();
    return true;
  }

  // What was pushed before is still popped.
  void close() {
    {
      const std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }

 private:
  // A std::mutex, held only around the deque: no fiber suspends while holding it.
  std::mutex mutex_;
  boost::fibers::condition_variable_any ready_;
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace sluice
