// `sluice run GRAPH.yaml` — NDJSON in, the graph, NDJSON out: the runtime as a Unix pipe.
// With --content-type TYPE (CSV, XML, text, … for a graph that starts with an adapter) the
// whole input is one raw packet as POST /v1/graphs/{g}/packets makes it (field `data`, meta
// mimetype, contentlength, filename), or with --per-line one raw packet per line.
//
// Input is cut into batches; each batch is one stream. What the graph's `collect` nodes hand
// back is written in input order (batches can finish out of order on several workers, so
// finished batches wait in a small reorder buffer). Only a bounded number of batches is in the
// graph at once: memory stays flat on any input size.
#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <iterator>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>

#include <sluice/json.hpp>

#include "cli/commands.hpp"
#include "control/graph_loading.hpp"
#include "ingress/request_body.hpp"
#include "registry/crash_quarantine.hpp"
#include "registry/plugin_registry.hpp"
#include "runtime/runtime.hpp"

namespace sluice::cli {

namespace {

struct RunOptions {
  std::string graph;
  std::string input;
  std::string output;
  std::vector<std::string> plugin_dirs;
  std::size_t workers = 0;
  std::size_t fiber_stack_bytes = fiber_stacks::default_stack_bytes;
  std::size_t batch = 1000;
  std::string content_type;  // empty: NDJSON
  bool per_line = false;
};

// Completed batches, written out in order.
class OrderedOutput {
 public:
  OrderedOutput(std::ostream& out, std::size_t max_in_flight) : out_(out), max_in_flight_(max_in_flight) {}

  // Blocks while too many batches are in the graph.
  std::size_t begin_batch() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return next_batch_ - next_to_write_ < max_in_flight_; });
    return next_batch_++;
  }
  void abandon_batch(std::size_t batch) { complete(batch, {}); }

  void complete(std::size_t batch, std::string text) {
    std::lock_guard lock(mutex_);
    done_.emplace(batch, std::move(text));
    for (auto it = done_.find(next_to_write_); it != done_.end(); it = done_.find(next_to_write_)) {
      out_ << it->second;
      done_.erase(it);
      ++next_to_write_;
    }
    out_.flush();
    changed_.notify_all();
  }

  // Text with no place in the input order (the results of a source node's streams).
  void write_now(const std::string& text) {
    std::lock_guard lock(mutex_);
    out_ << text;
    out_.flush();
  }

  void wait_all() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return next_to_write_ == next_batch_; });
  }

  // Waits a little for a batch to finish (when the graph refused one as full).
  void wait_for_progress() {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::milliseconds(50));
  }

 private:
  std::ostream& out_;
  std::size_t max_in_flight_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t next_batch_ = 0, next_to_write_ = 0;
  std::map<std::size_t, std::string> done_;
};

struct Summary {
  std::mutex mutex;
  std::size_t in = 0, out = 0, errors = 0, dropped = 0, bad_lines = 0;
  std::map<std::string, std::size_t> dropped_at;  // "node.port" (or "node (filtered)") → packets
  std::vector<std::string> messages;  // the first few, for stderr
  void add_error(std::string message) {
    if (messages.size() < 20) messages.push_back(std::move(message));
  }
};

// A finished stream's results as NDJSON text; its counts go to the summary.
std::string results_as_ndjson(const StreamResult& r, Summary& summary) {
  std::string text;
  for (const auto& p : r.results) {
    json::write_fields(p, text);
    text += '\n';
  }
  std::lock_guard lock(summary.mutex);
  summary.out += r.results.size();
  summary.errors += r.error_count;
  summary.dropped += r.dropped;
  for (const auto& [node, causes] : r.dropped_at)
    for (const auto& [cause, n] : causes)
      summary.dropped_at[cause == NodeStats::filtered_key ? node + ' ' + cause : node + '.' + cause] += n;
  for (const auto& e : r.errors) summary.add_error(e.node + ": " + e.message);
  return text;
}

// An input line that is not a packet: counted, and named in the summary.
void count_bad_line(Summary& summary, std::string message) {
  std::lock_guard lock(summary.mutex);
  ++summary.bad_lines;
  summary.add_error(std::move(message));
}

void print_summary(const Summary& summary) {
  for (const auto& m : summary.messages) std::cerr << "error: " << m << '\n';
  std::cerr << "sluice run: " << summary.in << " packets in, " << summary.out << " out, "
            << summary.errors << " failed, " << summary.dropped << " dropped";
  // Where they left, so that a graph that loses packets says at which node and port.
  for (auto it = summary.dropped_at.begin(); it != summary.dropped_at.end(); ++it)
    std::cerr << (it == summary.dropped_at.begin() ? " (" : ", ") << it->first << ": " << it->second;
  if (!summary.dropped_at.empty()) std::cerr << ')';
  if (summary.bad_lines) std::cerr << ", " << summary.bad_lines << " bad input lines skipped";
  std::cerr << '\n';
}

