// ControlLoop — the server's control work on one Boost.Asio io_context: jobs that run one
// after another (deploys, removals, redeploys after a plugin change), callbacks at deadlines
// (`?wait=true` timeouts, the taps' pumps), periodic tasks (the stall watchdog) and watched
// descriptors (inotify on the plugin and graph directories). Threads of their own for each of
// those used to sit idle side by side.
//
//   ControlLoop loop;                                   // three threads
//   loop.post_job([&] { graphs.put(name, yaml); });      // after the jobs posted before it
//   auto id = loop.schedule(ControlLoop::Clock::now() + 5s, [] { answer_504(); });
//   loop.cancel(id);                                    // true: it had not run, it will not
//   auto tick = loop.every(250ms, [&] { sample(); });
//   loop.cancel_and_wait(tick);                         // not running now, never again
//   auto watch = loop.watch_readable(fd, [&](std::string_view data) { return handle(data); });
//   loop.unwatch(watch);                                // not running now, never again
//
// Jobs run one at a time, in order; timer callbacks (deadlines and periodic tasks) run one at
// a time too, but beside the jobs: a deploy that takes seconds does not hold up a timeout.
// Watch handlers run one at a time, beside both (the loop has a thread for each of the three):
// a plugin rescan a file change starts may probe for seconds, and neither a deploy nor a
// timeout waits for it. A job holds up the later jobs, a timer callback the other timers, a
// watch handler the other watches. An exception out of a job, a callback or a handler is
// logged and the loop goes on.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

namespace sluice {

class ControlLoop {
 public:
  using Clock = std::chrono::steady_clock;
  using TimerId = std::uint64_t;
  using WatchId = std::uint64_t;
  // Is given what a watched descriptor had to read (all of it, read until it would block;
  // nothing on the first call and when the deadline passed), and returns when to be called
  // again should nothing arrive before (nullopt: only when something does).
  using ReadHandler = std::function<std::optional<Clock::time_point>(std::string_view data)>;

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
  // Calls `handler` once at once, then each time `fd` has data to read or the deadline the
  // handler returned passes, until unwatch(). `fd` stays the caller's (it is not closed here)
  // and must yield whole records per read(2), as inotify and pipes of small writes do.
  WatchId watch_readable(int fd, ReadHandler handler);
  // No call of the handler runs once this returns. Not from a handler.
  void unwatch(WatchId id);
  // Runs the jobs posted already, drops the timers and watches, joins the threads. Idempotent; not from
  // the loop's own threads.
  void stop();

 private:
  struct Timer;
  // Registers an expiry-set timer and waits for it; its id.
  TimerId start(std::shared_ptr<Timer> timer);
  void arm(TimerId id, const std::shared_ptr<Timer>& timer);
  void fire(TimerId id, const std::shared_ptr<Timer>& timer);
  struct Watch;
  // On the watches' strand: the handler's call with what was read, and the next read.
  void call(WatchId id, const std::shared_ptr<Watch>& watch);
  void read(WatchId id, const std::shared_ptr<Watch>& watch);
  bool watching(WatchId id);

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::strand<boost::asio::io_context::executor_type> jobs_;
  boost::asio::strand<boost::asio::io_context::executor_type> timers_;
  boost::asio::strand<boost::asio::io_context::executor_type> watches_;
  std::mutex mutex_;
  std::map<TimerId, std::shared_ptr<Timer>> waiting_;  // scheduled, not yet run (or periodic)
  std::map<WatchId, std::shared_ptr<Watch>> watched_;
  std::uint64_t next_id_ = 0;  // timers and watches
  bool stopped_ = false;
  std::vector<std::thread> threads_;  // last: started once everything above exists
};

}  // namespace sluice
