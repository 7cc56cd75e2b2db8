// Runtime — runs deployed graphs on worker threads, every component instance a fiber.
//
//   sluice::Runtime runtime({.workers = 2});
//   runtime.deploy(std::move(plan));                     // constructs one instance per worker
//   auto admitted = runtime.submit("enrich", std::move(packets),
//                                  [](const sluice::StreamResult& r) { ... });  // on completion
//   runtime.stream(admitted.stream_id);                   // status query at any time
//   runtime.shutdown();                                   // stop admitting, drain, flush
//
// Source nodes (ComponentKind::source) run their component once per deployed version, on a
// thread of its own, from deploy until undeploy, redeploy or shutdown stops it
// (SourceRunner); their packets go through submit()'s path, one stream per send().
//
// Owns: the workers (one thread and one fiber scheduler each), graph instances, streams,
// dead letters and counters. Each submission goes to one instance (the least loaded); its
// packets stay on that instance's worker, so hops between nodes are single-threaded queues.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/packet.hpp>

#include "graph/graph_spec.hpp"
#include "runtime/fiber_stacks.hpp"
#include "runtime/packet_tap.hpp"
#include "support/control_loop.hpp"

namespace sluice {

struct StreamResult;

struct RuntimeOptions {
  std::size_t workers = 0;  // 0: one per core
  // Packets admitted to an instance but not yet taken in by its source nodes, and the memory
  // they take; above either bound the runtime refuses new submissions (the REST layer answers
  // 429/503). A larger submission is taken only when nothing waits.
  std::size_t max_queued_packets = 1 << 16;
  std::size_t max_queued_bytes = 64 << 20;
  // Per graph; beyond either bound the oldest letters are dropped (and counted).
  std::size_t dead_letter_capacity = 10000;
  std::size_t dead_letter_bytes = 64 << 20;
  std::size_t io_threads = 4;                // for blocking components and io::run_blocking
  std::size_t finished_stream_history = 10000;
  // Bytes of packets (results, failed packets) that finished streams may keep for later
  // lookups; beyond it the oldest keep only their counts and error messages.
  std::size_t finished_stream_bytes = 64 << 20;
  std::size_t max_results_per_stream = 100000;  // delivered packets kept for a waiting caller
  // Packets one source may have in the graph before its send() waits (SourceRunner).
  std::size_t max_source_in_flight = 4096;
  // Each node's fiber stack, above a guard region (runtime/fiber_stacks.hpp).
  std::size_t fiber_stack_bytes = fiber_stacks::default_stack_bytes;
  // Where sources keep their ledgers (<state_dir>/sources/<graph>/<node>/) and graphs their
  // dead letters (<state_dir>/dead-letters/<graph>.jsonl); "": nowhere, all in memory.
  std::string state_dir = {};
  // The sluice executable, run as `sluice host` for each instance of an `isolation: process`
  // node; empty: this process's own executable, which is right for the sluice command itself.
  std::filesystem::path host_program = {};
  // Sees every stream a source node sent as it completes, on a worker thread (`sluice run`
  // writes their results); empty: nobody but the source.
  std::function<void(const StreamResult&)> on_source_stream = {};
  // Runs the stall watchdog's sampling (the server's loop, which carries its other control
  // work too); null: the runtime has a loop of its own.
  ControlLoop* control_loop = nullptr;
};

struct StreamError {
  std::string node;     // "graph/node"
  std::string message;
  Packet packet;        // as it was when it failed, with `error` meta
};

struct StreamResult {
  enum class State { pending, done };
  std::string id;
  std::string graph;
  State state = State::pending;
  std::size_t accepted = 0;                      // packets admitted
  std::map<std::string, std::size_t> sinks;      // node id → packets that ended there
  std::size_t dropped = 0;                       // emitted to unwired ports or filtered out
  // `dropped` by where the packets left: node id → its unwired out port's name, or
  // NodeStats::filtered_key for packets it took in and passed on nowhere.
  std::map<std::string, std::map<std::string, std::size_t>> dropped_at;
  std::size_t error_count = 0;
  std::vector<StreamError> errors;               // the first max_results_per_stream
  std::vector<Packet> results;                   // what deliver() handed back, in order
  bool results_truncated = false;
  // A finished stream whose packets were let go to keep the history within its byte bound:
  // counts and error messages remain, `results` and the errors' packets are empty
  // (`results_released` says how many results there were).
  bool packets_released = false;
  std::size_t results_released = 0;
  std::chrono::system_clock::time_point submitted, finished;

