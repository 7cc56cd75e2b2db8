#include "runtime/stream_table.hpp"

#include <cstdio>
#include <random>

namespace sluice {

namespace {
std::uint32_t process_prefix() {
  static const std::uint32_t prefix = std::random_device{}();
  return prefix;
}
}  // namespace

std::string StreamTable::open(std::string_view graph, std::size_t accepted) {
  StreamResult pending;
  pending.graph = std::string(graph);
  pending.accepted = accepted;
  pending.submitted = std::chrono::system_clock::now();
  std::lock_guard lock(mutex_);
  char id[32];
  std::snprintf(id, sizeof id, "%08x%08llx", process_prefix(),
                static_cast<unsigned long long>(++next_));
  pending.id = id;
  streams_.emplace(id, std::make_shared<const StreamResult>(std::move(pending)));
  return id;
}

void StreamTable::close(std::shared_ptr<const StreamResult> result) {
  std::lock_guard lock(mutex_);
  finished_order_.push_back(result->id);
  streams_.insert_or_assign(result->id, std::move(result));
  while (finished_order_.size() > history_) {
    streams_.erase(finished_order_.front());
    finished_order_.pop_front();
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
  copy.error_count = error_count;
  for (const auto& e : errors) copy.errors.push_back({e.node, e.message, e.packet.clone()});
  for (const auto& p : results) copy.results.push_back(p.clone());
  copy.results_truncated = results_truncated;
  copy.submitted = submitted;
  copy.finished = finished;
  return copy;
}

}  // namespace sluice
