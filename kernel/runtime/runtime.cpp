#include "runtime/runtime.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/fiber/future.hpp>
#include <filesystem>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include <sluice/blocking_executor.hpp>
#include <sluice/io.hpp>

#include "runtime/graph_instance.hpp"
#include "runtime/packet_bytes.hpp"
#include "runtime/source_runner.hpp"
#include "runtime/stall_watchdog.hpp"
#include "runtime/stream_table.hpp"
#include "runtime/worker.hpp"

namespace sluice {

namespace {

// io::run_blocking in the kernel: on a worker thread, `work` runs on the I/O pool of that
// worker's runtime while only the calling fiber waits; on any other thread, inline. The
// executor is the same function for every runtime in the process (each finds its own pool
// through its workers), so several runtimes, one after another or side by side, never hand
// work to each other's pools.
void run_on_io_pool(const std::function<void()>& work) {
  boost::asio::thread_pool* pool = Worker::blocking_pool_of_this_thread();
  if (!pool) {
    work();
    return;
  }
  auto done = std::make_shared<boost::fibers::promise<void>>();
  boost::fibers::future<void> finished = done->get_future();
  // The promise orders the work before the caller's next steps, but inside libboost_fiber.so,
  // which ThreadSanitizer does not see; this release/acquire pair says so where it can (the
  // caller then frees what `work` captured without a report).
  std::atomic<bool> ran{false};
  boost::asio::post(*pool, [&work, &ran, done] {
    try {
      work();
      ran.store(true, std::memory_order_release);
      done->set_value();
    } catch (...) {
      ran.store(true, std::memory_order_release);
      done->set_exception(std::current_exception());
    }
  });
  finished.wait();
  (void)ran.load(std::memory_order_acquire);
  finished.get();
}

}  // namespace

// One deployed version of a graph. Its instances are fixed when it is published and live as
// long as the version does: a submit() or stats() that found this version keeps it (and so
// every instance) alive through its shared_ptr while a redeploy drains it on another thread.
// Its sources (one runner per source node) are declared first so that they are destroyed
// last: the instances' streams call back into them.
struct DeployedGraph {
  std::shared_ptr<GraphShared> shared;
  std::vector<std::unique_ptr<SourceRunner>> sources;
  std::vector<std::unique_ptr<GraphInstance>> instances;
};

struct Runtime::Impl {
  RuntimeOptions options;
  StreamTable streams;
  boost::asio::thread_pool io_pool;
  std::vector<std::unique_ptr<Worker>> workers;
  std::mutex control;  // one deploy/undeploy at a time
  mutable std::shared_mutex graphs_mutex;
  std::map<std::string, std::shared_ptr<DeployedGraph>, std::less<>> graphs;
  std::atomic<bool> stopping{false};
  bool stopped = false;
  std::unique_ptr<ControlLoop> own_control_loop;  // when RuntimeOptions::control_loop is null
  std::unique_ptr<StallWatchdog> watchdog;

  explicit Impl(RuntimeOptions o)
      : options(o), streams(o.finished_stream_history, o.finished_stream_bytes), io_pool(std::max<std::size_t>(1, o.io_threads)) {}

  std::shared_ptr<DeployedGraph> find(std::string_view name) const {
    std::shared_lock lock(graphs_mutex);
    auto it = graphs.find(name);
    return it == graphs.end() ? nullptr : it->second;
  }

  // Stops the sources, closes the instances' ingress and waits until every packet they
  // admitted is through (the sources' last streams complete, and are acked, here). The
  // instances are destroyed with the last reference to the version, never here: a submit() or
  // stats() may still be reading them.
  static void drain(DeployedGraph& graph) {
    stop_sources(graph);
    for (auto& instance : graph.instances) instance->close_ingress();
    for (auto& instance : graph.instances) instance->done().wait();
  }

  static void stop_sources(DeployedGraph& graph) {
    for (auto& source : graph.sources) source->stop();
  }

