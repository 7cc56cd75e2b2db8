// StreamTable — every submission's status, for GET /v1/streams/{id} and `?wait=true`.
//
// A stream is opened (pending) when the runtime admits a submission and closed (done) by the
// worker that ran it. Finished streams are kept for lookups, the oldest forgotten first.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "runtime/runtime.hpp"

namespace sluice {

class StreamTable {
 public:
  explicit StreamTable(std::size_t history) : history_(history) {}

  // Registers a pending stream and returns its id (unique across processes in practice:
  // a random per-process prefix and a counter).
  std::string open(std::string_view graph, std::size_t accepted);
  void close(std::shared_ptr<const StreamResult> result);
  // Forgets a stream that was opened but then not admitted.
  void discard(std::string_view id);
  std::optional<StreamResult> find(std::string_view id) const;

 private:
  mutable std::mutex mutex_;
  std::size_t history_;
  // Pending streams hold a result with no packets yet; results are immutable once done.
  std::unordered_map<std::string, std::shared_ptr<const StreamResult>> streams_;
  std::deque<std::string> finished_order_;
};

}  // namespace sluice
