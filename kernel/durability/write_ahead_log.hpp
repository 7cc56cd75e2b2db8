// WriteAheadLog — submissions written to disk before they are answered, so that an accepted
// submission survives the process being killed; completion records say which ones are done.
//
//   WalRecovery recovery;
//   WriteAheadLog log({.dir = "var/wal"}, recovery);     // reads what an earlier run left
//   for (auto& s : recovery.pending) resubmit(s.graph, s.node, std::move(s.packets), s.id);
//   log.append_submission("g", "", version, packets, [](const WalAppend& a) { if (a.error.empty()) answer(); });
//   log.append_completion(id);                           // the stream is done
//
// On disk: `dir` holds segments `<20-digit number>.wal`, appended to in order and rotated
// before they would pass `segment_bytes`. A record is
//   magic "SWAL" | body length u32 | XXH3-64 of the body u64 | body
// (little-endian), the body being `type u8 | id u64 | ...`: a submission carries the graph,
// the target node, the graph's version, the meta every one of its packets has with the same value (REST's route,
// method and processing time; a JSON object, once) and its packets as NDJSON envelopes
// (json::write_envelope) without that shared meta; a completion only the id. XXH3 (libxxhash, already a dependency of the bundled plugins) rather than a
// hand-rolled CRC32C: no table code of our own, many GB/s, and 64 bits of detection.
//
// Durability: every append is one write(2) — once it returns, a killed process loses nothing.
// `periodic`: the answer follows the write and a thread fdatasyncs at least every
// `sync_interval`; `every_append`: the answer waits for the fdatasync that covers the record,
// and concurrent appends share one sync (group commit). A segment is deleted once every
// submission in it is complete and every older segment is gone (completion records of older
// segments' submissions may live in it, so segments go oldest first).
//
// One process at a time: the directory's `lock` file is flock(2)ed while the log is open.
//
// Recovery reads every segment in order: a record cut short at the end of the newest segment
// (a torn tail) is dropped with a warning and cut off the file; a damaged record elsewhere is
// skipped up to the next intact record (found by its magic and checksum) and counted.
// Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <sluice/packet.hpp>

namespace sluice {

enum class SyncPolicy {
  periodic,      // answer after write(2); fdatasync at least every sync_interval
  every_append,  // answer after the fdatasync (group commit)
};

struct WriteAheadLogOptions {
  std::filesystem::path dir;  // created when missing
  std::uint64_t segment_bytes = std::uint64_t{64} << 20;  // at most a quarter of max_bytes
  // Appends that would take the segments past this many bytes are refused (0: no limit).
  std::uint64_t max_bytes = 0;
  SyncPolicy sync = SyncPolicy::periodic;
  std::chrono::milliseconds sync_interval{1000};
  // For power-loss tests: after every successful fdatasync of a segment, a line
  // `<segment file name> <bytes synced>` is appended here (empty: not kept). Cutting each
  // segment back to its last line is what a power cut could leave.
  std::filesystem::path sync_journal = {};
};

// A submission read back from the log that has no completion record.
struct LoggedSubmission {
  std::uint64_t id = 0;
  std::string graph;
  std::string node = {};     // empty: the graph's source nodes
  std::string version = {};  // of the graph when it was accepted (GraphPlan::version); "": an older log
  std::vector<Packet> packets = {};
};

struct WalRecovery {
  std::vector<LoggedSubmission> pending;  // in the order they were logged
  std::size_t torn = 0;                   // records cut short at the end of the log
  std::size_t corrupt = 0;                // damaged records skipped elsewhere
  std::vector<std::string> warnings;      // one per torn or damaged stretch, naming file and offset
};

struct WalAppend {
  std::uint64_t id = 0;  // the submission's id in the log (0 when refused)
  std::string error = {};  // empty: durable; else why not (limit reached, a failed write or sync)
  bool full = false;     // refused for the max_bytes limit: retry once older work completes
};

// Upper bounds of the fdatasync latency histogram's buckets, in microseconds (100 µs to 1 s;
// /metrics gives them in seconds, as Prometheus's `le`).
inline constexpr std::array<std::uint64_t, 12> wal_sync_bucket_bounds_us = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000};

