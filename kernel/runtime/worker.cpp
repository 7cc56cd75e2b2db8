#include "runtime/worker.hpp"

#include <boost/fiber/operations.hpp>

#include "runtime/fiber_stacks.hpp"
#include "runtime/topological_scheduler.hpp"

namespace sluice {

namespace {
thread_local bool is_worker_thread = false;
}

Worker::Worker(std::size_t index) : index_(index), thread_([this] { run(); }) {}

Worker::~Worker() { stop(); }

void Worker::post(std::function<void()> task) { tasks_.push(std::move(task)); }

void Worker::stop() {
  tasks_.close();
  if (thread_.joinable()) thread_.join();
}

bool Worker::on_worker_thread() { return is_worker_thread; }

void Worker::run() {
  is_worker_thread = true;
  fiber_stacks::use_alternate_signal_stack();
  boost::fibers::use_scheduling_algorithm<TopologicalScheduler>();
  std::function<void()> task;
  while (tasks_.pop(task) == boost::fibers::channel_op_status::success) task();
}

}  // namespace sluice
