#include "runtime/graph_instance.hpp"

#include <algorithm>
#include <bit>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>
#include <iostream>
#include <memory>

#include <sluice/io.hpp>

#include "runtime/fiber_stacks.hpp"
#include "runtime/packet_bytes.hpp"
#include "runtime/topological_scheduler.hpp"
#include "support/log.hpp"

namespace sluice {

// ---- PacketQueue ---------------------------------------------------------------------------

PacketQueue::~PacketQueue() {
  if (!slots_) return;
  for (std::size_t i = 0; i < count_; ++i) std::destroy_at(slots_ + (head_ + i) % capacity_);
  std::allocator<QueuedPacket>().deallocate(slots_, capacity_);
}

void PacketQueue::put(Packet&& packet, StreamState* stream, std::size_t bytes) {
  while (full(bytes)) space.wait();
  if (!slots_) slots_ = std::allocator<QueuedPacket>().allocate(capacity_);
  if (stream) ++stream->open_deliveries;
  std::size_t tail = head_ + count_;
  if (tail >= capacity_) tail -= capacity_;  // cheaper than %, on the hot path
  std::construct_at(slots_ + tail, QueuedPacket{std::move(packet), stream, bytes});
  ++count_;
  bytes_ += bytes;
  consumer_.depth.add();
  consumer_.depth_bytes.add(bytes);
  consumer_.data.notify();
}

StreamState* PacketQueue::take(Packet& packet) {
  QueuedPacket& slot = slots_[head_];
  packet = std::move(slot.packet);
  StreamState* stream = slot.stream;
  bytes_ -= slot.bytes;
  consumer_.depth_bytes.sub(slot.bytes);
  std::destroy_at(&slot);
  if (++head_ == capacity_) head_ = 0;
  --count_;
  consumer_.depth.sub();
  space.notify();
  return stream;
}

void PacketQueue::close_writer() {
  --writers_;
  consumer_.data.notify();
}

// ---- NodeRuntime ---------------------------------------------------------------------------

NodeRuntime::NodeRuntime(GraphInstance& instance, std::size_t index,
                         std::unique_ptr<Component> component)
    : dropped_at_port(instance.plan().nodes[index].component->outputs.size() + 1),
      instance_(instance),
      index_(index),
      planned_(instance.plan().nodes[index]),
      taps_(*instance.shared().taps),
      component_(std::move(component)),
      path_(instance.plan().name + "/" + planned_.id) {}

void NodeRuntime::suspend_timer_stop() {
  busy_ns.add(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - running_since_).count());
  in_component.store(false, std::memory_order_relaxed);
}

void NodeRuntime::suspend_timer_start() {
  running_since_ = Clock::now();
  in_component.store(true, std::memory_order_relaxed);
}

void NodeRuntime::watch_for_stall(Clock::time_point now) {
  if (host || !component_) return;  // a host is killed at its timeout; a source relay only waits
  const std::uint64_t progress = in.get() + out.get() + errors.get();
  if (!in_component.load(std::memory_order_relaxed) || progress != watch_.progress || watch_.since == Clock::time_point{}) {
    watch_ = {progress, now};
    if (stalled.exchange(false)) log::info("{}: no longer stalled", path_);
    return;
  }
  if (now - watch_.since < planned_.timeout || stalled.load()) return;
  stalled = true;
  log::warn("{}: {} has been busy with one packet for more than its timeout of {} ms: the node is stalled, "
            "and with it its worker (every graph instance on worker {})",
            path_, planned_.component->name, planned_.timeout.count(), instance_.worker());
}

void NodeRuntime::finish_current() {
  if (!holding_) return;
  holding_ = false;
  // Taken in, not failed, nothing emitted, and not a sink: filtered out.
  const bool passed_nothing = !current_failed_ && !is_sink && emitted_ == 0;
  if (passed_nothing) filtered.add();
  StreamState* stream = std::exchange(current_, nullptr);
  if (stream) finish(stream, current_failed_, emitted_);
}

void NodeRuntime::finish(StreamState* stream, bool failed, std::size_t emitted) {
  if (!failed) {
    if (is_sink)
      ++stream->result.sinks[planned_.id];
    else if (emitted == 0)
      instance_.count_drop(*stream, index_, outputs.size());
  }
  --stream->open_deliveries;
  instance_.complete_if_done(stream);
}

