#include "support/control_loop.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>

#include <array>
#include <future>
#include <string>

#include "support/log.hpp"

namespace sluice {

struct ControlLoop::Timer {
  explicit Timer(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
  std::function<void()> callback;
  Clock::duration period{};  // zero: once
};

struct ControlLoop::Watch {
  Watch(boost::asio::io_context& io, int fd) : descriptor(io, fd), deadline(io) {}
  // The descriptor is the caller's: never closed here (end() released it, unless the loop had
  // stopped before the watch began).
  ~Watch() { descriptor.release(); }
  // On the watches' strand: ends the wait for data and the deadline, and takes the descriptor
  // out of the reactor. Before unwatch() returns, since the caller may close the descriptor
  // then: a handler still queued holds this object, and its release later would race that
  // close (and could drop a new descriptor of the same number from the reactor).
  void end() {
    deadline.cancel();
    descriptor.release();  // cancels the read too
  }
  boost::asio::posix::stream_descriptor descriptor;
  boost::asio::steady_timer deadline;
  ReadHandler handler;
  std::string data;                  // read since the last call
  std::array<char, 64 * 1024> chunk;  // more than a whole inotify event
};

namespace {

// Jobs and callbacks answer their own errors; one that escapes must not end a loop thread.
void run_guarded(const std::function<void()>& work, const char* what) {
  try {
    work();
  } catch (const std::exception& e) {
    log::error("{} failed: {}", what, e.what());
  }
}

}  // namespace

ControlLoop::ControlLoop()
    : work_(io_.get_executor()), jobs_(io_.get_executor()), timers_(io_.get_executor()), watches_(io_.get_executor()) {
  for (int i = 0; i < 3; ++i) threads_.emplace_back([this] { io_.run(); });
}

ControlLoop::~ControlLoop() { stop(); }

bool ControlLoop::post_job(std::function<void()> job) {
  std::lock_guard lock(mutex_);
  if (stopped_) return false;
  boost::asio::post(jobs_, [job = std::move(job)] { run_guarded(job, "control job"); });
  return true;
}

void ControlLoop::wait_for_jobs() {
  std::promise<void> done;
  if (!post_job([&done] { done.set_value(); })) return;  // stopped: stop() ran them all
  done.get_future().wait();
}

ControlLoop::TimerId ControlLoop::schedule(Clock::time_point deadline, std::function<void()> callback) {
  auto timer = std::make_shared<Timer>(io_);
  timer->callback = std::move(callback);
  timer->timer.expires_at(deadline);
  return start(std::move(timer));
}

ControlLoop::TimerId ControlLoop::every(Clock::duration period, std::function<void()> task) {
  auto timer = std::make_shared<Timer>(io_);
  timer->callback = std::move(task);
  timer->period = period;
  timer->timer.expires_after(period);
  return start(std::move(timer));
}

ControlLoop::TimerId ControlLoop::start(std::shared_ptr<Timer> timer) {
  std::lock_guard lock(mutex_);
  const TimerId id = ++next_id_;
  if (stopped_) return id;  // dropped, as stop() drops the waiting ones
  waiting_.emplace(id, timer);
  arm(id, timer);
  return id;
}

void ControlLoop::arm(TimerId id, const std::shared_ptr<Timer>& timer) {
  timer->timer.async_wait(boost::asio::bind_executor(timers_, [this, id, timer](const boost::system::error_code& ec) {
    if (!ec) fire(id, timer);
  }));
}

void ControlLoop::fire(TimerId id, const std::shared_ptr<Timer>& timer) {
  {
    // The timer may have been cancelled after it expired and before this ran.
    std::lock_guard lock(mutex_);
    const auto it = waiting_.find(id);
    if (it == waiting_.end()) return;
    if (timer->period == Clock::duration::zero()) waiting_.erase(it);
  }
  run_guarded(timer->callback, "control timer");
  if (timer->period == Clock::duration::zero()) return;
  std::lock_guard lock(mutex_);
  if (!waiting_.contains(id)) return;  // cancelled while it ran
  timer->timer.expires_at(timer->timer.expiry() + timer->period);
  arm(id, timer);
}

bool ControlLoop::cancel(TimerId id) {
  std::lock_guard lock(mutex_);
  const auto it = waiting_.find(id);
  if (it == waiting_.end()) return false;
  it->second->timer.cancel();
  waiting_.erase(it);
  return true;
}

void ControlLoop::cancel_and_wait(TimerId id) {
  cancel(id);
  // Timer callbacks run one at a time on the timers' strand: once this marker has run there,
  // none that started before it is still running.
  std::promise<void> passed;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;  // the threads are joined or joining: nothing runs any more
    boost::asio::post(timers_, [&passed] { passed.set_value(); });
  }
  passed.get_future().wait();
}

ControlLoop::WatchId ControlLoop::watch_readable(int fd, ReadHandler handler) {
  auto watch = std::make_shared<Watch>(io_, fd);
  watch->handler = std::move(handler);
  watch->descriptor.non_blocking(true);  // the reads after the first stop at EAGAIN
  std::lock_guard lock(mutex_);
  const WatchId id = ++next_id_;
  if (stopped_) return id;
  watched_.emplace(id, watch);
  boost::asio::post(watches_, [this, id, watch] {
    call(id, watch);
    read(id, watch);
  });
  return id;
}

bool ControlLoop::watching(WatchId id) {
  std::lock_guard lock(mutex_);
  return watched_.contains(id);
}

void ControlLoop::call(WatchId id, const std::shared_ptr<Watch>& watch) {
  if (!watching(id)) return;
  std::optional<Clock::time_point> next;
  run_guarded([&] { next = watch->handler(watch->data); }, "watch handler");
  watch->data.clear();
  if (!next) {
    watch->deadline.cancel();
    return;
  }
  watch->deadline.expires_at(*next);  // a wait for the previous deadline ends, aborted
  watch->deadline.async_wait(boost::asio::bind_executor(watches_, [this, id, watch](const boost::system::error_code& ec) {
    if (!ec) call(id, watch);
  }));
}

void ControlLoop::read(WatchId id, const std::shared_ptr<Watch>& watch) {
  if (!watching(id)) return;
  // Reading (not only waiting for readability) here: the reactor is edge-triggered, and a
  // read is retried at once when data came in since the last one.
  watch->descriptor.async_read_some(
      boost::asio::buffer(watch->chunk),
      boost::asio::bind_executor(watches_, [this, id, watch](const boost::system::error_code& ec, std::size_t n) {
        if (ec) {
          if (ec != boost::asio::error::operation_aborted)
            log::error("a watched descriptor cannot be read, no longer watched: {}", ec.message());
          return;
        }
        watch->data.append(watch->chunk.data(), n);
        // Everything there is, for one call: a burst of file events makes one rescan.
        for (boost::system::error_code more; !more;) {
          n = watch->descriptor.read_some(boost::asio::buffer(watch->chunk), more);
          if (!more) watch->data.append(watch->chunk.data(), n);
        }
        call(id, watch);
        read(id, watch);
      }));
}

void ControlLoop::unwatch(WatchId id) {
  std::promise<void> passed;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;  // the threads are joined or joining: nothing runs any more
    // Handlers run one at a time on the watches' strand: once this has run there, none is
    // running, and none starts later (call() and read() look for the id first).
    boost::asio::post(watches_, [this, id, &passed] {
      std::shared_ptr<Watch> watch;
      {
        std::lock_guard lock(mutex_);
        if (const auto it = watched_.find(id); it != watched_.end()) {
          watch = it->second;
          watched_.erase(it);
        }
      }
      if (watch) watch->end();
      passed.set_value();
    });
  }
  passed.get_future().wait();
}

void ControlLoop::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& [id, timer] : waiting_) timer->timer.cancel();
    waiting_.clear();
    // A read waiting for data would keep run() going for ever.
    boost::asio::post(watches_, [watches = std::move(watched_)] {
      for (const auto& [id, watch] : watches) watch->end();
    });
    watched_.clear();
  }
  // The jobs posted already still run; with no work left, run() returns on both threads.
  work_.reset();
  for (auto& thread : threads_) thread.join();
}

}  // namespace sluice
