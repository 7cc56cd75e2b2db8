// DeadLetterStore — packets that failed in a node with no `error` edge, per graph.
// Bounded: past capacity the oldest letter is dropped and counted, never memory without end.
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
  explicit DeadLetterStore(std::size_t capacity) : capacity_(capacity) {}

  void add(std::string node, std::string error, Packet&& packet);
  std::vector<DeadLetter> list() const;  // copies
  // Removes and returns the letters with these ids (all of them when `ids` is empty).
  std::vector<DeadLetter> take(const std::vector<std::uint64_t>& ids);
  std::size_t size() const;
  std::uint64_t dropped() const;

 private:
  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::uint64_t next_id_ = 1;
  std::uint64_t dropped_ = 0;
  std::deque<DeadLetter> letters_;
};

}  // namespace sluice
