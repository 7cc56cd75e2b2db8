// DeadLetterStore — packets that failed in a node with no `error` edge, per graph.
// Bounded in letters and in bytes: past either bound the oldest letters are dropped and
// counted, never memory without end.
//
// With a journal file (sluice serve: <state-dir>/dead-letters/<graph>.jsonl) the letters
// survive a restart, `kill -9` included: every change is appended to it as one JSON line
// ({"add": id, "node", "error", "when", "packet": envelope} or {"remove": [ids]}) before the
// call returns, and the file is rewritten with only the letters held once it has more than
// twice as many records as letters (so it stays within about twice the letters' bound). A torn last line (a crash in the middle of a write) is skipped at load.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/runtime.hpp"

namespace sluice {

class DeadLetterStore {
 public:
  // `journal` empty: in memory only. Otherwise the letters it holds are loaded (within the
  // bounds); a journal that cannot be read or written is logged, and the store goes on in memory.
  DeadLetterStore(std::size_t capacity, std::size_t capacity_bytes, std::filesystem::path journal = {});
  ~DeadLetterStore();
  DeadLetterStore(const DeadLetterStore&) = delete;
  DeadLetterStore& operator=(const DeadLetterStore&) = delete;

  void add(std::string node, std::string error, Packet&& packet);
  std::vector<DeadLetter> list() const;  // copies
  // Removes and returns the letters with these ids (all of them when `ids` is empty).
  std::vector<DeadLetter> take(const std::vector<std::uint64_t>& ids);
  // Returns taken letters (a replay that was refused) as they were, ids and order kept.
  void put_back(std::vector<DeadLetter>&& letters);
  std::size_t size() const;
  std::uint64_t dropped() const;
  // The graph is gone for good (deleted): its journal file goes too.
  void discard_journal();

 private:
  void load();
  void append_locked(const std::string& lines);
  void compact_locked();
  void evict_locked(std::string& journal_lines);  // drops the oldest beyond the bounds

  mutable std::mutex mutex_;
  std::size_t capacity_, capacity_bytes_;
  std::size_t bytes_ = 0;  // packet_bytes of the letters held
  std::uint64_t next_id_ = 1;
  std::uint64_t dropped_ = 0;
  std::deque<DeadLetter> letters_;
  std::filesystem::path journal_;
  int journal_fd_ = -1;
  std::size_t journal_records_ = 0;  // lines in the journal file
};

}  // namespace sluice
