#include "runtime/worker.hpp"

#include <boost/fiber/operations.hpp>

#include "runtime/fiber_stacks.hpp"
#include "runtime/topological_scheduler.hpp"

namespace sluice {

namespace {
thread_local boost::asio::thread_pool* this_thread_blocking_pool = nullptr;
}

Worker::Worker(std::size_t index, boost::asio::thread_pool& blocking_pool)
    : index_(index), blocking_pool_(blocking_pool), thread_([this] { run(); }) {}

Worker::~Worker() { stop(); }

void Worker::post(std::function<void()> task) { tasks_.push(std::move(task)); }

void Worker::stop() {
  tasks_.close();
  if (thread_.joinable()) thread_.join();
}

boost::asio::thread_pool* Worker::blocking_pool_of_this_thread() { return this_thread_blocking_pool; }

void Worker::run() {
  this_thread_blocking_pool = &blocking_pool_;
  fiber_stacks::use_alternate_signal_stack();
  boost::fibers::use_scheduling_algorithm<TopologicalScheduler>();
  std::function<void()> task;
  while (tasks_.pop(task) == boost::fibers::channel_op_status::success) task();
}

}  // namespace sluice
