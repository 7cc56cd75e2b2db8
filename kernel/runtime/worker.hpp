// Worker — one thread running the TopologicalScheduler; its main fiber executes tasks posted
// from other threads (starting graph instances), while the instances' fibers do the work.
// Blocking work of its components (io::run_blocking) goes to the pool its runtime gave it.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <boost/fiber/buffered_channel.hpp>
#include <functional>
#include <thread>

namespace sluice {

class Worker {
 public:
  Worker(std::size_t index, boost::asio::thread_pool& blocking_pool);
  ~Worker();  // stop()
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs `task` on the worker thread (in order of posting). May be called from any thread but
  // a worker's.
  void post(std::function<void()> task);
  // Finishes the posted tasks and joins the thread; the caller drains the graphs first.
  void stop();
  std::size_t index() const { return index_; }

  // On a worker thread, the pool its blocking work goes to; null on any other thread.
  static boost::asio::thread_pool* blocking_pool_of_this_thread();

 private:
  void run();

  std::size_t index_;
  boost::asio::thread_pool& blocking_pool_;
  boost::fibers::buffered_channel<std::function<void()>> tasks_{64};
  std::thread thread_;
};

}  // namespace sluice
