#pragma once
// Fiber stacks that cannot overflow in silence.
//
// Boost.Fiber's default stack is 128 KiB of heap with nothing below it: a component that
// recurses too deep writes over whatever the allocator put there. Every node's fiber gets a
// stack of a configured size (`--fiber-stack-kib`) with an inaccessible guard region below it,
// so an overflow faults at once; the fault handler (on its own signal stack, as the fiber's is
// used up) then names the node whose stack it was before the process dies as it would have.

#include <boost/context/stack_context.hpp>

#include <cstddef>
#include <string>

namespace sluice::fiber_stacks {

// 1 MiB; an ASan build's frames are larger (its instrumentation keeps more in them), so it gets
// more for the same recursion depth (JSON 512 levels deep on a node's fiber).
#if defined(__SANITIZE_ADDRESS__)
inline constexpr std::size_t default_stack_bytes = 4 << 20;
#else
inline constexpr std::size_t default_stack_bytes = 1 << 20;
#endif
// Larger than one page so that a frame with a big local array still lands in it.
inline constexpr std::size_t guard_bytes = 64 << 10;

// A Boost.Context StackAllocator: `usable_bytes` of stack above `guard_bytes` of PROT_NONE,
// mapped on allocate() (pages become resident only as the fiber touches them). `owner` names
// the stack in the overflow report ("graph/node").
class GuardedStack {
 public:
  GuardedStack(std::size_t usable_bytes, std::string owner);
  boost::context::stack_context allocate();
  void deallocate(boost::context::stack_context& context) noexcept;

 private:
  std::size_t usable_bytes_;
  std::string owner_;
};

// Gives the calling thread an alternate signal stack (kept until the thread exits), so that
// the fault handler can run when a fiber on it has used up its own stack.
void use_alternate_signal_stack();

}  // namespace sluice::fiber_stacks
