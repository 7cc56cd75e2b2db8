#include "runtime/stream_table.hpp"

#include "runtime/packet_bytes.hpp"
#include "support/ids.hpp"

namespace sluice {

namespace {
// The packets a finished stream keeps.
std::size_t kept_bytes(const StreamResult& result) {
  std::size_t bytes = 0;
  for (const Packet& p : result.results) bytes += packet_bytes(p);
  for (const StreamError& e : result.errors) bytes += packet_bytes(e.packet);
  return bytes;
}

// The stream as it is kept once its packets are let go.
std::shared_ptr<const StreamResult> without_packets(const StreamResult& result) {
  StreamResult kept;
  kept.id = result.id;
  kept.graph = result.graph;
  kept.state = result.state;
  kept.accepted = result.accepted;
  kept.sinks = result.sinks;
  kept.dropped = result.dropped;
  kept.dropped_at = result.dropped_at;
  kept.error_count = result.error_count;
  for (const auto& e : result.errors) kept.errors.push_back({e.node, e.message, Packet()});
  kept.results_truncated = result.results_truncated;
  kept.packets_released = true;
  kept.results_released = result.results.size();
  kept.submitted = result.submitted;
  kept.finished = result.finished;
  return std::make_shared<const StreamResult>(std::move(kept));
}

}  // namespace

std::string StreamTable::open(std::string_view graph, std::size_t accepted) {
  StreamResult pending;
  pending.graph = std::string(graph);
  pending.accepted = accepted;
  pending.submitted = std::chrono::system_clock::now();
  std::string id = random_id();
  pending.id = id;
  std::lock_guard lock(mutex_);
  streams_.emplace(id, std::make_shared<const StreamResult>(std::move(pending)));
  return id;
}

void StreamTable::close(std::shared_ptr<const StreamResult> result) {
  // Measured outside the lock: the result is immutable.
  const std::size_t bytes = history_ == 0 ? 0 : kept_bytes(*result);
  std::lock_guard lock(mutex_);
  finished_order_.push_back({result->id, bytes});
  packet_bytes_ += bytes;
  streams_.insert_or_assign(result->id, std::move(result));
  while (finished_order_.size() > history_) {
    streams_.erase(finished_order_.front().id);
    packet_bytes_ -= finished_order_.front().packet_bytes;
    finished_order_.pop_front();
    if (first_unreleased_ > 0) --first_unreleased_;
  }
  // The oldest let their packets go first; the newest keeps its own whatever its size, for
  // the caller polling it right after a timed-out wait.
  while (packet_bytes_ > max_packet_bytes_ && first_unreleased_ + 1 < finished_order_.size()) {
    Finished& oldest = finished_order_[first_unreleased_++];
    if (oldest.packet_bytes == 0) continue;
    auto& kept = streams_.at(oldest.id);
    kept = without_packets(*kept);
    packet_bytes_ -= oldest.packet_bytes;
    oldest.packet_bytes = 0;
  }
}

void StreamTable::discard(std::string_view id) {
  std::lock_guard lock(mutex_);
  streams_.erase(std::string(id));
}

std::optional<StreamResult> StreamTable::find(std::string_view id) const {
  std::shared_ptr<const StreamResult> found;
  {
    std::lock_guard lock(mutex_);
    auto it = streams_.find(std::string(id));
    if (it == streams_.end()) return std::nullopt;
    found = it->second;
  }
  return found->clone();
}

StreamResult StreamResult::clone() const {
  StreamResult copy;
  copy.id = id;
  copy.graph = graph;
  copy.state = state;
  copy.accepted = accepted;
  copy.sinks = sinks;
  copy.dropped = dropped;
  copy.dropped_at = dropped_at;
  copy.error_count = error_count;
  for (const auto& e : errors) copy.errors.push_back({e.node, e.message, e.packet.clone()});
  for (const auto& p : results) copy.results.push_back(p.clone());
  copy.results_truncated = results_truncated;
  copy.packets_released = packets_released;
  copy.results_released = results_released;
  copy.submitted = submitted;
  copy.finished = finished;
  return copy;
}

}  // namespace sluice
