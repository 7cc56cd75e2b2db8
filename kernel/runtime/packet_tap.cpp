#include "runtime/packet_tap.hpp"

#include <time.h>

#include <algorithm>

#include <sluice/json.hpp>

namespace sluice {

namespace {

// A clock read of a few ns (no system call, a few ms resolution): the buckets' time.
std::int64_t coarse_now_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

}  // namespace

PacketTap::PacketTap(std::size_t node, std::size_t port, TapLimits limits)
    : node_(node),
      port_(port),
      limits_(limits),
      packet_tokens_(limits.packets_per_second),
      byte_tokens_(limits.bytes_per_second),
      refilled_(coarse_now_ns()) {}

void PacketTap::offer(const Packet& packet) {
  const std::uint64_t seq = seen_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (seq % limits_.sample_every != 0) return;
  const std::int64_t now = coarse_now_ns();
  if (now < empty_until_.load(std::memory_order_relaxed)) return;  // over the rate
  std::lock_guard lock(mutex_);
  // Token buckets holding at most one second's worth: a burst after a quiet spell is bounded.
  const double elapsed = static_cast<double>(std::max<std::int64_t>(0, now - refilled_)) / 1e9;
  refilled_ = std::max(refilled_, now);
  packet_tokens_ = std::min(limits_.packets_per_second, packet_tokens_ + elapsed * limits_.packets_per_second);
  byte_tokens_ = std::min(limits_.bytes_per_second, byte_tokens_ + elapsed * limits_.bytes_per_second);
  if (packet_tokens_ < 1 || byte_tokens_ <= 0) {
    // Empty until the packet bucket holds one again and the byte bucket is above zero.
    const double wait = std::max((1 - packet_tokens_) / limits_.packets_per_second,
                                 (1 - byte_tokens_) / limits_.bytes_per_second);
    empty_until_.store(now + static_cast<std::int64_t>(wait * 1e9), std::memory_order_relaxed);
    return;
  }
  std::string event = "{\"seq\": " + std::to_string(seq) + ", \"packet\": ";
  json::write_envelope(packet, event);
  event += '}';
  // The bytes are known only now: the bucket may go below zero, and then the next packets
  // wait until it has refilled.
  packet_tokens_ -= 1;
  byte_tokens_ -= static_cast<double>(event.size());
  if (buffered_bytes_ + event.size() > limits_.max_buffered_bytes) {
    ++over_buffer_;
    return;
  }
  buffered_bytes_ += event.size();
  ++copied_;
  events_.push_back(std::move(event));
}

std::vector<std::string> PacketTap::take() {
  std::lock_guard lock(mutex_);
  buffered_bytes_ = 0;
  return std::exchange(events_, {});
}

TapCounts PacketTap::counts() const {
  std::lock_guard lock(mutex_);
  TapCounts counts;
  counts.seen = seen_.load(std::memory_order_relaxed);
  counts.sampled_out = counts.seen - counts.seen / limits_.sample_every;
  counts.copied = copied_;
  counts.over_buffer = over_buffer_;
  // A packet being offered right now may be counted here for a moment before it is copied.
  counts.over_rate = counts.seen - counts.sampled_out - copied_ - over_buffer_;
  return counts;
}

bool PacketTap::mark_closed(std::string_view reason) {
  std::lock_guard lock(mutex_);
  if (closed_.load(std::memory_order_relaxed)) return false;
  close_reason_ = reason;
  closed_.store(true, std::memory_order_release);
  return true;
}

void PacketTap::close(std::string_view reason) {
  if (!mark_closed(reason)) return;
  if (auto board = board_.lock()) board->detach(this);
}

std::string PacketTap::close_reason() const {
  std::lock_guard lock(mutex_);
  return close_reason_;
}

TapBoard::TapBoard(const std::vector<std::size_t>& ports_per_node) {
  std::size_t slots = 0;
  for (std::size_t ports : ports_per_node) {
    first_slot_.push_back(slots);
    slots += ports;
  }
  watchers_ = std::make_unique<std::atomic<std::uint32_t>[]>(slots);
}

void TapBoard::offer(std::size_t node, std::size_t port, const Packet& packet) {
  std::lock_guard lock(mutex_);
  for (const auto& tap : taps_)
    if (tap->node() == node && tap->port() == port) tap->offer(packet);
}

void TapBoard::attach(const std::shared_ptr<PacketTap>& tap) {
  std::lock_guard lock(mutex_);
  if (!closed_reason_.empty()) {
    tap->mark_closed(closed_reason_);
    return;
  }
  tap->board_ = weak_from_this();
  taps_.push_back(tap);
  watchers_[first_slot_[tap->node()] + tap->port()].fetch_add(1, std::memory_order_relaxed);
}

void TapBoard::detach(const PacketTap* tap) {
  std::lock_guard lock(mutex_);
  const auto it = std::find_if(taps_.begin(), taps_.end(), [tap](const auto& t) { return t.get() == tap; });
  if (it == taps_.end()) return;
  watchers_[first_slot_[tap->node()] + tap->port()].fetch_sub(1, std::memory_order_relaxed);
  taps_.erase(it);
}

void TapBoard::close_all(std::string_view reason) {
  std::lock_guard lock(mutex_);
  closed_reason_ = reason;
  for (const auto& tap : taps_) {
    tap->mark_closed(reason);
    watchers_[first_slot_[tap->node()] + tap->port()].fetch_sub(1, std::memory_order_relaxed);
  }
  taps_.clear();
}

}  // namespace sluice
