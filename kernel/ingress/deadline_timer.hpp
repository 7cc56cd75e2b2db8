// DeadlineTimer — runs callbacks at deadlines on one thread of its own: the `?wait=true`
// timeouts of the REST ingress (Pistache has no timer to offer for this).
//
//   DeadlineTimer timer;
//   auto id = timer.schedule(Clock::now() + 5s, [] { answer_504(); });
//   timer.cancel(id);   // the stream finished first (false when the callback already ran)
//
// Callbacks run one at a time on the timer's thread and must be short. The destructor stops
// the thread; callbacks still scheduled then are dropped without running.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace sluice {

class DeadlineTimer {
 public:
  using Clock = std::chrono::steady_clock;
  using Id = std::uint64_t;

  DeadlineTimer();
  ~DeadlineTimer();
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  Id schedule(Clock::time_point deadline, std::function<void()> callback);
  // True when the callback was still waiting (it will not run now).
  bool cancel(Id id);

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  // Ordered by deadline, then by id (ids rise), so equal deadlines fire in schedule order.
  std::map<std::pair<Clock::time_point, Id>, std::function<void()>> pending_;
  std::map<Id, Clock::time_point> deadlines_;
  Id next_id_ = 0;
  bool stopping_ = false;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace sluice