  // One runner per source node of `graph`, each submitting into that version only.
  void create_sources(DeployedGraph& graph) {
    const GraphPlan& plan = *graph.shared->plan;
    for (std::size_t i : plan.producers) {
      const PlannedNode& node = plan.nodes[i];
      const std::string path = plan.name + "/" + node.id;
      std::string error;
      auto component = node.component->create(node.params, error);
      if (!component) throw DeployError(path + ": " + node.component->name + " failed to start: " + error);
      std::string state_dir;
      if (!options.state_dir.empty()) {
        const auto dir = std::filesystem::path(options.state_dir) / "sources" / plan.name / node.id;
        std::error_code failed;
        std::filesystem::create_directories(dir, failed);
        if (failed) throw DeployError(path + ": cannot create its state directory " + dir.string() + ": " + failed.message());
        state_dir = dir.string();
      }
      auto submit_here = [this, version = &graph, i](std::vector<Packet>& packets, StreamCallback& on_done) {
        bool closed = false;
        Admission admission = submit(*version, packets, on_done, i, closed);
        if (closed) admission.status = Admission::Status::shutting_down;
        return admission;
      };
      graph.sources.push_back(std::make_unique<SourceRunner>(path, std::move(component), std::move(state_dir),
                                                             options.max_source_in_flight, std::move(submit_here),
                                                             options.on_source_stream));
    }
  }

  // The current version of graph `name` and the index of `node` in it ("" : its entry nodes),
  // or why packets cannot enter there whatever the load.
  Admission::Status locate(std::string_view name, std::string_view node, std::shared_ptr<DeployedGraph>& graph,
                           std::optional<std::size_t>& target) const {
    if (stopping) return Admission::Status::shutting_down;
    graph = find(name);
    if (!graph) return Admission::Status::no_such_graph;
    if (node.empty()) return graph->shared->plan->sources.empty() ? Admission::Status::no_entry_node
                                                                  : Admission::Status::accepted;
    const auto& nodes = graph->shared->plan->nodes;
    auto it = std::find_if(nodes.begin(), nodes.end(), [&](const PlannedNode& n) { return n.id == node; });
    if (it == nodes.end()) return Admission::Status::no_such_node;
    target = static_cast<std::size_t>(it - nodes.begin());
    return Admission::Status::accepted;
  }

  static GraphInstance* least_loaded(const DeployedGraph& graph) {
    GraphInstance* least = nullptr;
    for (const auto& instance : graph.instances)
      if (!least || instance->unfinished < least->unfinished) least = instance.get();
    return least;
  }

  // Whether `instance` must refuse `packets` more of `bytes`. A submission larger than a limit
  // is still taken by an idle instance: the request size limit bounds it, and refusing it
  // would refuse it forever.
  bool full(const GraphInstance& instance, std::size_t packets, std::size_t bytes) const {
    return instance.queued > 0 && (instance.queued + packets > options.max_queued_packets ||
                                   instance.queued_bytes + bytes > options.max_queued_bytes);
  }
  bool full(const DeployedGraph& graph, std::size_t packets, std::size_t bytes) const {
    const GraphInstance* least = least_loaded(graph);
    return !least || full(*least, packets, bytes);
  }

