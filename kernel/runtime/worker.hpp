// Worker — one thread running the TopologicalScheduler; its main fiber executes tasks posted
// from other threads (starting graph instances), while the instances' fibers do the work.
#pragma once

#include <boost/fiber/buffered_channel.hpp>
#include <functional>
#include <thread>

namespace sluice {

class Worker {
 public:
  explicit Worker(std::size_t index);
  ~Worker();  // stop()
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs `task` on the worker thread (in order of posting). May be called from any thread but
  // a worker's.
  void post(std::function<void()> task);
  // Finishes the posted tasks and joins the thread; the caller drains the graphs first.
  void stop();
  std::size_t index() const { return index_; }

  // True on a worker thread (blocking work is then moved to the I/O pool).
  static bool on_worker_thread();

 private:
  void run();

  std::size_t index_;
  boost::fibers::buffered_channel<std::function<void()>> tasks_{64};
  std::thread thread_;
};

}  // namespace sluice
