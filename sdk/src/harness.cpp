#include "sluice/harness.hpp"

#include <boost/fiber/all.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "sluice/descriptor_rules.hpp"
#include "sluice/json.hpp"

namespace sluice {

std::vector<std::string> descriptor_problems(const ComponentDescriptor& descriptor) {
  return check_descriptor(descriptor);
}

Params deployed_params(const ComponentDescriptor& descriptor, const Object& params) {
  Object resolved;
  const auto errors = validate_params(descriptor, params, resolved);
  if (!errors.empty()) {
    std::string message = descriptor.name + ": invalid params:";
    for (const auto& e : errors) message += "\n  " + e.message;
    throw std::invalid_argument(message);
  }
  return Params(std::move(resolved));
}

namespace {

// Validates `params` (std::invalid_argument listing every error) and constructs the component
// (std::runtime_error with the constructor's message), as a deploy would.
std::unique_ptr<Component> construct(ComponentDescriptor& descriptor, const Object& params) {
  apply_port_defaults(descriptor);
  Params deployed = deployed_params(descriptor, params);
  std::string error;
  auto component = descriptor.create(std::move(deployed), error);
  if (!component) throw std::runtime_error(descriptor.name + ": constructor failed: " + error);
  return component;
}

}  // namespace

// The component runs on a fiber of the calling thread; the test drives it from the main
// fiber and yields until the component is parked in receive() again (or has returned).
struct ComponentHarness::State final : RunContext {
  ComponentDescriptor descriptor;
  std::unique_ptr<Component> component;
  std::string path;
  std::deque<Received> queue;
  bool closed = false;
  bool waiting = false;
  bool finished = false;
  Clock::time_point fake_now = Clock::time_point{} + std::chrono::hours(1);
  boost::fibers::mutex mutex;
  boost::fibers::condition_variable wake;
  boost::fibers::fiber fiber;
  std::vector<std::vector<Packet>> outputs;
  std::vector<Packet> failed;
  std::vector<Packet> results;

  ReceiveStatus receive(Received& into, Clock::time_point deadline) override {
    std::unique_lock lock(mutex);
    for (;;) {
      if (!queue.empty()) {
        into = std::move(queue.front());
        queue.pop_front();
        return ReceiveStatus::packet;
      }
      if (closed) return ReceiveStatus::closed;
      if (fake_now >= deadline) return ReceiveStatus::timeout;
      waiting = true;
      wake.wait(lock);
      waiting = false;
    }
  }

  void emit(std::size_t out_port, Packet&& packet) override {
    if (out_port >= outputs.size())
      throw std::invalid_argument(path + ": no out port #" + std::to_string(out_port));
    outputs[out_port].push_back(std::move(packet));
  }

  void deliver(Packet&& result) override { results.push_back(std::move(result)); }

  std::size_t out_port_index(std::string_view name) const override {
    for (std::size_t i = 0; i < descriptor.outputs.size(); ++i)
      if (descriptor.outputs[i].name == name) return i;
    if (name == error_port) return descriptor.outputs.size();
    throw std::invalid_argument(path + ": no out port '" + std::string(name) + "'");
  }

  std::size_t in_port_index(std::string_view name) const override {
    for (std::size_t i = 0; i < descriptor.inputs.size(); ++i)
      if (descriptor.inputs[i].name == name) return i;
    throw std::invalid_argument(path + ": no in port '" + std::string(name) + "'");
  }

  void fail(Packet&& packet, std::string_view message) override {
    packet.set_meta(meta::error, std::string(message));
    packet.set_meta(meta::error_node, path);
    failed.push_back(std::move(packet));
  }

  Clock::time_point now() const override { return fake_now; }
  const std::string& node_path() const override { return path; }
  // No streams here; a test sees what a batching sink wrote in its files.
  void hold() override {}
  void release_held() override {}