  // A deep copy (packets are move-only and copied explicitly).
  StreamResult clone() const;
};

using StreamCallback = std::function<void(const StreamResult&)>;

struct Admission {
  // no_entry_node: the graph has no node that takes posted data (only sources start it).
  enum class Status { accepted, no_such_graph, no_such_node, no_entry_node, overloaded, shutting_down };
  Status status = Status::accepted;
  std::string stream_id;
  std::size_t accepted = 0;
  // The version of the graph that took the packets (from precheck: that would take them now).
  std::shared_ptr<const GraphPlan> plan = {};
};

struct NodeStats {
  std::string node;
  std::string component;
  std::uint64_t in = 0, out = 0, errors = 0, dropped = 0;
  // `dropped` by cause: each unwired data out port by its name, and filtered_key for the
  // packets taken in and not passed on. Causes that dropped nothing are left out.
  std::map<std::string, std::uint64_t> dropped_by_port = {};
  static constexpr std::string_view filtered_key = "(filtered)";  // in parentheses: no port's name
  std::uint64_t queue_depth = 0;  // packets waiting on the node's inputs, all instances
  std::uint64_t queue_bytes = 0;  // the memory those take
  std::uint64_t busy_ns = 0;      // time spent in the component
  // isolation: process (docs/plugins.md): its hosts, one per instance.
  bool isolated = false;
  std::vector<int> host_pids = {};    // 0 for a host being started again
  std::uint64_t host_failures = 0;    // crashes and hangs so far, all instances
  std::string host_last_failure = {};
  // A host failed three times in a row without a packet passing in between.
  bool crash_looping = false;
  // In the kernel's process: busy with one packet for longer than the node's timeout, which
  // holds its worker (runtime/stall_watchdog.hpp).
  bool stalled = false;
};

struct GraphStats {
  std::string graph;
  std::size_t instances = 0;
  std::uint64_t queued = 0;       // admitted, not yet taken in
  std::uint64_t queued_bytes = 0; // the memory those take
  std::uint64_t dead_letters = 0; // held now
  std::uint64_t dead_letters_dropped = 0;
  std::vector<NodeStats> nodes;
};

struct DeadLetter {
  std::uint64_t id = 0;
  std::string node;
  std::string error;
  std::chrono::system_clock::time_point when;
  Packet packet;
};

class DeployError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runtime::tap was asked for something the graph does not have.
class TapError : public std::invalid_argument {
 public:
  enum class Kind { no_such_graph, no_such_node, no_such_port };
  TapError(Kind kind, const std::string& message) : std::invalid_argument(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

class Runtime {
 public:
  explicit Runtime(RuntimeOptions options = {});
  ~Runtime();  // shutdown() if still running
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  std::size_t worker_count() const;

  // --- control plane (call from any thread except a worker) ---------------------------
  // Constructs the graph's components (one set per instance) and starts them; a constructor
  // that throws fails the deploy with its message (DeployError) and nothing changes. A graph
  // of the same name is replaced: new submissions go to the new instances at once; the old
  // ones drain (nothing admitted is lost) and are then destroyed.
  void deploy(GraphPlan plan);
  // Drains and removes; false when there was no such graph.
  bool undeploy(std::string_view graph);
  // Waits until every source node of the graph's current version has finished by itself and
  // its streams are done (a source with no end never finishes); returns how many it has.
  std::size_t wait_for_sources(std::string_view graph);
  std::vector<std::string> graph_names() const;
  std::shared_ptr<const GraphPlan> graph(std::string_view name) const;
  // Graphs that use any of these components (for redeploy after a plugin reload).
  std::vector<std::string> graphs_using(const std::vector<std::string>& components) const;

  // --- data plane -----------------------------------------------------------------------
  // Admits the packets as one stream into the graph's entry nodes (or into `node`). Never
  // blocks: a full graph answers `overloaded`. The packets are taken only when admitted (a
  // refused caller still has them, to retry). `on_done` runs once, on a worker thread, when
  // every packet of the stream has been fully processed.
  Admission submit(std::string_view graph, std::vector<Packet>&& packets, StreamCallback on_done = {},
                   std::string_view node = {});
  // The refusals submit() would give now: no such graph or node, no entry node, shutting
  // down, and `overloaded` when the graph's least loaded instance holds so many packets or
  // bytes already that `packets` more would be refused; else `accepted`. For a caller that
  // must do costly work before submitting (the write-ahead log), so that such a request costs
  // nothing. A hint for fullness only: submit() decides (the load moves meanwhile).
  Admission precheck(std::string_view graph, std::string_view node, std::size_t packets) const;
  // The status of a stream (a pending one has its id, graph, `accepted` and `submitted`; the
  // other counts are filled in when it is done), or nullopt when unknown
  // (never seen, or older than the history kept).
  std::optional<StreamResult> stream(std::string_view id) const;

  // --- observation ----------------------------------------------------------------------
  std::optional<GraphStats> stats(std::string_view graph) const;
  // How full the ingress is, 0..1 (the highest of any graph): readiness turns false near 1.
  double load() const;
  std::vector<DeadLetter> dead_letters(std::string_view graph) const;
  // A live copy of the packets leaving `node` by out port `port` (a name, `error` too), in
  // every instance, within `limits`. The tap ends (closed(), with the reason) when this
  // version of the graph stops: "redeployed", "undeployed", "shutting down". Throws TapError.
  std::shared_ptr<PacketTap> tap(std::string_view graph, std::string_view node, std::string_view port,
                                 TapLimits limits);
  // Re-admits dead letters (all when `ids` is empty) into `node` (their failing node when
  // empty); they leave the store. Returns the admission of the replay stream.
  Admission replay_dead_letters(std::string_view graph, const std::vector<std::uint64_t>& ids,
                                std::string_view node = {});

  // Stops admitting, drains every graph, flushes publishers, joins the workers. Idempotent.
  void shutdown();
  bool shutting_down() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
