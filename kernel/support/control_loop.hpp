// ControlLoop — the server's control work on one Boost.Asio io_context: jobs that run one
// after another (deploys, removals, redeploys after a plugin change), callbacks at deadlines
// (`?wait=true` timeouts, the taps' pumps) and periodic tasks (the stall watchdog). Threads
// of their own for each of those used to sit idle side by side.
//
//   ControlLoop loop;                                   // two threads
//   loop.post_job([&] { graphs.put(name, yaml); });      // after the jobs posted before it
//   auto id = loop.schedule(ControlLoop::Clock::now() + 5s, [] { answer_504(); });
//   loop.cancel(id);                                    // true: it had not run, it will not
//   auto tick = loop.every(250ms, [&] { sample(); });
//   loop.cancel_and_wait(tick);                         // not running now, never again
//
// Jobs run one at a time, in order; timer callbacks (deadlines and periodic tasks) run one at
// a time too, but beside the jobs, on the loop's other thread: a deploy that takes seconds
// does not hold up a timeout. Both must not block for long. An exception out of a job or a
// callback is logged and the loop goes on.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace sluice {

class ControlLoop {
 public:
  using Clock = std::chrono::steady_clock;
  using TimerId = std::uint64_t;

  ControlLoop();
  ~ControlLoop();  // stop()
  ControlLoop(const ControlLoop&) = delete;
  ControlLoop& operator=(const ControlLoop&) = delete;

  // Runs `job` after the jobs posted before it. False (and `job` is dropped) once stopped.
  bool post_job(std::function<void()> job);
  // Waits until the jobs posted before this call have run. Not from a job.
  void wait_for_jobs();
  // Runs `callback` once at `deadline`.
  TimerId schedule(Clock::time_point deadline, std::function<void()> callback);
  // Runs `task` every `period`, the first time one period from now.
  TimerId every(Clock::duration period, std::function<void()> task);
  // True when the callback was still waiting: it will not run now (a periodic task: not again).
  bool cancel(TimerId id);
  // cancel(), then waits for a run of the callback in progress to end. Not from a callback.
  void cancel_and_wait(TimerId id);
  // Runs the jobs posted already, drops the timers, joins the threads. Idempotent; not from
  // the loop's own threads.
  void stop();

 private:
  struct Timer;
  // Registers an expiry-set timer and waits for it; its id.
  TimerId start(std::shared_ptr<Timer> timer);
  void arm(TimerId id, const std::shared_ptr<Timer>& timer);
  void fire(TimerId id, const std::shared_ptr<Timer>& timer);

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::strand<boost::asio::io_context::executor_type> jobs_;
  boost::asio::strand<boost::asio::io_context::executor_type> timers_;
  std::mutex mutex_;
  std::map<TimerId, std::shared_ptr<Timer>> waiting_;  // scheduled, not yet run (or periodic)
  TimerId next_id_ = 0;
  bool stopped_ = false;
  std::vector<std::thread> threads_;  // last: started once everything above exists
};

}  // namespace sluice