  // Lets the component fiber run until it parks in receive() again or returns.
  void settle() {
    waiting = false;
    wake.notify_all();
    while (!finished && !waiting) boost::this_fiber::yield();
  }
};

ComponentHarness::ComponentHarness(ComponentDescriptor descriptor, Object params)
    : state_(std::make_unique<State>()) {
  state_->component = construct(descriptor, params);
  state_->path = "harness/" + descriptor.name;
  // One more than declared: the implicit `error` port, as the runtime has it.
  state_->outputs.resize(descriptor.outputs.size() + 1);
  state_->descriptor = std::move(descriptor);
  State* state = state_.get();
  state_->fiber = boost::fibers::fiber([state] {
    try {
      state->component->run(*state);
    } catch (const std::exception& e) {
      state->fail(Packet(), std::string("run() threw: ") + e.what());
    }
    state->finished = true;
  });
  state_->settle();
}

ComponentHarness::ComponentHarness(ComponentHarness&&) noexcept = default;
ComponentHarness& ComponentHarness::operator=(ComponentHarness&&) noexcept = default;

ComponentHarness::~ComponentHarness() {
  if (!state_) return;
  close();
  if (state_->fiber.joinable()) state_->fiber.join();
  // The component (code from a plugin) dies before its descriptor's factory.
  state_->component.reset();
}

void ComponentHarness::push(Packet packet, std::string_view in_port) {
  if (state_->closed) throw std::logic_error("push() after close()");
  state_->queue.push_back({state_->in_port_index(in_port), std::move(packet)});
  state_->settle();
}

void ComponentHarness::push_json(std::string_view json_object, std::string_view in_port) {
  push(json::to_packet(json::parse(json_object)), in_port);
}

void ComponentHarness::advance(std::chrono::milliseconds by) {
  state_->fake_now += by;
  state_->settle();
}

void ComponentHarness::close() {
  if (state_->closed) return;
  state_->closed = true;
  state_->settle();
}

std::vector<Packet>& ComponentHarness::output(std::string_view out_port) {
  return state_->outputs.at(state_->out_port_index(out_port));
}

std::vector<Packet>& ComponentHarness::errors() { return state_->failed; }

std::vector<Packet>& ComponentHarness::delivered() { return state_->results; }

const ComponentDescriptor& ComponentHarness::descriptor() const { return state_->descriptor; }

// ---- SourceHarness -------------------------------------------------------------------------

struct SourceHarness::State final : SourceContext {
  ComponentDescriptor descriptor;
  std::unique_ptr<Component> component;
  std::string path, dir;
  std::size_t max_in_flight = 0;
  mutable std::mutex mutex;
  std::condition_variable changed;
  bool stop = false, finished = false;
  std::string error;
  std::size_t in_flight = 0, streams = 0, packets_sent = 0;
  std::vector<Packet> sent;
  std::deque<std::pair<StreamOutcome, StreamDoneCallback>> unacked;
  std::thread thread;

  bool send(std::vector<Packet>&& packets, StreamDoneCallback on_done) override {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return stop || in_flight == 0 || in_flight + packets.size() <= max_in_flight; });
    if (stop) return false;
    in_flight += packets.size();
    packets_sent += packets.size();
    unacked.push_back({{"harness-" + std::to_string(++streams), packets.size(), 0}, std::move(on_done)});
    for (auto& p : packets) sent.push_back(std::move(p));
    changed.notify_all();
    return true;
  }
  bool sleep_until(Clock::time_point deadline) override {
    std::unique_lock lock(mutex);
    changed.wait_until(lock, deadline, [&] { return stop; });
    return !stop;
  }
  bool stopping() const override {
    std::lock_guard lock(mutex);
    return stop;
  }
  Clock::time_point now() const override { return Clock::now(); }
  const std::string& state_dir() const override { return dir; }
  const std::string& node_path() const override { return path; }
};

SourceHarness::SourceHarness(ComponentDescriptor descriptor, Object params, std::string state_dir,
                             std::size_t max_in_flight)
    : state_(std::make_unique<State>()) {
  state_->component = construct(descriptor, params);
  state_->path = "harness/" + descriptor.name;
  state_->dir = std::move(state_dir);
  state_->max_in_flight = max_in_flight;
  state_->descriptor = std::move(descriptor);
  State* state = state_.get();
  state_->thread = std::thread([state] {
    std::string error;
    try {
      state->component->produce(*state);
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = "unknown exception";
    }
    std::lock_guard lock(state->mutex);
    state->error = std::move(error);
    state->finished = true;
    state->changed.notify_all();
  });
}

SourceHarness::~SourceHarness() {
  stop();
  // The component (code from a plugin) dies before its descriptor's factory.
  state_->component.reset();
}

bool SourceHarness::wait_for_packets(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, timeout, [&] { return state_->packets_sent >= count; });
}

bool SourceHarness::wait_finished(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, timeout, [&] { return state_->finished; });
}

std::vector<Packet> SourceHarness::take_packets() {
  std::lock_guard lock(state_->mutex);
  return std::exchange(state_->sent, {});
}

std::size_t SourceHarness::streams_sent() const {
  std::lock_guard lock(state_->mutex);
  return state_->streams;
}

std::size_t SourceHarness::ack_all() {
  std::deque<std::pair<StreamOutcome, StreamDoneCallback>> acking;
  {
    std::lock_guard lock(state_->mutex);
    acking.swap(state_->unacked);
  }
  std::size_t packets = 0;
  for (auto& [outcome, on_done] : acking) {
    if (on_done) on_done(outcome);
    packets += outcome.packets;
  }
  std::lock_guard lock(state_->mutex);
  state_->in_flight -= packets;
  state_->changed.notify_all();
  return acking.size();
}

void SourceHarness::stop() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stop = true;
    state_->changed.notify_all();
  }
  if (state_->thread.joinable()) state_->thread.join();
}

std::string SourceHarness::error() const {
  std::lock_guard lock(state_->mutex);
  return state_->error;
}

}  // namespace sluice
