#include "durability/durable_ingest.hpp"

#include <fstream>
#include <memory>
#include <thread>

#include <sluice/json.hpp>

namespace sluice {

namespace {

// As many as the runtime keeps finished streams, with room for those still pending.
const std::size_t durable_streams_remembered = RuntimeOptions{}.finished_stream_history * 10;

}  // namespace

DurableIngest::DurableIngest(Runtime& runtime, WriteAheadLogOptions log_options, std::filesystem::path lost_dir)
    : runtime_(runtime), log_(std::move(log_options), found_), lost_dir_(std::move(lost_dir)) {
  // With nothing to replay there is no window in which a new submission must wait.
  recovered_ = found_.pending.empty();
}

DurableIngest::~DurableIngest() { runtime_.shutdown(); }

Admission DurableIngest::submit_logged(std::uint64_t id, const std::string& graph, std::vector<Packet>&& packets,
                                       StreamCallback on_done, const std::string& node) {
  Admission admission = runtime_.submit(
      graph, std::move(packets),
      [this, id, on_done = std::move(on_done)](const StreamResult& result) {
        log_.append_completion(id);
        if (on_done) on_done(result);
      },
      node);
  if (admission.status == Admission::Status::accepted) remember_durable(admission.stream_id);
  return admission;
}

void DurableIngest::submit(const std::string& graph, std::vector<Packet>&& packets, StreamCallback on_done,
                           const std::string& node, const std::vector<std::string_view>& field_texts,
                           OnAdmitted on_admitted) {
  // A submission the runtime refuses (no such graph, or full now) is answered without being
  // logged: the log would otherwise write its body only to complete it.
  Admission now = runtime_.precheck(graph, node, packets.size());
  if (now.status != Admission::Status::accepted) {
    on_admitted({.admission = std::move(now)});
    return;
  }
  // The packets wait in here for the record to be durable (perhaps on the sync thread).
  struct Held {
    std::string graph, node;
    std::vector<Packet> packets;
    StreamCallback on_done;
    OnAdmitted on_admitted;
  };
  auto held = std::make_shared<Held>(Held{graph, node, std::move(packets), std::move(on_done), std::move(on_admitted)});
  // Recorded so that a replay can tell whether the graph changed since (RecoveryReport).
  log_.append_submission(graph, node, now.plan->version, held->packets, field_texts, [this, held](const WalAppend& logged) {
    if (!logged.error.empty()) {
      held->on_admitted({.admission = {}, .log_error = logged.error, .log_full = logged.full});
      return;
    }
    const Admission admission =
        submit_logged(logged.id, held->graph, std::move(held->packets), std::move(held->on_done), held->node);
    // Its caller is told to retry: never replay it.
    if (admission.status != Admission::Status::accepted) log_.append_completion(logged.id);
    held->on_admitted({.admission = admission});
  });
}

RecoveryReport DurableIngest::recover() {
  RecoveryReport report{.torn = found_.torn, .corrupt = found_.corrupt, .lines = std::move(found_.warnings)};
  for (auto& submission : found_.pending) {
    const std::size_t packets = submission.packets.size();
    Admission admission;
    // A refused submission keeps its packets, so a full graph is simply tried again.
    while ((admission = submit_logged(submission.id, submission.graph, std::move(submission.packets), {},
                                      submission.node))
               .status == Admission::Status::overloaded)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // the graph drains meanwhile
    switch (admission.status) {
      case Admission::Status::accepted:
        note_graph_change(submission, report);
        ++report.replayed;
        report.replayed_packets += packets;
        continue;
      case Admission::Status::shutting_down:
        return report;  // the rest stays in the log for the next start
      default:
        break;
    }
    const std::string reason =
        admission.status == Admission::Status::no_such_graph   ? "graph '" + submission.graph + "' is not deployed"
        : admission.status == Admission::Status::no_entry_node ? "graph '" + submission.graph + "' takes no posted data"
                                                                : "graph '" + submission.graph + "' has no node '" + submission.node + "'";
    const std::string what = "logged submission " + std::to_string(submission.id) + " (" +
                             std::to_string(packets) + " packets) cannot be replayed: " + reason;
    try {
      report.lines.push_back(what + "; its packets are in " + keep_lost(submission));
      ++report.lost;
      log_.append_completion(submission.id);
    } catch (const std::exception& e) {
      report.lines.push_back(what + "; it stays in the log (" + e.what() + ")");
    }
  }
  found_.pending.clear();
  recovered_ = true;
  return report;
}

void DurableIngest::note_graph_change(const LoggedSubmission& submission, RecoveryReport& report) const {
  const std::shared_ptr<const GraphPlan> plan = runtime_.graph(submission.graph);
  // The version it was accepted for is the one deployed: nothing to say. (An older log
  // records none; a graph that is gone is reported as lost below.)
  if (!plan || submission.version.empty() || plan->version == submission.version) return;
  ++report.replayed_into_changed;
  report.lines.push_back("logged submission " + std::to_string(submission.id) + " was accepted for version " +
                         submission.version + " of graph '" + submission.graph + "', which is now version " +
                         plan->version + ": it goes to the graph as it is now");
}

bool DurableIngest::durable(std::string_view stream_id) const {
  std::lock_guard lock(durable_mutex_);
  return durable_streams_.contains(std::string(stream_id));
}

bool DurableIngest::above(double fraction) const {
  const std::uint64_t limit = log_.options().max_bytes;
  return limit > 0 && static_cast<double>(log_.stats().bytes) > fraction * static_cast<double>(limit);
}

void DurableIngest::remember_durable(const std::string& stream_id) {
  std::lock_guard lock(durable_mutex_);
  if (!durable_streams_.insert(stream_id).second) return;
  durable_order_.push_back(stream_id);
  if (durable_order_.size() > durable_streams_remembered) {
    durable_streams_.erase(durable_order_.front());
    durable_order_.pop_front();
  }
}

std::string DurableIngest::keep_lost(const LoggedSubmission& submission) {
  std::filesystem::create_directories(lost_dir_);
  const auto file = lost_dir_ / (submission.graph + "-" + std::to_string(submission.id) + ".ndjson");
  std::ofstream out(file, std::ios::binary);
  std::string line;
  for (const auto& packet : submission.packets) {
    line.clear();
    json::write_envelope(packet, line);
    out << line << '\n';
  }
  out.close();
  if (!out) throw std::system_error(errno, std::generic_category(), "cannot write " + file.string());
  return file.string();
}

}  // namespace sluice
