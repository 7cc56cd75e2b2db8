#include "ingress/deadline_timer.hpp"

namespace sluice {

DeadlineTimer::DeadlineTimer() : thread_([this] { run(); }) {}

DeadlineTimer::~DeadlineTimer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

DeadlineTimer::Id DeadlineTimer::schedule(Clock::time_point deadline, std::function<void()> callback) {
  std::lock_guard lock(mutex_);
  const Id id = ++next_id_;
  const bool earliest = pending_.empty() || deadline < pending_.begin()->first.first;
  pending_.emplace(std::pair(deadline, id), std::move(callback));
  deadlines_.emplace(id, deadline);
  if (earliest) wake_.notify_one();
  return id;
}

bool DeadlineTimer::cancel(Id id) {
  std::lock_guard lock(mutex_);
  const auto it = deadlines_.find(id);
  if (it == deadlines_.end()) return false;
  pending_.erase(std::pair(it->second, id));
  deadlines_.erase(it);
  return true;
}

void DeadlineTimer::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (pending_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto first = pending_.begin();
    // A copy: wait_until reads the deadline again after waking, when cancel() may have erased
    // the entry that holds it.
    const Clock::time_point deadline = first->first.first;
    if (Clock::now() < deadline) {
      wake_.wait_until(lock, deadline);
      continue;  // woken early (new earlier deadline, cancel, stop) or on time: look again
    }
    auto callback = std::move(first->second);
    deadlines_.erase(first->first.second);
    pending_.erase(first);
    lock.unlock();
    callback();
    lock.lock();
  }
}

}  // namespace sluice
