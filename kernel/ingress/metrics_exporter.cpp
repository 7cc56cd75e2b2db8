// GET /metrics: the server's counters in Prometheus' text format (version 0.0.4).
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "ingress/rest_call.hpp"

namespace sluice {

namespace {

std::string label_value(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

struct Sample {
  std::string labels;  // `graph="g",node="n"` or empty
  std::string value;
  std::string suffix = {};  // after the family's name: a histogram's `_bucket`, `_sum`, `_count`
};

void append_family(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help, const std::vector<Sample>& samples) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  for (const auto& sample : samples) {
    out += name;
    out += sample.suffix;
    if (!sample.labels.empty()) out += '{' + sample.labels + '}';
    out += ' ';
    out += sample.value;
    out += '\n';
  }
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

std::uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size_pages = 0, resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

// One sample a node of every graph: graph, node and component labels.
template <class ValueOf>
void append_node_family(std::string& out, const std::vector<GraphStats>& graphs, std::string_view name,
                        std::string_view type, std::string_view help, ValueOf value_of) {
  std::vector<Sample> samples;
  for (const auto& graph : graphs)
    for (const auto& node : graph.nodes)
      samples.push_back({"graph=\"" + label_value(graph.graph) + "\",node=\"" + label_value(node.node) +
                             "\",component=\"" + label_value(node.component) + '"',
                         value_of(node)});
  append_family(out, name, type, help, samples);
}

// One sample a graph: the graph label.
template <class ValueOf>
void append_graph_family(std::string& out, const std::vector<GraphStats>& graphs, std::string_view name,
                         std::string_view type, std::string_view help, ValueOf value_of) {
  std::vector<Sample> samples;
  for (const auto& graph : graphs) samples.push_back({"graph=\"" + label_value(graph.graph) + '"', value_of(graph)});
  append_family(out, name, type, help, samples);
}

void append_node_families(std::string& out, const std::vector<GraphStats>& graphs) {
  using N = const NodeStats&;
  const auto node_family = [&](std::string_view name, std::string_view type, std::string_view help, auto value_of) {
    append_node_family(out, graphs, name, type, help, value_of);
  };
  node_family("sluice_node_packets_in_total", "counter", "Packets a node took in.",
              [](N n) { return std::to_string(n.in); });
  node_family("sluice_node_packets_out_total", "counter", "Packets a node emitted to its data ports (once each).",
              [](N n) { return std::to_string(n.out); });
  node_family("sluice_node_errors_total", "counter", "Packets a node failed on.",
              [](N n) { return std::to_string(n.errors); });
  node_family("sluice_node_dropped_total", "counter",
              "Packets a node emitted to unwired ports or filtered out.",
              [](N n) { return std::to_string(n.dropped); });
  node_family("sluice_node_queue_depth", "gauge", "Packets waiting on a node's inputs, all instances.",
              [](N n) { return std::to_string(n.queue_depth); });
  node_family("sluice_node_queue_bytes", "gauge", "Memory taken by the packets waiting on a node's inputs.",
              [](N n) { return std::to_string(n.queue_bytes); });
  node_family("sluice_node_busy_seconds_total", "counter", "Time spent inside the component.",
              [](N n) { return number(static_cast<double>(n.busy_ns) / 1e9); });
  node_family("sluice_node_stalled", "gauge",
              "1 while a node is busy with one packet for longer than its timeout (it holds its worker).",
              [](N n) { return std::string(n.stalled ? "1" : "0"); });
  node_family("sluice_node_host_failures_total", "counter",
              "Crashes and hangs of an isolation: process node's host processes (0 in the kernel's process).",
              [](N n) { return std::to_string(n.host_failures); });
}

// `degraded`: the graphs that run a component whose plugin file is gone.
void append_graph_families(std::string& out, const std::vector<GraphStats>& graphs,
                           const std::set<std::string, std::less<>>& degraded) {
  using G = const GraphStats&;
  const auto graph_family = [&](std::string_view name, std::string_view type, std::string_view help, auto value_of) {
    append_graph_family(out, graphs, name, type, help, value_of);
  };
  graph_family("sluice_graph_instances", "gauge", "Parallel instances of a graph.",
               [](G g) { return std::to_string(g.instances); });
  graph_family("sluice_graph_queued_packets", "gauge", "Packets admitted to a graph, not yet taken in.",
               [](G g) { return std::to_string(g.queued); });
  graph_family("sluice_graph_queued_bytes", "gauge", "Memory taken by the packets admitted, not yet taken in.",
               [](G g) { return std::to_string(g.queued_bytes); });
  graph_family("sluice_graph_degraded", "gauge",
               "1 while a graph runs a component no loaded plugin offers any more (its file is gone).",
               [&degraded](G g) { return std::string(degraded.contains(g.graph) ? "1" : "0"); });
  graph_family("sluice_dead_letters", "gauge", "Failed packets held in a graph's dead-letter store.",
               [](G g) { return std::to_string(g.dead_letters); });
  graph_family("sluice_dead_letters_dropped_total", "counter",
               "Dead letters dropped because the store was full.",
               [](G g) { return std::to_string(g.dead_letters_dropped); });
}

void append_wal_families(std::string& out, const WalStats& wal) {
  auto wal_family = [&out](std::string_view name, std::string_view type, std::string_view help, std::string value) {
    append_family(out, name, type, help, {{"", std::move(value)}});
  };
  wal_family("sluice_wal_bytes", "gauge", "Bytes in the write-ahead log's segments.", std::to_string(wal.bytes));
  wal_family("sluice_wal_segments", "gauge", "Segment files of the write-ahead log.", std::to_string(wal.segments));
  wal_family("sluice_wal_pending_submissions", "gauge", "Logged submissions not yet complete.",
             std::to_string(wal.pending));
  wal_family("sluice_wal_records_written_total", "counter", "Records appended to the write-ahead log.",
             std::to_string(wal.records_written));
  wal_family("sluice_wal_written_bytes_total", "counter", "Bytes appended to the write-ahead log.",
             std::to_string(wal.bytes_written));
  wal_family("sluice_wal_syncs_total", "counter", "fdatasync calls on the write-ahead log.", std::to_string(wal.syncs));
  wal_family("sluice_wal_sync_seconds_total", "counter", "Time spent in fdatasync on the write-ahead log.",
             number(static_cast<double>(wal.sync_nanoseconds) / 1e9));
  std::vector<Sample> latency;
  std::uint64_t at_most = 0;  // Prometheus buckets count everything up to their bound
  for (std::size_t i = 0; i < wal_sync_bucket_bounds_us.size(); ++i) {
    at_most += wal.syncs_by_latency[i];
    latency.push_back({"le=\"" + number(static_cast<double>(wal_sync_bucket_bounds_us[i]) / 1e6) + '"',
                       std::to_string(at_most), "_bucket"});
  }
  latency.push_back({"le=\"+Inf\"", std::to_string(wal.syncs), "_bucket"});
  latency.push_back({"", number(static_cast<double>(wal.sync_nanoseconds) / 1e9), "_sum"});
  latency.push_back({"", std::to_string(wal.syncs), "_count"});
  append_family(out, "sluice_wal_sync_duration_seconds", "histogram",
                "How long each fdatasync of the write-ahead log took.", latency);
  wal_family("sluice_wal_replayed_submissions", "gauge", "Unfinished submissions found in the log at start (replayed, or kept as lost).",
             std::to_string(wal.recovered));
  wal_family("sluice_wal_torn_records", "gauge", "Records cut short at the log's end, dropped at start.",
             std::to_string(wal.torn));
  wal_family("sluice_wal_corrupt_records", "gauge", "Damaged records skipped at start.", std::to_string(wal.corrupt));
}

}  // namespace

void RestApi::metrics(Call& call) {
  std::vector<GraphStats> graphs;
  std::set<std::string, std::less<>> degraded;
  for (const auto& name : runtime_.graph_names())
    if (auto stats = runtime_.stats(name)) {
      graphs.push_back(std::move(*stats));
      if (const auto plan = runtime_.graph(name); plan && graphs_.plugin_state(*plan).degraded()) degraded.insert(name);
    }

  std::string out;
  append_node_families(out, graphs);
  append_graph_families(out, graphs, degraded);
  std::vector<Sample> by_status;
  for (std::size_t status = 0; status < responses_by_status_.size(); ++status)
    if (const auto count = responses_by_status_[status].load(std::memory_order_relaxed))
      by_status.push_back({"code=\"" + std::to_string(status) + '"', std::to_string(count)});
  append_family(out, "sluice_http_requests_total", "counter", "HTTP responses sent, by status code.", by_status);
  append_family(out, "sluice_ingress_packets_total", "counter", "Packets admitted over REST.",
                {{"", std::to_string(packets_admitted_.load())}});
  append_family(out, "sluice_ingress_load", "gauge", "How full the fullest graph's ingress is (0..1).",
                {{"", number(runtime_.load())}});
  append_family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
                {{"", std::to_string(resident_bytes())}});
  if (options_.ingest) append_wal_families(out, options_.ingest->stats());

  HttpResponse response;
  response.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  response.body = std::move(out);
  call.responder.send(std::move(response));
}

}  // namespace sluice