void warn_if_no_collect(const GraphPlan& plan) {
  const bool has_collect = std::any_of(plan.nodes.begin(), plan.nodes.end(),
                                       [](const PlannedNode& n) { return n.component->name == "collect"; });
  if (!has_collect)
    std::cerr << "sluice run: warning: graph '" << plan.name
              << "' has no collect node, so nothing is written to the output\n";
}

// --input, unless it is stdin (left closed); false after printing why not.
bool open_input(const std::string& input, std::ifstream& file) {
  if (input.empty() || input == "-") return true;
  file.open(input, std::ios::binary);
  if (!file) {
    std::cerr << "sluice run: cannot read " << input << '\n';
    return false;
  }
  return true;
}

// --output, unless it is stdout (left closed); false after printing why not.
bool open_output(const std::string& output, std::ofstream& file) {
  if (output.empty() || output == "-") return true;
  file.open(output, std::ios::binary | std::ios::trunc);
  if (!file) {
    std::cerr << "sluice run: cannot write " << output << '\n';
    return false;
  }
  return true;
}

// The graph's runtime, fed the input in batches, its results written in input order and counted.
class GraphRun {
 public:
  GraphRun(const RunOptions& options, std::string name, std::ostream& out)
      : options_(options),
        name_(std::move(name)),
        // No stream history: each batch's results are written as it finishes, and nobody looks a
        // stream up afterwards, so keeping finished ones would grow memory with the input. What a
        // source node makes is written as its streams finish.
        runtime_({.workers = options.workers,
                  .finished_stream_history = 0,
                  .fiber_stack_bytes = options.fiber_stack_bytes,
                  .on_source_stream = [this](const StreamResult& r) {
                    {
                      std::lock_guard lock(summary_.mutex);
                      summary_.in += r.accepted;
                    }
                    ordered_->write_now(results_as_ndjson(r, summary_));
                  }}) {
    ordered_.emplace(out, 4 * runtime_.worker_count() + 2);
  }

  // False after printing why the runtime refused the graph.
  bool deploy(GraphPlan&& plan) {
    try {
      runtime_.deploy(std::move(plan));
    } catch (const DeployError& e) {
      std::cerr << "sluice run: " << e.what() << '\n';
      return false;
    }
    return true;
  }

  // With --content-type and without --per-line the whole input is one packet; else one a line.
  void read_input(std::istream& in, const std::string& filename) {
    const std::string input_name = options_.input.empty() ? "<stdin>" : options_.input;
    std::vector<Packet> batch;
    if (options_.content_type.empty()) {
      read_ndjson(in, input_name, batch);
    } else if (!options_.per_line) {
      batch.push_back(raw_packet({std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()},
                                 options_.content_type, filename));
      ++summary_.in;
    } else {
      for (std::string line; std::getline(in, line);) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        batch.push_back(raw_packet(std::move(line), options_.content_type, filename));
        add_to_batch(batch);
      }
    }
    if (!batch.empty()) submit(std::move(batch));
  }

  // Waits for the source nodes and the last batches; then every result is written.
  void finish() {
    runtime_.wait_for_sources(name_);
    // Draining the graph completes the last streams: a component that keeps packets for more
    // (batch, waiting to fill) hands them on when its input ends.
    runtime_.shutdown();
    ordered_->wait_all();
  }

  const Summary& summary() const { return summary_; }

 private:
  // NDJSON, read in blocks of whole lines and parsed where it lies (no copy of each line).
  void read_ndjson(std::istream& in, const std::string& input_name, std::vector<Packet>& batch) {
    constexpr std::size_t block = 1 << 20;
    std::string buffer;
    std::size_t lines_before = 0;  // of the input, before `buffer`
    for (bool at_end = false; !at_end;) {
      const std::size_t kept = buffer.size();
      buffer.resize(kept + block);
      in.read(buffer.data() + kept, static_cast<std::streamsize>(block));
      buffer.resize(kept + static_cast<std::size_t>(in.gcount()));
      at_end = !in;
      // The input's last line needs no newline; a line longer than a block is read on.
      const std::size_t cut = at_end ? buffer.size() : buffer.rfind('\n') + 1;
      if (cut == 0) continue;
      const std::string_view lines = std::string_view(buffer).substr(0, cut);
      parse_lines(lines, lines_before, input_name, batch);
      lines_before += static_cast<std::size_t>(std::count(lines.begin(), lines.end(), '\n'));
      buffer.erase(0, cut);
    }
  }

  // The packets of `text`, whose first line is line lines_before + 1 of the input, into
  // `batch`. A bad line is counted and skipped, and parsing goes on after it.
  void parse_lines(std::string_view text, std::size_t lines_before, const std::string& input_name,
                   std::vector<Packet>& batch) {
    std::size_t offset = 0;  // where parsing (re)starts in `text`: its line lines_before + 1
    auto take = [&](Value&& record, std::size_t line) {
      try {
        batch.push_back(json::to_packet(std::move(record)));
      } catch (const std::invalid_argument& e) {  // valid JSON, but not an object
        count_bad_line(summary_, input_name + ":" + std::to_string(lines_before + line) + ": " + e.what());
        return;
      }
      add_to_batch(batch);
    };
    for (;;) {
      try {
        json::for_each_ndjson(text.substr(offset), take);
        return;
      } catch (const json::ParseError& e) {
        count_bad_line(summary_, input_name + ":" + std::to_string(lines_before + e.line()) + ":" +
                                     std::to_string(e.column()) + ": " + e.reason());
        const std::size_t end = text.find('\n', offset + e.offset());
        if (end == std::string_view::npos) return;
        lines_before += e.line();
        offset = end + 1;
      }
    }
  }

  // Counts the packet just added to `batch`, and submits the batch once it is full.
  void add_to_batch(std::vector<Packet>& batch) {
    ++summary_.in;
    if (batch.size() == options_.batch) submit(std::exchange(batch, {}));
  }

  // One batch, one stream; waits while the graph is full.
  void submit(std::vector<Packet> packets) {
    const std::size_t batch = ordered_->begin_batch();
    auto on_done = [this, batch](const StreamResult& r) {
      ordered_->complete(batch, results_as_ndjson(r, summary_));
    };
    for (;;) {
      auto admission = runtime_.submit(name_, std::move(packets), on_done);
      if (admission.status == Admission::Status::accepted) return;
      if (admission.status != Admission::Status::overloaded) {
        ordered_->abandon_batch(batch);
        throw std::runtime_error("the runtime refused the input");
      }
      ordered_->wait_for_progress();
    }
  }

  const RunOptions& options_;
  const std::string name_;
  Summary summary_;
  std::optional<OrderedOutput> ordered_;  // emplaced once the runtime says how many workers it has
  Runtime runtime_;
};