void NodeRuntime::hold() {
  if (!holding_) return;
  holding_ = false;
  if (StreamState* stream = std::exchange(current_, nullptr)) held_.push_back({stream, current_failed_, emitted_});
}

void NodeRuntime::release_held() {
  // Held packets the node emitted something for (a batch of them) were passed on, not dropped.
  const std::size_t passed_on = std::exchange(held_passed_on_, false) ? 1 : 0;
  for (const Held& h : std::exchange(held_, {})) finish(h.stream, h.failed, h.emitted + passed_on);
}

StreamState* NodeRuntime::emitting_stream() {
  if (current_ || held_.empty()) return current_;
  held_passed_on_ = true;
  return held_.front().stream;
}

ReceiveStatus NodeRuntime::receive(Received& into, Clock::time_point deadline) {
  finish_current();
  for (;;) {
    const std::size_t n = inputs.size();
    bool open = false;
    for (std::size_t k = 0; k < n; ++k) {
      PacketQueue& queue = *inputs[(next_input_ + k) % n];
      if (queue.empty()) {
        open = open || queue.open();
        continue;
      }
      next_input_ = (next_input_ + k + 1) % n;
      current_ = queue.take(into.packet);
      into.in_port = queue.in_port();
      holding_ = true;
      current_failed_ = false;
      emitted_ = 0;
      ++received_;
      in.add();
      return ReceiveStatus::packet;
    }
    if (!open) return ReceiveStatus::closed;
    suspend_timer_stop();
    if (deadline == Clock::time_point::max()) {
      data.wait();
    } else if (Clock::now() >= deadline || !data.wait_until(deadline)) {
      suspend_timer_start();
      return ReceiveStatus::timeout;
    }
    suspend_timer_start();
  }
}

void NodeRuntime::push(PacketQueue& queue, Packet&& packet, StreamState* stream, std::size_t bytes) {
  // Time spent waiting for room downstream is not this component's processing time.
  const bool will_wait = queue.full(bytes);
  if (will_wait) suspend_timer_stop();
  queue.put(std::move(packet), stream, bytes);
  if (will_wait) suspend_timer_start();
  ++emitted_;
  if (queue.size() % hop_batch == 0) boost::this_fiber::yield();
}

void NodeRuntime::emit(std::size_t out_port, Packet&& packet) {
  if (out_port >= outputs.size())
    throw std::invalid_argument(path_ + ": no out port #" + std::to_string(out_port));
  show_taps(out_port, packet);
  const auto& targets = outputs[out_port];
  StreamState* stream = emitting_stream();
  if (targets.empty()) {
    dropped_at_port[out_port].add();
    if (stream) instance_.count_drop(*stream, index_, out_port);
    ++emitted_;  // counted as dropped here, not again when the input packet is finished
    return;
  }
  // One packet out, however many edges it is copied to; what goes to `error` counts in errors.
  if (out_port + 1 < outputs.size()) out.add();
  const std::size_t bytes = packet_bytes(packet);
  for (std::size_t i = 0; i + 1 < targets.size(); ++i) push(*targets[i], packet.clone(), stream, bytes);
  push(*targets.back(), std::move(packet), stream, bytes);
}

std::size_t NodeRuntime::out_port_index(std::string_view name) const {
  const auto& outs = planned_.component->outputs;
  for (std::size_t i = 0; i < outs.size(); ++i)
    if (outs[i].name == name) return i;
  if (name == error_port) return outs.size();
  throw std::invalid_argument(path_ + ": no out port '" + std::string(name) + "'");
}

std::size_t NodeRuntime::in_port_index(std::string_view name) const {
  const auto& ins = planned_.component->inputs;
  for (std::size_t i = 0; i < ins.size(); ++i)
    if (ins[i].name == name) return i;
  throw std::invalid_argument(path_ + ": no in port '" + std::string(name) + "'");
}

