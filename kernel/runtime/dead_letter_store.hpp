// DeadLetterStore — packets that failed in a node with no `error` edge, per graph.
// Bounded in letters and in bytes: past either bound the oldest letters are dropped and
// counted, never memory without end.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/runtime.hpp"

namespace sluice {

class DeadLetterStore {
 public:
  DeadLetterStore(std::size_t capacity, std::size_t capacity_bytes)
      : capacity_(capacity), capacity_bytes_(capacity_bytes) {}

  void add(std::string node, std::string error, Packet&& packet);
  std::vector<DeadLetter> list() const;  // copies
  // Removes and returns the letters with these ids (all of them when `ids` is empty).
  std::vector<DeadLetter> take(const std::vector<std::uint64_t>& ids);
  std::size_t size() const;
  std::uint64_t dropped() const;

 private:
  mutable std::mutex mutex_;
  std::size_t capacity_, capacity_bytes_;
  std::size_t bytes_ = 0;  // packet_bytes of the letters held
  std::uint64_t next_id_ = 1;
  std::uint64_t dropped_ = 0;
  std::deque<DeadLetter> letters_;
};

}  // namespace sluice