struct WalStats {
  std::uint64_t bytes = 0;     // in the segments on disk
  std::uint64_t segments = 0;
  std::uint64_t pending = 0;   // submissions logged and not complete
  std::uint64_t records_written = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t syncs = 0;
  std::uint64_t sync_nanoseconds = 0;  // total time spent in fdatasync
  // Syncs by latency: [i] took at most wal_sync_bucket_bounds_us[i] and more than the bound
  // before it; the last, more than the largest bound.
  std::array<std::uint64_t, wal_sync_bucket_bounds_us.size() + 1> syncs_by_latency = {};
  std::uint64_t recovered = 0;         // submissions found pending at open
  std::uint64_t torn = 0, corrupt = 0;  // as found at open
};

class WriteAheadLog {
 public:
  using OnDurable = std::function<void(const WalAppend&)>;

  // Reads the segments of an earlier run into `recovery` and starts a new segment. Throws
  // std::system_error naming the file that cannot be read or written.
  WriteAheadLog(WriteAheadLogOptions options, WalRecovery& recovery);
  ~WriteAheadLog();  // syncs and closes
  WriteAheadLog(const WriteAheadLog&) = delete;
  WriteAheadLog& operator=(const WriteAheadLog&) = delete;

  // Writes a submission record for `graph` (or its `node`) at `version` (GraphPlan::version;
  // "" when unknown). `on_durable` runs once: on this thread before the return
  // (periodic policy, or when refused), or on the sync thread after the covering fdatasync.
  // `field_texts`, when not empty, holds for each packet one line of JSON that parses to its
  // fields (the NDJSON line it was read from): copied into the record, not written again.
  void append_submission(std::string_view graph, std::string_view node, std::string_view version,
                         const std::vector<Packet>& packets, const std::vector<std::string_view>& field_texts,
                         OnDurable on_durable);
  // Records that a submission is done (also one refused downstream after it was logged). A
  // record that cannot be written now (a full disk) is written before the next record that
  // can: until then the submission counts as pending and its segment stays.
  void append_completion(std::uint64_t id);
  // fdatasyncs what is written now, in every segment; false when that failed.
  bool sync();

  WalStats stats() const;
  const WriteAheadLogOptions& options() const { return options_; }

 private:
  struct Segment;
  struct Waiter {
    std::uint64_t id;
    OnDurable on_durable;
  };

  void recover(WalRecovery& recovery);
  void open_new_segment();  // under mutex_
  // Leaves the current segment for a new one; the sync thread syncs the one left. Under mutex_.
  void move_to_new_segment();
  // left_unsynced_, emptied, without the segments deleted since. Under mutex_.
  std::vector<std::shared_ptr<Segment>> take_left_unsynced();
  // One write(2) of a whole record into the current segment (rotating first when needed);
  // an empty string on success, else the reason. Under mutex_.
  std::string write_record(const std::string& record);
  void delete_finished_segments();  // under mutex_
  // Writes the completion records owed, oldest first, up to the first that fails. Under mutex_.
  void write_owed_completions();
  // fdatasyncs `segment`, then notes `size` (what it held when the sync began) in the sync
  // journal; false when the sync failed.
  bool sync_segment(const Segment& segment, std::uint64_t size);
  // Whether `bytes` more stay within max_bytes, after moving on from a current segment of
  // finished work only. Under mutex_.
  bool fits(std::uint64_t bytes);
  void sync_loop();

  WriteAheadLogOptions options_;
  int lock_fd_ = -1;  // flock(2)ed: one process per log
  int sync_journal_fd_ = -1;
  mutable std::mutex mutex_;
  std::condition_variable sync_wanted_;
  std::shared_ptr<Segment> current_;
  // Every segment on disk, oldest first, with its number of pending submissions.
  std::map<std::uint64_t, std::uint64_t> pending_in_segment_;
  std::map<std::uint64_t, std::uint64_t> segment_bytes_;
  std::unordered_map<std::uint64_t, std::uint64_t> segment_of_pending_;  // id → segment number
  std::atomic<std::uint64_t> next_id_{1};  // taken before the lock: file order may differ from id order
  std::uint64_t next_segment_ = 1;
  std::uint64_t total_bytes_ = 0;
  bool unsynced_ = false;
  // Segments left for a newer one with writes not yet synced. The sync thread syncs them with
  // the current one, outside mutex_: a rotation that synced under it held every append for as
  // long as the disk took to write up to segment_bytes (tens of milliseconds and more).
  std::vector<std::shared_ptr<Segment>> left_unsynced_;
  bool stopping_ = false;
  std::vector<Waiter> waiting_for_sync_;
  std::vector<std::uint64_t> owed_completions_;  // ids whose completion record failed to write
  WalStats counters_;
  std::thread sync_thread_;
};

}  // namespace sluice