void NodeRuntime::deliver(Packet&& result) {
  if (!current_) return;  // no one is waiting for a packet that belongs to no stream
  auto& r = current_->result;
  if (r.results.size() < instance_.shared().max_results_per_stream)
    r.results.push_back(std::move(result));
  else
    r.results_truncated = true;
}

void NodeRuntime::fail(Packet&& packet, std::string_view message) {
  errors.add();
  current_failed_ = true;
  packet.set_meta(meta::error, std::string(message));
  packet.set_meta(meta::error_node, path_);
  if (current_) {
    auto& r = current_->result;
    ++r.error_count;
    if (r.errors.size() < instance_.shared().max_results_per_stream)
      r.errors.push_back({path_, std::string(message), packet.clone()});
  }
  const std::size_t error_index = outputs.size() - 1;
  if (!outputs[error_index].empty()) {
    emit(error_index, std::move(packet));
    return;
  }
  show_taps(error_index, packet);
  instance_.shared().dead_letters->add(planned_.id, std::string(message), std::move(packet));
}

void NodeRuntime::run_blocking_component() {
  // process() runs on the I/O pool; what it emits is buffered there and sent from this fiber,
  // because the queues belong to this worker thread.
  struct BufferedEmitter final : Emitter {
    const NodeRuntime& node;
    std::vector<std::pair<std::size_t, Packet>> emitted;
    std::vector<Packet> delivered;
    explicit BufferedEmitter(const NodeRuntime& n) : node(n) {}
    void emit(std::size_t port, Packet&& p) override { emitted.emplace_back(port, std::move(p)); }
    std::size_t out_port_index(std::string_view name) const override { return node.out_port_index(name); }
    void deliver(Packet&& p) override { delivered.push_back(std::move(p)); }
    const std::string& node_path() const override { return node.node_path(); }
  };
  auto forward = [this](BufferedEmitter& buffer) {
    for (auto& [port, p] : buffer.emitted) emit(port, std::move(p));
    for (auto& p : buffer.delivered) deliver(std::move(p));
  };
  Received received;
  while (receive(received)) {
    BufferedEmitter buffer(*this);
    std::string error;
    io::run_blocking([&] {
      try {
        component_->process(received.packet, buffer);
      } catch (const std::exception& e) {
        error = e.what();
      } catch (...) {
        error = "unknown exception";
      }
    });
    forward(buffer);
    if (!error.empty()) fail(std::move(received.packet), error);
  }
  BufferedEmitter buffer(*this);
  io::run_blocking([&] { component_->flush(buffer); });
  forward(buffer);
}

void NodeRuntime::relay_source() {
  // The source's packets arrive on the ingress queue, each batch a stream (SourceRunner). One
  // that carries meta `error` is what the source could not make a packet of (an oversized line,
  // an unreadable record): it goes to the error port, and counts in the stream's errors.
  Received received;
  while (receive(received)) {
    const Value* error = received.packet.get_meta(meta::error);
    if (error && error->is_string()) {
      const std::string message = error->as_string();
      fail(std::move(received.packet), message);
    } else {
      emit(0, std::move(received.packet));
    }
  }
}

void NodeRuntime::run() {
  suspend_timer_start();
  for (;;) {
    if (!component_) {
      relay_source();
      break;
    }
    const std::uint64_t received_before = received_;
    try {
      // An isolated component blocks its own process, never the worker (HostedComponent).
      if (planned_.component->blocking && planned_.isolation == Isolation::in_process)
        run_blocking_component();
      else
        component_->run(*this);
      break;
    } catch (const std::exception& e) {
      log::error("{}: run() threw: {}", path_, e.what());
      fail(Packet(), std::string("run() threw: ") + e.what());
      // A loop that throws again before taking any packet would spin; keep the graph moving
      // by sending what arrives here to the dead letters instead.
      if (received_ == received_before) {
        Received r;
        while (receive(r)) fail(std::move(r.packet), std::string("node stopped: ") + e.what());
        break;
      }
    }
  }
  finish_current();
  release_held();  // a component that returned without releasing: its streams still complete
  suspend_timer_stop();
  for (auto& targets : outputs)
    for (PacketQueue* queue : targets) queue->close_writer();
  instance_.node_finished();
}

// ---- GraphInstance -------------------------------------------------------------------------

