#include "sluice/io.hpp"

#include "sluice/blocking_executor.hpp"

#include <atomic>

namespace sluice::io {

namespace {
// Shared by the kernel and every plugin: libsluice-sdk is one shared library in the process.
std::atomic<BlockingExecutor> blocking_executor{nullptr};
}  // namespace

void run_blocking(const std::function<void()>& work) {
  if (BlockingExecutor executor = blocking_executor.load(std::memory_order_acquire))
    executor(work);
  else
    work();
}

void set_blocking_executor(BlockingExecutor executor) {
  blocking_executor.store(executor, std::memory_order_release);
}

}  // namespace sluice::io
