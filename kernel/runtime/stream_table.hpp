// StreamTable — every submission's status, for GET /v1/streams/{id} and `?wait=true`.
//
// A stream is opened (pending) when the runtime admits a submission and closed (done) by the
// worker that ran it. Finished streams are kept for lookups, the oldest forgotten first; the
// packets they hold (results, failed packets) are bounded in bytes, the oldest let go first.
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
  StreamTable(std::size_t history, std::size_t max_packet_bytes)
      : history_(history), max_packet_bytes_(max_packet_bytes) {}

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
  std::size_t max_packet_bytes_;
  // Pending streams hold a result with no packets yet; results are immutable once done.
  std::unordered_map<std::string, std::shared_ptr<const StreamResult>> streams_;
  struct Finished {
    std::string id;
    std::size_t packet_bytes;  // 0 once released
  };
  std::deque<Finished> finished_order_;
  std::size_t packet_bytes_ = 0;      // held by the finished streams
  std::size_t first_unreleased_ = 0;  // index into finished_order_: those before hold no packets
};

}  // namespace sluice
