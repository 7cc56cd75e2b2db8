#include "sluice/harness.hpp"

#include <boost/fiber/all.hpp>
#include <deque>
#include <stdexcept>

#include "sluice/json.hpp"

namespace sluice {

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

  // Lets the component fiber run until it parks in receive() again or returns.
  void settle() {
    waiting = false;
    wake.notify_all();
    while (!finished && !waiting) boost::this_fiber::yield();
  }
};

ComponentHarness::ComponentHarness(ComponentDescriptor descriptor, Object params)
    : state_(std::make_unique<State>()) {
  apply_port_defaults(descriptor);
  Object resolved;
  auto errors = validate_params(descriptor, params, resolved);
  if (!errors.empty()) {
    std::string message = descriptor.name + ": invalid params:";
    for (const auto& e : errors) message += "\n  " + e.message;
    throw std::invalid_argument(message);
  }
  std::string error;
  state_->component = descriptor.create(Params(std::move(resolved)), error);
  if (!state_->component)
    throw std::runtime_error(descriptor.name + ": constructor failed: " + error);
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

}  // namespace sluice