int run_graph(const RunOptions& options) {
  crash_quarantine::install(PluginImageCache::default_dir());
  PluginRegistry registry(plugin_search_path(options.plugin_dirs));
  warn_if_no_components(registry, "run");
  LoadedGraph graph = load_graph(options.graph, registry);
  if (!graph.plan) {
    report_errors(std::cerr, graph, "nothing run", registry.rejected().size());
    return 2;
  }
  GraphPlan& plan = *graph.plan;
  const std::string name = plan.name;
  warn_if_no_collect(plan);
  std::ifstream input_file;
  if (!open_input(options.input, input_file)) return 2;
  std::istream& in = input_file.is_open() ? input_file : std::cin;
  std::ofstream output_file;
  if (!open_output(options.output, output_file)) return 2;
  std::ostream& out = output_file.is_open() ? output_file : std::cout;

  GraphRun run(options, name, out);
  // A graph made only of source nodes and what follows them takes no input: it runs until its
  // sources have finished.
  const bool takes_input = !plan.sources.empty();
  if (!run.deploy(std::move(plan))) return 2;
  const std::string filename =
      input_file.is_open() ? std::filesystem::path(options.input).filename().string() : std::string();
  if (takes_input)
    run.read_input(in, filename);
  else if (!options.input.empty())
    std::cerr << "sluice run: warning: graph '" << name << "' takes no input (its data comes from its source nodes); "
              << options.input << " is not read\n";
  run.finish();
  print_summary(run.summary());
  return run.summary().errors || run.summary().bad_lines ? 1 : 0;
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* run = app.add_subcommand(
      "run", "run a graph over NDJSON (stdin by default) and write what its collect nodes "
             "hand back as NDJSON (stdout by default), with no server");
  run->add_option("graph", options->graph, "the graph file")->required();
  run->add_option("--input,-i", options->input, "NDJSON input file (default: stdin)");
  run->add_option("--output,-o", options->output, "NDJSON output file (default: stdout)");
  run->add_option("--workers", options->workers, "worker threads (default: one per core)");
  add_fiber_stack_option(*run, options->fiber_stack_bytes);
  run->add_option("--batch", options->batch, "packets per stream")->check(CLI::Range(1, 1 << 20));
  run->add_option("--content-type", options->content_type,
                  "the input is not NDJSON but this type (text/csv, application/xml, text/plain, ...): one raw "
                  "packet, field `data`, meta mimetype, as POST /v1/graphs/{g}/packets makes it");
  run->add_flag("--per-line", options->per_line, "with --content-type: one raw packet per input line")
      ->needs("--content-type");
  add_plugin_dirs_option(*run, options->plugin_dirs);
  run->callback([options] { set_exit_code(run_graph(*options)); });
}

}  // namespace sluice::cli