  // Admits into the least loaded instance of `graph`; `closed` when that version is draining
  // (a redeploy replaced it after the caller found it: the caller retries on the new one).
  Admission submit(const DeployedGraph& graph, std::vector<Packet>& packets, StreamCallback& on_done,
                   std::optional<std::size_t> node, bool& closed) {
    Admission admission;
    closed = false;
    std::vector<std::size_t> sizes;
    sizes.reserve(packets.size());
    std::size_t bytes = 0;
    for (const Packet& packet : packets) bytes += sizes.emplace_back(packet_bytes(packet));
    GraphInstance* least = least_loaded(graph);
    if (!least || full(*least, packets.size(), bytes)) {
      admission.status = Admission::Status::overloaded;
      return admission;
    }
    auto stream = std::make_unique<StreamState>();
    stream->result.graph = graph.shared->plan->name;
    stream->result.accepted = packets.size();
    stream->result.submitted = std::chrono::system_clock::now();
    stream->result.id = streams.open(stream->result.graph, packets.size());
    stream->on_done = std::move(on_done);
    admission.stream_id = stream->result.id;
    admission.accepted = packets.size();
    admission.plan = graph.shared->plan;
    Submission submission{std::move(stream), std::move(packets), std::move(sizes), node};
    const auto outcome = least->try_submit(submission, bytes);
    if (outcome != GraphInstance::SubmitOutcome::accepted) {
      packets = std::move(submission.packets);
      on_done = std::move(submission.stream->on_done);
      streams.discard(admission.stream_id);
      admission.status = Admission::Status::overloaded;
      admission.stream_id.clear();
      admission.accepted = 0;
      admission.plan.reset();
      closed = outcome == GraphInstance::SubmitOutcome::closed;
    }
    return admission;
  }
};

Runtime::Runtime(RuntimeOptions options) : impl_(std::make_unique<Impl>(options)) {
  std::size_t n = options.workers ? options.workers : std::thread::hardware_concurrency();
  n = std::max<std::size_t>(1, n);
  for (std::size_t i = 0; i < n; ++i) impl_->workers.push_back(std::make_unique<Worker>(i, impl_->io_pool));
  ControlLoop* loop = options.control_loop;
  if (!loop) loop = (impl_->own_control_loop = std::make_unique<ControlLoop>()).get();
  impl_->watchdog = std::make_unique<StallWatchdog>(*loop, [impl = impl_.get()](const auto& visit) {
    std::vector<std::shared_ptr<DeployedGraph>> graphs;
    {
      std::shared_lock lock(impl->graphs_mutex);
      for (const auto& [name, graph] : impl->graphs) graphs.push_back(graph);
    }
    for (const auto& graph : graphs)
      for (const auto& instance : graph->instances)
        for (const auto& node : instance->nodes()) visit(*node);
  });
  io::set_blocking_executor(&run_on_io_pool);
}

Runtime::~Runtime() { shutdown(); }

std::size_t Runtime::worker_count() const { return impl_->workers.size(); }

void Runtime::deploy(GraphPlan plan) {
  std::lock_guard control(impl_->control);
  if (impl_->stopping) throw DeployError("the runtime is shutting down");
  auto previous = impl_->find(plan.name);
  auto graph = std::make_shared<DeployedGraph>();
  // Dead letters outlive a redeploy: they may be replayed into the new version. With a state
  // directory they outlive a restart too.
  std::filesystem::path journal;
  if (!impl_->options.state_dir.empty())
    journal = std::filesystem::path(impl_->options.state_dir) / "dead-letters" / (plan.name + ".jsonl");
  auto dead_letters = previous ? previous->shared->dead_letters
                               : std::make_shared<DeadLetterStore>(impl_->options.dead_letter_capacity,
                                                                   impl_->options.dead_letter_bytes, journal);
  std::vector<std::size_t> out_ports;  // per node, `error` included
  for (const PlannedNode& node : plan.nodes) out_ports.push_back(node.component->outputs.size() + 1);
  graph->shared = std::make_shared<GraphShared>(GraphShared{
      std::make_shared<const GraphPlan>(std::move(plan)), dead_letters, impl_->streams,
      impl_->options.max_results_per_stream, std::make_shared<TapBoard>(out_ports),
      impl_->options.fiber_stack_bytes,
      impl_->options.host_program.empty() ? std::filesystem::path("/proc/self/exe") : impl_->options.host_program,
      ingress_slots_for(impl_->options.max_queued_packets)});
  const GraphPlan& planned = *graph->shared->plan;
  std::size_t instances = impl_->workers.size();
  if (planned.workers) instances = std::clamp<std::size_t>(*planned.workers, 1, instances);
  // Construct everything first: a constructor that throws leaves the old version running.
  for (std::size_t i = 0; i < instances; ++i)
    graph->instances.push_back(std::make_unique<GraphInstance>(graph->shared, i));
  impl_->create_sources(*graph);
  for (auto& instance : graph->instances) {
    GraphInstance* started = instance.get();
    impl_->workers[instance->worker()]->post([started] { started->start(); });
  }
  {
    std::unique_lock lock(impl_->graphs_mutex);
    impl_->graphs[planned.name] = graph;
  }
  // The old version's taps end, its sources stop and its streams are acked before the new
  // sources start, so that a source resuming from its acks (a ledger, an offset) sees all of them.
  if (previous) {
    previous->shared->taps->close_all("redeployed");
    Impl::drain(*previous);
  }
  for (auto& source : graph->sources) source->start();
}

std::size_t Runtime::wait_for_sources(std::string_view name) {
  auto graph = impl_->find(name);  // held: a redeploy meanwhile cannot destroy its runners
  if (!graph) return 0;
  for (auto& source : graph->sources) source->wait_finished();
  return graph->sources.size();
}

bool Runtime::undeploy(std::string_view name) {
  std::lock_guard control(impl_->control);
  std::shared_ptr<DeployedGraph> graph;
  {
    std::unique_lock lock(impl_->graphs_mutex);
    auto it = impl_->graphs.find(name);
    if (it == impl_->graphs.end()) return false;
    graph = std::move(it->second);
    impl_->graphs.erase(it);
  }
  graph->shared->taps->close_all("undeployed");
  Impl::drain(*graph);
  graph->shared->dead_letters->discard_journal();  // deleted for good: its letters go with it
  return true;
}

std::vector<std::string> Runtime::graph_names() const {
  std::shared_lock lock(impl_->graphs_mutex);
  std::vector<std::string> names;
  for (const auto& [name, graph] : impl_->graphs) names.push_back(name);
  return names;
}

std::shared_ptr<const GraphPlan> Runtime::graph(std::string_view name) const {
  auto graph = impl_->find(name);
  return graph ? graph->shared->plan : nullptr;
}

std::vector<std::string> Runtime::graphs_using(const std::vector<std::string>& components) const {
  std::shared_lock lock(impl_->graphs_mutex);
  std::vector<std::string> names;
  for (const auto& [name, graph] : impl_->graphs) {
    const auto& nodes = graph->shared->plan->nodes;
    if (std::any_of(nodes.begin(), nodes.end(), [&](const PlannedNode& node) {
          return std::find(components.begin(), components.end(), node.component->name) !=
                 components.end();
        }))
      names.push_back(name);
  }
  return names;
}

Admission Runtime::submit(std::string_view name, std::vector<Packet>&& packets, StreamCallback on_done,
                          std::string_view node) {
  // A version found here may be replaced and drained before the packets reach it; then the
  // submission goes to the version that replaced it (a redeploy never refuses input).
  for (;;) {
    Admission refused;
    std::shared_ptr<DeployedGraph> graph;
    std::optional<std::size_t> target;
    refused.status = impl_->locate(name, node, graph, target);
    if (refused.status != Admission::Status::accepted) return refused;
    bool closed = false;
    Admission admission = impl_->submit(*graph, packets, on_done, target, closed);
    if (!closed) return admission;
    // A version leaves the table before it is drained: find() now gives its successor or none.
  }
}

Admission Runtime::precheck(std::string_view name, std::string_view node, std::size_t packets) const {
  Admission answer;
  std::shared_ptr<DeployedGraph> graph;
  std::optional<std::size_t> target;
  answer.status = impl_->locate(name, node, graph, target);
  if (answer.status != Admission::Status::accepted) return answer;
  if (impl_->full(*graph, packets, 0))
    answer.status = Admission::Status::overloaded;
  else
    answer.plan = graph->shared->plan;
  return answer;
}

std::optional<StreamResult> Runtime::stream(std::string_view id) const { return impl_->streams.find(id); }

std::optional<GraphStats> Runtime::stats(std::string_view name) const {
  auto graph = impl_->find(name);
  if (!graph) return std::nullopt;
  GraphStats stats;
  stats.graph = std::string(name);
  stats.instances = graph->instances.size();
  stats.dead_letters = graph->shared->dead_letters->size();
  stats.dead_letters_dropped = graph->shared->dead_letters->dropped();
  const auto& nodes = graph->shared->plan->nodes;
  for (const auto& node : nodes) stats.nodes.push_back({node.id, node.component->name});
  for (const auto& instance : graph->instances) {
    stats.queued += instance->queued;
    stats.queued_bytes += instance->queued_bytes;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const NodeRuntime& n = *instance->nodes()[i];
      NodeStats& s = stats.nodes[i];
      s.in += n.in.get();
      s.out += n.out.get();
      s.errors += n.errors.get();
      auto count_dropped = [&s](std::string_view cause, std::uint64_t n) {
        if (n == 0) return;
        s.dropped += n;
        s.dropped_by_port[std::string(cause)] += n;
      };
      count_dropped(NodeStats::filtered_key, n.filtered.get());
      const auto& ports = nodes[i].component->outputs;
      for (std::size_t p = 0; p < ports.size(); ++p) count_dropped(ports[p].name, n.dropped_at_port[p].get());
      count_dropped(error_port, n.dropped_at_port[ports.size()].get());
      s.queue_depth += n.depth.get();
      s.queue_bytes += n.depth_bytes.get();
      s.busy_ns += n.busy_ns.get();
      s.stalled = s.stalled || n.stalled.load();
      if (n.host) {
        s.isolated = true;
        s.host_pids.push_back(n.host->pid());
        s.host_failures += n.host->failures();
        if (const std::string last = n.host->last_failure(); !last.empty()) s.host_last_failure = last;
        s.crash_looping = s.crash_looping || n.host->consecutive_failures() >= 3;
      }
    }
  }
  return stats;
}

