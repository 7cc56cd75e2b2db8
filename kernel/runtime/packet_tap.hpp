// PacketTap — a copy of the packets that pass one output port, for a reader to look at (the
// live tap of GET /v1/graphs/{g}/tap and of the editor's debug sidebar).
//
//   auto tap = runtime.tap("enrich", "parse", "out", {.packets_per_second = 50});
//   ... every 100 ms, on the reader's thread:
//   for (const std::string& event : tap->take()) send(event);   // {"seq": …, "packet": {…}}
//   if (tap->closed()) finish(tap->close_reason());             // "redeployed", …
//   tap->close("client gone");                                  // the reader is done
//
// A tap must never hold the graph up: the worker that emits a packet pays one atomic
// increment, and while the rate limit holds packets back, one read of the coarse clock; only
// packets within the limits take the lock and are copied (as JSON text) into a bounded
// buffer; what does not fit is dropped and counted, never waited for (tools/bench/bench_tap
// measures the cost). The TapBoard of a deployed graph version holds its taps and closes them when
// that version stops (redeploy, undeploy, shutdown).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/packet.hpp>

namespace sluice {

struct TapLimits {
  std::size_t sample_every = 1;      // one packet in this many is looked at
  double packets_per_second = 100;   // of those, at most this many are copied...
  double bytes_per_second = 1 << 20; // ...and at most this much JSON text
  std::size_t max_buffered_bytes = std::size_t{1} << 20;  // copied, not yet taken by the reader
};

struct TapCounts {
  std::uint64_t seen = 0;          // packets that passed the port
  std::uint64_t sampled_out = 0;   // skipped by `sample_every`
  std::uint64_t over_rate = 0;     // dropped: above the packet or byte rate
  std::uint64_t over_buffer = 0;   // dropped: the reader's buffer was full
  std::uint64_t copied = 0;        // handed to the reader
};

class TapBoard;

class PacketTap {
 public:
  PacketTap(std::size_t node, std::size_t port, TapLimits limits);

  std::size_t node() const { return node_; }
  std::size_t port() const { return port_; }

  // On a worker thread: a packet passed the port.
  void offer(const Packet& packet);
  // The events copied since the last call, oldest first: {"seq": n, "packet": envelope}
  // with `seq` the packet's number among those seen (gaps are what was skipped).
  std::vector<std::string> take();
  TapCounts counts() const;

  // No more packets; idempotent, the first reason stays. Any thread.
  void close(std::string_view reason);
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  std::string close_reason() const;

 private:
  friend class TapBoard;
  bool mark_closed(std::string_view reason);  // true for the call that closed it

  const std::size_t node_, port_;
  const TapLimits limits_;
  std::atomic<std::uint64_t> seen_{0};
  // CLOCK_MONOTONIC_COARSE, ns: before this the buckets are known to be empty (lock-free).
  std::atomic<std::int64_t> empty_until_{0};
  mutable std::mutex mutex_;
  std::uint64_t copied_ = 0, over_buffer_ = 0;  // the rest of the sampled: over the rate
  double packet_tokens_, byte_tokens_;
  std::int64_t refilled_;
  std::vector<std::string> events_;
  std::size_t buffered_bytes_ = 0;
  std::string close_reason_;
  std::atomic<bool> closed_{false};
  std::weak_ptr<TapBoard> board_;  // detached from it on close()
};

// The taps of one deployed graph version, by (node, out port) — `error` is the last port of
// each node. Shared by the version's instances.
class TapBoard : public std::enable_shared_from_this<TapBoard> {
 public:
  // `ports_per_node[i]`: the out ports of node i, `error` included.
  explicit TapBoard(const std::vector<std::size_t>& ports_per_node);

  // The hot path of every emit: one relaxed load.
  bool watched(std::size_t node, std::size_t port) const {
    return watchers_[first_slot_[node] + port].load(std::memory_order_relaxed) != 0;
  }
  void offer(std::size_t node, std::size_t port, const Packet& packet);

  // A tap attached after close_all() (a redeploy raced with it) ends at once.
  void attach(const std::shared_ptr<PacketTap>& tap);
  void detach(const PacketTap* tap);
  // The version stops: every tap ends with `reason`.
  void close_all(std::string_view reason);

 private:
  std::vector<std::size_t> first_slot_;
  std::unique_ptr<std::atomic<std::uint32_t>[]> watchers_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<PacketTap>> taps_;
  std::string closed_reason_;  // set by close_all()
};

}  // namespace sluice
