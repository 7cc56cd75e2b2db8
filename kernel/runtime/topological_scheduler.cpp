#include "runtime/topological_scheduler.hpp"

#include <algorithm>
#include <bit>
#include <boost/fiber/context.hpp>

namespace sluice {

void FiberRank::set_rank(int rank) {
  rank = std::clamp(rank, 0, max_rank);
  if (rank == rank_) return;
  rank_ = rank;
  notify();  // re-queues the fiber at its new rank if it is ready
}

void TopologicalScheduler::mark(int rank, bool nonempty) {
  const std::uint64_t bit = std::uint64_t{1} << (rank % 64);
  if (nonempty)
    nonempty_[rank / 64] |= bit;
  else
    nonempty_[rank / 64] &= ~bit;
}

void TopologicalScheduler::awakened(boost::fibers::context* ctx, FiberRank& props) noexcept {
  const int rank = props.rank();
  ctx->ready_link(ready_[rank]);
  mark(rank, true);
  ++ready_count_;
}

boost::fibers::context* TopologicalScheduler::pick_next() noexcept {
  if (ready_count_ == 0) return nullptr;
  for (int word = words - 1; word >= 0; --word) {
    if (!nonempty_[word]) continue;
    const int rank = word * 64 + 63 - std::countl_zero(nonempty_[word]);
    ReadyQueue& queue = ready_[rank];
    boost::fibers::context* ctx = &queue.front();
    queue.pop_front();
    if (queue.empty()) mark(rank, false);
    --ready_count_;
    return ctx;
  }
  return nullptr;
}

void TopologicalScheduler::property_change(boost::fibers::context* ctx, FiberRank& props) noexcept {
  if (!ctx->ready_is_linked()) return;  // not ready: the new rank applies when it is
  for (int rank = 0; rank <= FiberRank::max_rank; ++rank) {
    ReadyQueue& queue = ready_[rank];
    auto it = std::find_if(queue.begin(), queue.end(),
                           [ctx](const boost::fibers::context& c) { return &c == ctx; });
    if (it == queue.end()) continue;
    queue.erase(it);
    if (queue.empty()) mark(rank, false);
    --ready_count_;
    break;
  }
  awakened(ctx, props);
}

void TopologicalScheduler::suspend_until(std::chrono::steady_clock::time_point const& until) noexcept {
  std::unique_lock lock(mutex_);
  if (until == std::chrono::steady_clock::time_point::max())
    wake_.wait(lock, [this] { return notified_; });
  else
    wake_.wait_until(lock, until, [this] { return notified_; });
  notified_ = false;
}

void TopologicalScheduler::notify() noexcept {
  {
    std::lock_guard lock(mutex_);
    notified_ = true;
  }
  wake_.notify_all();
}

}  // namespace sluice