GraphInstance::GraphInstance(std::shared_ptr<GraphShared> shared, std::size_t worker)
    : shared_(std::move(shared)), worker_(worker), ingress_(shared_->ingress_slots) {
  const GraphPlan& plan = *shared_->plan;
  nodes_.reserve(plan.nodes.size());
  for (std::size_t i = 0; i < plan.nodes.size(); ++i) {
    const PlannedNode& node = plan.nodes[i];
    if (node.component->kind == ComponentKind::source) {
      // Its component runs once per graph version, on a thread (Runtime); here it is a relay.
      nodes_.push_back(std::make_unique<NodeRuntime>(*this, i, nullptr));
      continue;
    }
    std::string error;
    std::unique_ptr<Component> component;
    std::shared_ptr<HostState> host;
    if (node.isolation == Isolation::process) {
      host = std::make_shared<HostState>();
      component = HostedComponent::start(
          {shared_->host_program, *node.origin, plan.name + "/" + node.id, node.params.values(), node.timeout},
          host, error);
    } else {
      component = node.component->create(node.params, error);
    }
    if (!component)
      throw DeployError(plan.name + "/" + node.id + ": " + node.component->name +
                        " failed to start: " + error);
    nodes_.push_back(std::make_unique<NodeRuntime>(*this, i, std::move(component)));
    nodes_.back()->host = std::move(host);
  }
  drop_slots_.push_back(0);
  for (auto& node : nodes_) {
    node->outputs.resize(node->planned_.component->outputs.size() + 1);  // + `error`
    drop_slots_.push_back(drop_slots_.back() + node->outputs.size() + 1);  // + filtered
  }
  for (const PlannedEdge& edge : plan.edges) {
    auto& target = *nodes_[edge.to_node];
    target.inputs.push_back(std::make_unique<PacketQueue>(target, edge.capacity, edge.capacity_bytes, edge.to_port));
    nodes_[edge.from_node]->outputs[edge.from_port].push_back(target.inputs.back().get());
  }
  for (auto& node : nodes_) {
    node->inputs.push_back(
        std::make_unique<PacketQueue>(*node, default_edge_capacity, default_edge_capacity_bytes, 0));
    node->ingress = node->inputs.back().get();
    const std::size_t data_ports = node->outputs.size() - 1;
    node->is_sink = true;
    for (std::size_t p = 0; p < data_ports; ++p)
      if (!node->outputs[p].empty()) node->is_sink = false;
  }
}

GraphInstance::~GraphInstance() = default;

void GraphInstance::start() {
  running_nodes_ = nodes_.size();
  const GraphPlan& plan = *shared_->plan;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    NodeRuntime* node = nodes_[i].get();
    boost::fibers::fiber fiber(std::allocator_arg,
                               fiber_stacks::GuardedStack(shared_->fiber_stack_bytes,
                                                          plan.name + "/" + plan.nodes[i].id),
                               [node] { node->run(); });
    // Topological index as priority: downstream nodes run first (see TopologicalScheduler).
    fiber.properties<FiberRank>().set_rank(static_cast<int>(i) + 1);
    fiber.detach();
  }
  boost::fibers::fiber(std::allocator_arg,
                       fiber_stacks::GuardedStack(shared_->fiber_stack_bytes, plan.name + " (ingress)"),
                       [this] { ingress_loop(); })
      .detach();
}

std::size_t ingress_slots_for(std::size_t max_queued_packets) {
  return std::bit_ceil(std::clamp<std::size_t>(max_queued_packets, 2, 16384));
}

GraphInstance::SubmitOutcome GraphInstance::try_submit(Submission& submission, std::size_t bytes) {
  const std::size_t n = submission.packets.size();
  queued += n;
  unfinished += n;
  queued_bytes += bytes;
  auto slot = std::make_unique<Submission>(std::move(submission));
  // try_push leaves its argument as it was unless it succeeds.
  const auto status = ingress_.try_push(std::move(slot));
  if (status == boost::fibers::channel_op_status::success) return SubmitOutcome::accepted;
  submission = std::move(*slot);
  queued -= n;
  queued_bytes -= bytes;
  unfinished -= n;
  return status == boost::fibers::channel_op_status::closed ? SubmitOutcome::closed : SubmitOutcome::full;
}