double Runtime::load() const {
  std::shared_lock lock(impl_->graphs_mutex);
  double highest = 0;
  for (const auto& [name, graph] : impl_->graphs) {
    // A graph is as full as its least full instance (the next submission goes there), and an
    // instance as full as the nearer of its two bounds.
    double least = 1e300;
    for (const auto& instance : graph->instances)
      least = std::min(least, std::max(static_cast<double>(instance->queued) / impl_->options.max_queued_packets,
                                        static_cast<double>(instance->queued_bytes) / impl_->options.max_queued_bytes));
    if (!graph->instances.empty()) highest = std::max(highest, least);
  }
  return highest;
}

std::vector<DeadLetter> Runtime::dead_letters(std::string_view name) const {
  auto graph = impl_->find(name);
  return graph ? graph->shared->dead_letters->list() : std::vector<DeadLetter>{};
}

std::shared_ptr<PacketTap> Runtime::tap(std::string_view name, std::string_view node, std::string_view port,
                                       TapLimits limits) {
  auto graph = impl_->find(name);
  if (!graph) throw TapError(TapError::Kind::no_such_graph, "no such graph '" + std::string(name) + "'");
  const auto& nodes = graph->shared->plan->nodes;
  const auto planned = std::find_if(nodes.begin(), nodes.end(), [&](const PlannedNode& n) { return n.id == node; });
  if (planned == nodes.end())
    throw TapError(TapError::Kind::no_such_node,
                   "graph '" + std::string(name) + "' has no node '" + std::string(node) + "'");
  const auto& outputs = planned->component->outputs;
  std::size_t index = 0;
  std::string known;
  while (index < outputs.size() && outputs[index].name != port) known += "'" + outputs[index++].name + "', ";
  if (index == outputs.size() && port != error_port)
    throw TapError(TapError::Kind::no_such_port, "node '" + std::string(node) + "' has no out port '" +
                                                     std::string(port) + "' (it has " + known + "'error')");
  auto tap = std::make_shared<PacketTap>(static_cast<std::size_t>(planned - nodes.begin()), index, limits);
  graph->shared->taps->attach(tap);
  return tap;
}

