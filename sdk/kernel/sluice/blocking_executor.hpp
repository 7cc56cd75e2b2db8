// sluice/blocking_executor.hpp — the runtime's side of sluice::io::run_blocking. Not a public
// SDK header (not installed, not seen by components): only the kernel installs an executor.
#pragma once

#include <functional>

namespace sluice::io {

// Installs the executor run_blocking uses (nullptr restores inline).
using BlockingExecutor = void (*)(const std::function<void()>& work);
void set_blocking_executor(BlockingExecutor executor);

}  // namespace sluice::io