void GraphInstance::close_ingress() { ingress_.close(); }

void GraphInstance::ingress_loop() {
  std::unique_ptr<Submission> submission;
  while (ingress_.pop(submission) == boost::fibers::channel_op_status::success) admit(*submission);
  for (auto& node : nodes_) node->ingress->close_writer();
}

void GraphInstance::admit(Submission& submission) {
  StreamState* stream = submission.stream.get();
  live_streams_.emplace(stream, std::move(submission.stream));
  std::vector<std::size_t> targets;
  if (submission.node)
    targets.push_back(*submission.node);
  else
    targets = plan().sources;
  // `queued` and `queued_bytes` are shared with submitting threads: they are updated per
  // batch. A packet's bytes are those counted at submission (its `stream` meta aside).
  std::size_t taken = 0, taken_bytes = 0;
  const auto release_taken = [&] {
    queued -= std::exchange(taken, 0);
    queued_bytes -= std::exchange(taken_bytes, 0);
  };
  // The `stream` meta is set here, on the worker: the memory it takes is then allocated and
  // freed by the same thread, which glibc's allocator does far faster than across threads.
  const Value stream_id(stream->result.id);
  for (std::size_t i = 0; i < submission.packets.size(); ++i) {
    Packet& packet = submission.packets[i];
    packet.set_meta(meta::stream, stream_id);
    const std::size_t bytes = submission.packet_bytes[i];
    for (std::size_t t = 0; t < targets.size(); ++t) {
      PacketQueue& queue = *nodes_[targets[t]]->ingress;
      if (t + 1 == targets.size())
        queue.put(std::move(packet), stream, bytes);
      else
        queue.put(packet.clone(), stream, bytes);
      if (queue.size() % hop_batch == 0) {
        release_taken();
        boost::this_fiber::yield();
      }
    }
    ++taken;
    taken_bytes += bytes;
  }
  release_taken();
  submission.packets.clear();
  stream->admitted = true;
  complete_if_done(stream);
}

void GraphInstance::count_drop(StreamState& stream, std::size_t node, std::size_t cause) {
  ++stream.result.dropped;
  if (stream.dropped_at.empty()) stream.dropped_at.resize(drop_slots_.back());
  ++stream.dropped_at[drop_slots_[node] + cause];
}

void GraphInstance::complete_if_done(StreamState* stream) {
  if (stream->open_deliveries != 0 || !stream->admitted) return;
  auto owned = std::move(live_streams_.at(stream));
  live_streams_.erase(stream);
  unfinished -= owned->result.accepted;
  if (!owned->dropped_at.empty()) {
    const GraphPlan& graph = plan();
    for (std::size_t node = 0; node < nodes_.size(); ++node) {
      const auto& ports = graph.nodes[node].component->outputs;
      for (std::size_t cause = 0; cause <= ports.size() + 1; ++cause) {
        const std::size_t n = owned->dropped_at[drop_slots_[node] + cause];
        if (n == 0) continue;
        const std::string_view name = cause < ports.size()    ? std::string_view(ports[cause].name)
                                      : cause == ports.size() ? error_port
                                                              : NodeStats::filtered_key;
        owned->result.dropped_at[graph.nodes[node].id][std::string(name)] += n;
      }
    }
  }
  owned->result.state = StreamResult::State::done;
  owned->result.finished = std::chrono::system_clock::now();
  // Recorded before the callback runs, so that whoever the callback wakes finds it done.
  auto result = std::make_shared<const StreamResult>(std::move(owned->result));
  shared_->streams.close(result);
  if (owned->on_done) {
    try {
      owned->on_done(*result);
    } catch (const std::exception& e) {
      log::error("{}: stream completion callback threw: {}", plan().name, e.what());
    }
  }
}

void GraphInstance::node_finished() {
  if (--running_nodes_ != 0) return;
  // The waiting thread may destroy this instance as soon as the value is set, while set_value
  // is still returning: a local reference keeps the promise alive until then.
  const auto done = done_promise_;
  done->set_value();
}

}  // namespace sluice
