// TopologicalScheduler — the Boost.Fiber scheduling algorithm of a worker thread (Pypes' name).
//
// Every fiber has a rank: a node's position in its graph's topological order (downstream =
// higher), 0 for the worker's control and ingress fibers. The ready fiber with the highest rank
// runs first, so packets already in a graph drain towards its sinks before a source takes the
// next packet and before the ingress admits new input: in-flight packets stay within the edge
// capacities under any load. Equal ranks run in FIFO order.
//
// With nothing ready the thread sleeps on a condition variable (no spinning) until a timer
// is due or another thread makes one of its fibers ready (notify()).
#pragma once

#include <array>
#include <cstdint>
#include <boost/fiber/algo/algorithm.hpp>
#include <boost/fiber/properties.hpp>
#include <boost/fiber/scheduler.hpp>
#include <condition_variable>
#include <mutex>

namespace sluice {

class FiberRank : public boost::fibers::fiber_properties {
 public:
  static constexpr int max_rank = 255;
  explicit FiberRank(boost::fibers::context* ctx) : fiber_properties(ctx) {}
  int rank() const { return rank_; }
  void set_rank(int rank);

 private:
  int rank_ = 0;
};

class TopologicalScheduler final
    : public boost::fibers::algo::algorithm_with_properties<FiberRank> {
 public:
  void awakened(boost::fibers::context* ctx, FiberRank& props) noexcept override;
  boost::fibers::context* pick_next() noexcept override;
  bool has_ready_fibers() const noexcept override { return ready_count_ > 0; }
  void property_change(boost::fibers::context* ctx, FiberRank& props) noexcept override;
  void suspend_until(std::chrono::steady_clock::time_point const& until) noexcept override;
  void notify() noexcept override;

 private:
  using ReadyQueue = boost::fibers::scheduler::ready_queue_type;
  static constexpr int words = (FiberRank::max_rank + 1) / 64;
  void mark(int rank, bool nonempty);

  std::array<ReadyQueue, FiberRank::max_rank + 1> ready_;
  // Bit r set: ready_[r] is not empty. Finding the highest rank is a count of leading zeros.
  std::array<std::uint64_t, words> nonempty_{};
  std::size_t ready_count_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool notified_ = false;
};

}  // namespace sluice
