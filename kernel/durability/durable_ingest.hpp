// DurableIngest — submissions through the write-ahead log into the runtime: logged first,
// submitted once the record is durable, marked complete when their stream is done.
//
//   DurableIngest ingest(runtime, {.dir = "var/wal"}, "var/lost", recovery);
//   const auto report = ingest.recover();          // before new input: what an earlier run left
//   ingest.submit("g", std::move(packets), on_done, "", [](IngestOutcome&& o) { answer(o); });
//   ingest.durable(stream_id);                      // for GET /v1/streams/{id}
//
// A submission the runtime refuses now (no such graph or node, or a graph already full) is
// answered without being logged (Runtime::precheck); one refused after it was logged (the
// graph filled or changed in between) gets its completion record at once, so it is never
// replayed: its caller was told to retry. On recovery a submission whose graph
// (or target node) is gone cannot be replayed: its packets are written as NDJSON envelopes to
// `lost_dir/<graph>-<id>.ndjson` and the reason is reported.
#pragma once

#include <atomic>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "durability/write_ahead_log.hpp"
#include "runtime/runtime.hpp"

namespace sluice {

struct IngestOutcome {
  Admission admission;          // what the runtime said, when the log took the submission
  std::string log_error = {};   // non-empty: the log did not take it (nothing was submitted)
  bool log_full = false;        // the log is at its size limit: retry once older work is done
};

struct RecoveryReport {
  std::size_t replayed = 0;         // submissions resubmitted
  std::size_t replayed_packets = 0;
  // Of those, the ones whose graph changed (GraphPlan::version) since they were accepted: they
  // go into the graph as deployed now, the only version there is after a restart.
  std::size_t replayed_into_changed = 0;
  std::size_t lost = 0;             // submissions whose graph or node is gone
  std::size_t torn = 0, corrupt = 0;
  std::vector<std::string> lines;   // warnings and losses, one line each
};

class DurableIngest {
 public:
  using OnAdmitted = std::function<void(IngestOutcome&&)>;

  // Opens (and reads) the log; throws std::system_error naming a file it cannot use.
  DurableIngest(Runtime& runtime, WriteAheadLogOptions log_options, std::filesystem::path lost_dir);
  // Shuts the runtime down first: its completions are written to this log.
  ~DurableIngest();
  DurableIngest(const DurableIngest&) = delete;
  DurableIngest& operator=(const DurableIngest&) = delete;

  // Resubmits every logged submission that has no completion record, in log order, waiting
  // while a graph is full. Call once, after the graphs are deployed; until it returns,
  // recovered() is false (unless there was nothing to replay) and submit() must wait.
  RecoveryReport recover();
  bool recovered() const { return recovered_; }

  // Logs, then submits into `graph` (or `node`); `on_admitted` runs once, on this thread or
  // on the log's sync thread (SyncPolicy::every_append). `on_done` as for Runtime::submit,
  // after the completion record is written. `field_texts` as for
  // WriteAheadLog::append_submission (read during this call only).
  void submit(const std::string& graph, std::vector<Packet>&& packets, StreamCallback on_done,
              const std::string& node, const std::vector<std::string_view>& field_texts, OnAdmitted on_admitted);

  bool durable(std::string_view stream_id) const;
  // The log's bytes are above `fraction` of its limit (never without a limit).
  bool above(double fraction) const;
  WalStats stats() const { return log_.stats(); }
  bool sync() { return log_.sync(); }

 private:
  // A line in `report` when the graph's version is not the one `submission` was accepted for.
  void note_graph_change(const LoggedSubmission& submission, RecoveryReport& report) const;
  // Submits a logged submission and writes its completion record when the stream is done,
  // or at once when refused.
  Admission submit_logged(std::uint64_t id, const std::string& graph, std::vector<Packet>&& packets,
                          StreamCallback on_done, const std::string& node);
  void remember_durable(const std::string& stream_id);
  std::string keep_lost(const LoggedSubmission& submission);  // the file written

  Runtime& runtime_;
  WalRecovery found_;  // filled by the log's constructor, consumed by recover()
  WriteAheadLog log_;
  std::filesystem::path lost_dir_;
  std::atomic<bool> recovered_{false};
  // Stream ids of logged submissions, the most recent first out last (bounded: the runtime
  // forgets old streams too).
  mutable std::mutex durable_mutex_;
  std::unordered_set<std::string> durable_streams_;
  std::deque<std::string> durable_order_;
};

}  // namespace sluice