Admission Runtime::replay_dead_letters(std::string_view name, const std::vector<std::uint64_t>& ids,
                                       std::string_view node) {
  auto graph = impl_->find(name);
  if (!graph) {
    Admission refused;
    refused.status = Admission::Status::no_such_graph;
    return refused;
  }
  DeadLetterStore& store = *graph->shared->dead_letters;
  // One stream per target node: each letter goes back to the node it failed in, or to `node`.
  std::map<std::string, std::vector<DeadLetter>> by_node;
  for (auto& letter : store.take(ids)) {
    std::string target = node.empty() ? letter.node : std::string(node);
    by_node[std::move(target)].push_back(std::move(letter));
  }
  Admission total;
  for (auto group = by_node.begin(); group != by_node.end(); ++group) {
    std::vector<Packet> packets;
    for (const auto& letter : group->second) {
      Packet packet = letter.packet.clone();
      packet.erase_meta(meta::error);
      packet.erase_meta(meta::error_node);
      packets.push_back(std::move(packet));
    }
    Admission a = submit(name, std::move(packets), {}, group->first);
    if (a.status != Admission::Status::accepted) {
      // A letter leaves the store only for a target that took it: this group and the ones
      // after it go back as they were.
      for (auto rest = group; rest != by_node.end(); ++rest) store.put_back(std::move(rest->second));
      a.accepted = total.accepted;
      return a;
    }
    if (total.stream_id.empty()) total.stream_id = a.stream_id;
    total.accepted += a.accepted;
  }
  return total;
}

void Runtime::shutdown() {
  impl_->stopping = true;
  std::lock_guard control(impl_->control);
  if (impl_->stopped) return;
  impl_->stopped = true;
  std::map<std::string, std::shared_ptr<DeployedGraph>, std::less<>> graphs;
  {
    std::unique_lock lock(impl_->graphs_mutex);
    graphs.swap(impl_->graphs);
  }
  // Every source stops before any graph drains: none keeps feeding while the others finish.
  for (auto& [name, graph] : graphs) {
    graph->shared->taps->close_all("shutting down");
    Impl::stop_sources(*graph);
  }
  for (auto& [name, graph] : graphs) Impl::drain(*graph);
  impl_->watchdog.reset();
  for (auto& worker : impl_->workers) worker->stop();
  impl_->io_pool.join();
}

bool Runtime::shutting_down() const { return impl_->stopping; }

}  // namespace sluice
