#include "runtime/stream_table.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

namespace sluice {

namespace {
// 128 bits from the kernel's CSPRNG, as 32 hex digits: ids nobody can guess or enumerate.
std::string random_stream_id() {
  unsigned char bytes[16];
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes))
    throw std::system_error(errno, std::generic_category(), "getrandom");
  char id[2 * sizeof bytes + 1];
  for (std::size_t i = 0; i < sizeof bytes; ++i) std::snprintf(id + 2 * i, 3, "%02x", bytes[i]);
  return id;
}
}  // namespace

std::string StreamTable::open(std::string_view graph, std::size_t accepted) {
  StreamResult pending;
  pending.graph = std::string(graph);
  pending.accepted = accepted;
  pending.submitted = std::chrono::system_clock::now();
  std::string id = random_stream_id();
  pending.id = id;
  std::lock_guard lock(mutex_);
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
