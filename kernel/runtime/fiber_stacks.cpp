#include "runtime/fiber_stacks.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>

namespace sluice::fiber_stacks {

namespace {

// What the fault handler reads: it may not allocate or lock. A slot is claimed by CAS on
// `taken`; `low`/`high` (the guard region) are published last and cleared first.
struct GuardRecord {
  std::atomic<bool> taken{false};
  std::atomic<std::uintptr_t> low{0};
  std::atomic<std::uintptr_t> high{0};
  std::size_t usable_bytes = 0;
  char owner[160] = {};
};
// Fibers beyond this many still have their guard; an overflow in one is then reported unnamed.
constexpr std::size_t max_records = 4096;
std::array<GuardRecord, max_records> records;

struct sigaction previous_segv {};
struct sigaction previous_bus {};
std::once_flag handler_installed;

void write_all(const char* text, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(STDERR_FILENO, text, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text += n;
    size -= static_cast<std::size_t>(n);
  }
}

void report_overflow(const GuardRecord* record) {
  char message[512];
  int length;
  if (record)
    length = std::snprintf(message, sizeof message,
                           "sluice: fatal: fiber stack overflow in node %s (its stack is %zu KiB; raise "
                           "--fiber-stack-kib, or bound the recursion)\n",
                           record->owner, record->usable_bytes >> 10);
  else
    length = std::snprintf(message, sizeof message,
                           "sluice: fatal: fiber stack overflow (raise --fiber-stack-kib, or bound the "
                           "recursion)\n");
  if (length > 0) write_all(message, std::min(static_cast<std::size_t>(length), sizeof message - 1));
}

void on_fault(int signal, siginfo_t* info, void* context) {
  const auto address = reinterpret_cast<std::uintptr_t>(info ? info->si_addr : nullptr);
  bool in_guard = false;
  const GuardRecord* owner = nullptr;
  for (const GuardRecord& record : records) {
    const std::uintptr_t low = record.low.load(std::memory_order_acquire);
    if (low != 0 && address >= low && address < record.high.load(std::memory_order_acquire)) {
      in_guard = true;
      owner = &record;
      break;
    }
  }
  if (in_guard) report_overflow(owner);
  // Then whatever would have happened without this handler (the plugin crash report, then the
  // default action): the previous handler is called here, still on the signal stack.
  const struct sigaction& previous = signal == SIGSEGV ? previous_segv : previous_bus;
  if (previous.sa_flags & SA_SIGINFO) {
    previous.sa_sigaction(signal, info, context);
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(signal);
  } else {
    // Returning runs the faulting instruction again, which now takes the default action.
    ::sigaction(signal, &previous, nullptr);
  }
}

void install_handler() {
  struct sigaction action {};
  action.sa_sigaction = &on_fault;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGSEGV, &action, &previous_segv);
  ::sigaction(SIGBUS, &action, &previous_bus);
}

std::size_t page_size() {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

std::size_t round_up(std::size_t bytes, std::size_t unit) { return (bytes + unit - 1) / unit * unit; }

// The thread's signal stack; disabled before it is freed at thread exit.
struct AlternateSignalStack {
  static constexpr std::size_t size = 64 << 10;  // the crash report's backtrace needs some room
  std::unique_ptr<char[]> memory;
  ~AlternateSignalStack() {
    if (!memory) return;
    stack_t disable{};
    disable.ss_flags = SS_DISABLE;
    ::sigaltstack(&disable, nullptr);
  }
};

}  // namespace

GuardedStack::GuardedStack(std::size_t usable_bytes, std::string owner)
    : usable_bytes_(round_up(usable_bytes, page_size())), owner_(std::move(owner)) {}

boost::context::stack_context GuardedStack::allocate() {
  const std::size_t guard = round_up(guard_bytes, page_size());
  const std::size_t total = guard + usable_bytes_;
  void* base = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  // Stacks grow down: the guard is the lowest part of the mapping.
  if (::mprotect(base, guard, PROT_NONE) != 0) {
    ::munmap(base, total);
    throw std::bad_alloc();
  }
  const auto low = reinterpret_cast<std::uintptr_t>(base);
  for (GuardRecord& record : records) {
    bool expected = false;
    if (!record.taken.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) continue;
    record.usable_bytes = usable_bytes_;
    std::snprintf(record.owner, sizeof record.owner, "%s", owner_.c_str());
    record.high.store(low + guard, std::memory_order_release);
    record.low.store(low, std::memory_order_release);
    break;
  }
  boost::context::stack_context context;
  context.size = total;
  context.sp = static_cast<char*>(base) + total;
  return context;
}

void GuardedStack::deallocate(boost::context::stack_context& context) noexcept {
  void* base = static_cast<char*>(context.sp) - context.size;
  // Found by address: Boost.Fiber deallocates through its own copy of this allocator.
  for (GuardRecord& record : records) {
    if (record.low.load(std::memory_order_acquire) != reinterpret_cast<std::uintptr_t>(base)) continue;
    record.low.store(0, std::memory_order_release);
    record.high.store(0, std::memory_order_release);
    record.taken.store(false, std::memory_order_release);
    break;
  }
  ::munmap(base, context.size);
}

void use_alternate_signal_stack() {
  std::call_once(handler_installed, install_handler);
  thread_local AlternateSignalStack stack;
  if (stack.memory) return;
  stack.memory = std::make_unique<char[]>(AlternateSignalStack::size);
  stack_t alternate{};
  alternate.ss_sp = stack.memory.get();
  alternate.ss_size = AlternateSignalStack::size;
  ::sigaltstack(&alternate, nullptr);
}

}  // namespace sluice::fiber_stacks
