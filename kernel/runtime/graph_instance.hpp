// GraphInstance — one running copy of a graph on one worker thread.
//
// Owns the component instances (constructed at deploy, on the deploying thread), the bounded
// queues between them, and one fiber per node plus an ingress fiber, all on its worker. Only
// the ingress channel and the counters are touched from other threads.
//
// Stream accounting: every packet in a queue belongs to a stream (or none, for packets a
// component makes up on a timer or at flush). A stream's `open_deliveries` count rises once for
// every queue a packet enters and falls when the receiving node is done with it (it asks for
// the next one, or its run ends); at zero, with all its packets admitted, the stream is
// complete. The instance's own counts: `queued` (submitted, not yet taken in by the sources)
// and `unfinished` (submitted, not yet through the graph: the queued ones included).
#pragma once

#include <atomic>
#include <boost/fiber/buffered_channel.hpp>
#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <sluice/component.hpp>

#include "graph/graph_spec.hpp"
#include "isolation/hosted_component.hpp"
#include "runtime/dead_letter_store.hpp"
#include "runtime/fiber_signal.hpp"
#include "runtime/packet_tap.hpp"
#include "runtime/runtime.hpp"
#include "runtime/stream_table.hpp"

namespace sluice {

// What the instances of one deployed graph share.
struct GraphShared {
  std::shared_ptr<const GraphPlan> plan;
  std::shared_ptr<DeadLetterStore> dead_letters;
  StreamTable& streams;
  std::size_t max_results_per_stream;
  std::shared_ptr<TapBoard> taps;
  std::size_t fiber_stack_bytes;
  std::filesystem::path host_program;  // RuntimeOptions::host_program
  std::size_t ingress_slots;           // ingress_slots_for(RuntimeOptions::max_queued_packets)
};

// Slots of a graph instance's ingress channel: a power of two (the channel's rule) no smaller
// than `max_queued_packets`, so that one-packet submissions meet the packet bound first; at
// most 16384 (128 KiB an instance), the bound on submissions waiting then.
std::size_t ingress_slots_for(std::size_t max_queued_packets);

struct StreamState {
  StreamResult result;
  std::size_t open_deliveries = 0;
  bool admitted = false;
  StreamCallback on_done;
  // The stream's dropped packets, at the slots GraphInstance::drop_slots_ gives each node's
  // causes (counted here, named once the stream completes); empty until the first drop.
  std::vector<std::size_t> dropped_at;
};

struct Submission {
  std::unique_ptr<StreamState> stream;
  std::vector<Packet> packets;
  std::vector<std::size_t> packet_bytes;  // of each packet, counted once at submission
  std::optional<std::size_t> node;  // enter here instead of at the sources
};

// A relaxed counter with a single writer thread (a plain load + store, no locked instruction)
// that other threads may read.
class SingleWriterCounter {
 public:
  void add(std::uint64_t n = 1) { value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void sub(std::uint64_t n = 1) { value_.store(value_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed); }
  std::uint64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A producer that has put this many packets into a queue yields, so the consumer (ranked
// higher by the TopologicalScheduler) runs: hops are batched, yet new input never runs far
// ahead of the packets already in the graph.
inline constexpr std::size_t hop_batch = 32;

struct QueuedPacket {
  Packet packet;
  StreamState* stream = nullptr;
  std::size_t bytes = 0;  // packet_bytes(packet) when it was queued
};

class NodeRuntime;

// A FIFO of packets into one input of a node (one per edge, plus one for ingress), bounded in
// packets and in bytes; a packet larger than the byte bound enters only an empty queue.
class PacketQueue {
 public:
  PacketQueue(NodeRuntime& consumer, std::size_t capacity, std::size_t capacity_bytes, std::size_t in_port)
      : consumer_(consumer), capacity_(capacity), capacity_bytes_(capacity_bytes), in_port_(in_port) {}
  ~PacketQueue();
  PacketQueue(const PacketQueue&) = delete;
  PacketQueue& operator=(const PacketQueue&) = delete;
  bool empty() const { return count_ == 0; }
  // Whether a packet of `bytes` would have to wait.
  bool full(std::size_t bytes) const {
    return count_ == capacity_ || (count_ != 0 && bytes_ + bytes > capacity_bytes_);
  }
  std::size_t size() const { return count_; }
  std::size_t in_port() const { return in_port_; }
  // Waits (this fiber only) while full, then queues and wakes the consumer; `bytes` is
  // packet_bytes(packet).
  void put(Packet&& packet, StreamState* stream, std::size_t bytes);
  // Moves the oldest packet into `packet` and returns its stream; the queue must not be empty.
  StreamState* take(Packet& packet);
  // A producer is done: the consumer sees the end once every producer closed.
  void close_writer();
  bool open() const { return writers_ > 0; }

  FiberSignal space;     // the producer waits here while the queue is full

 private:
  NodeRuntime& consumer_;
  // Raw storage, allocated on first put: slots are constructed by put and destroyed by take,
  // which saves a move-assignment per hop over a vector of live slots.
  QueuedPacket* slots_ = nullptr;
  std::size_t head_ = 0, count_ = 0, bytes_ = 0;
  int writers_ = 1;
  std::size_t capacity_;
  std::size_t capacity_bytes_;
  std::size_t in_port_;
};

class GraphInstance;

class NodeRuntime final : public RunContext {
 public:
  NodeRuntime(GraphInstance& instance, std::size_t index, std::unique_ptr<Component> component);

  // RunContext
  using RunContext::receive;
  ReceiveStatus receive(Received& into, Clock::time_point deadline) override;
  void emit(std::size_t out_port, Packet&& packet) override;
  std::size_t out_port_index(std::string_view name) const override;
  void deliver(Packet&& result) override;
  void fail(Packet&& packet, std::string_view message) override;
  Clock::time_point now() const override { return Clock::now(); }
  std::size_t in_port_index(std::string_view name) const override;
  const std::string& node_path() const override { return path_; }
  void hold() override;
  void release_held() override;

  void run();  // the node's fiber body

  // Wiring, set up by GraphInstance before start.
  std::vector<std::unique_ptr<PacketQueue>> inputs;       // edges in, then the ingress queue
  std::vector<std::vector<PacketQueue*>> outputs;         // per out port (last = `error`)
  PacketQueue* ingress = nullptr;                         // inputs.back()
  bool is_sink = false;                                   // no edge leaves a data port

  // out: packets emitted to a data port (once, however many edges take a copy); filtered:
  // taken in and nothing emitted, no error; depth and depth_bytes: what waits on the node's
  // inputs.
  SingleWriterCounter in, out, errors, filtered, depth, depth_bytes, busy_ns;
  // Per out port (`error` last): packets emitted to it while no edge leaves it.
  std::vector<SingleWriterCounter> dropped_at_port;
  FiberSignal data;  // this node waits here for input
  // isolation: process: how its host is doing (null for a node in the kernel's process).
  std::shared_ptr<HostState> host;
  // Inside its component now, not waiting for input or for room downstream; and found so, on
  // one packet, for longer than the node's timeout (runtime/stall_watchdog.hpp).
  std::atomic<bool> in_component{false};
  std::atomic<bool> stalled{false};
  // The watchdog's sample (its thread only): stalled when in_component stays true and the
  // counters stay as they are for the node's timeout.
  void watch_for_stall(Clock::time_point now);

 private:
  void finish_current();
  // Hands the packet to the taps on that port, if any (the test is one relaxed load).
  void show_taps(std::size_t out_port, const Packet& packet) {
    if (taps_.watched(index_, out_port)) [[unlikely]] taps_.offer(index_, out_port, packet);
  }
  void finish(StreamState* stream, bool failed, std::size_t emitted);
  void push(PacketQueue& queue, Packet&& packet, StreamState* stream, std::size_t bytes);
  // The stream of what the node emits now: that of the packet it is processing, or with none
  // (a batch emitted at a timeout or at the end) that of the oldest packet it holds.
  StreamState* emitting_stream();
  void run_blocking_component();
  void relay_source();
  void suspend_timer_stop();
  void suspend_timer_start();

  GraphInstance& instance_;
  std::size_t index_;
  const PlannedNode& planned_;
  TapBoard& taps_;
  std::unique_ptr<Component> component_;  // null for a source node: it relays what is sent
  std::string path_;
  std::size_t next_input_ = 0;
  StreamState* current_ = nullptr;  // stream of the packet being processed
  bool holding_ = false;            // a received packet is not finished yet
  bool current_failed_ = false;
  struct Held {
    StreamState* stream;
    bool failed;
    std::size_t emitted;
  };
  std::vector<Held> held_;  // received packets a batching component has not released
  bool held_passed_on_ = false;  // something was emitted for the held packets
  std::size_t emitted_ = 0;          // emits since the last receive
  std::uint64_t received_ = 0;
  Clock::time_point running_since_{};
  struct WatchSample {
    std::uint64_t progress = 0;  // in + out + errors when last sampled
    Clock::time_point since{};   // when progress last changed or the node last waited
  } watch_;

  friend class GraphInstance;
};

class GraphInstance {
 public:
  // Constructs every component; throws DeployError naming the node when one fails.
  GraphInstance(std::shared_ptr<GraphShared> shared, std::size_t worker);
  ~GraphInstance();

  // On the worker thread: launches the fibers.
  void start();
  // Any thread; `bytes` is the sum of submission.packet_bytes. Unless accepted, the
  // submission is untouched: `full` when ingress_slots submissions wait already, `closed`
  // once the ingress is closed (the instance drains). The caller bounds packets and bytes
  // (Runtime checks `queued` and `queued_bytes` first).
  enum class SubmitOutcome { accepted, full, closed };
  SubmitOutcome try_submit(Submission& submission, std::size_t bytes);
  // Any thread: no more submissions; the graph drains, then done() becomes ready.
  void close_ingress();
  std::shared_future<void> done() const { return done_future_; }

  std::size_t worker() const { return worker_; }
  const GraphPlan& plan() const { return *shared_->plan; }
  GraphShared& shared() { return *shared_; }
  const std::vector<std::unique_ptr<NodeRuntime>>& nodes() const { return nodes_; }

  // Packets submitted but not yet taken in by the sources (and their bytes); and packets
  // submitted and not yet through the graph (the least loaded instance takes the next one).
  std::atomic<std::uint64_t> queued{0};
  std::atomic<std::uint64_t> queued_bytes{0};
  std::atomic<std::uint64_t> unfinished{0};

  // Called by nodes.
  void complete_if_done(StreamState* stream);
  void node_finished();
  // One packet of `stream` left the graph at `node`: `cause` is the out port it was emitted to
  // while unwired (`error` last), or one past them for a packet filtered out.
  void count_drop(StreamState& stream, std::size_t node, std::size_t cause);

 private:
  void ingress_loop();
  void admit(Submission& submission);

  std::shared_ptr<GraphShared> shared_;
  std::size_t worker_;
  std::vector<std::unique_ptr<NodeRuntime>> nodes_;
  // Where each node's causes of drops start in StreamState::dropped_at: its out ports, `error`
  // and "filtered"; the last entry is the total.
  std::vector<std::size_t> drop_slots_;
  // Submissions waiting for the ingress fiber, as pointers (8 bytes a slot, allocated up
  // front): GraphShared::ingress_slots of them, enough that for any --max-queued up to 16384
  // the packet bound refuses before the count of submissions does.
  boost::fibers::buffered_channel<std::unique_ptr<Submission>> ingress_;
  std::unordered_map<StreamState*, std::unique_ptr<StreamState>> live_streams_;
  std::size_t running_nodes_ = 0;
  std::shared_ptr<std::promise<void>> done_promise_ = std::make_shared<std::promise<void>>();
  std::shared_future<void> done_future_ = done_promise_->get_future().share();
};

}  // namespace sluice
