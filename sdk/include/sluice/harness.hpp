// sluice::ComponentHarness — test a component with no kernel and no server.
//
//   auto h = sluice::ComponentHarness::of<Upper>({{"field", "title"}});
//   h.push(sluice::json::to_packet(sluice::json::parse(R"({"title": "a"})")));
//   CHECK(h.output().at(0).get("title")->as_string() == "A");
//   h.advance(std::chrono::seconds(5));   // fake clock: fires receive() deadlines
//   h.close();                            // inputs close: flush() runs, run() returns
//
// The component runs on its own fiber, as in the runtime; push(), advance() and close()
// return once it is waiting again. Packets that failed (thrown in process() or passed to
// ctx.fail()) are in errors(), with the `error` and `error_node` meta set. Packets emitted to
// the implicit `error` port, as a wired error edge would get them, are in output("error").
//
// A source runs in a SourceHarness instead: produce() on a thread of its own with the real
// clock, as in the runtime; what it sends is collected, and its streams are done when the test
// says so:
//
//   sluice::SourceHarness h(sluice::describe<Generate>(), {{"interval_ms", 1}, {"count", 3}});
//   REQUIRE(h.wait_for_packets(3));
//   h.ack_all();   // every stream sent so far completes: the source's on_done callbacks run
//   h.stop();      // as an undeploy: stopping() turns true, produce() returns
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/component.hpp"
#include "sluice/packet.hpp"

namespace sluice {

// What the kernel finds wrong with `descriptor` when it loads the plugin that declares it (an
// empty name, a duplicate port or param, a default outside its own range, …), one sentence
// each; empty when it is sound:  CHECK(sluice::descriptor_problems(describe<Upper>()).empty());
std::vector<std::string> descriptor_problems(const ComponentDescriptor& descriptor);

// `params` checked and completed as a deploy does (defaults filled in, string lists made
// arrays): what the component's constructor would get. std::invalid_argument listing every
// error, one per line.
Params deployed_params(const ComponentDescriptor& descriptor, const Object& params);

class ComponentHarness {
 public:
  // Validates `params` against the descriptor (std::invalid_argument listing every error) and
  // constructs the component (std::runtime_error with the constructor's message).
  explicit ComponentHarness(ComponentDescriptor descriptor, Object params = {});
  template <class T>
  static ComponentHarness of(Object params = {}) {
    return ComponentHarness(describe<T>(), std::move(params));
  }
  ComponentHarness(ComponentHarness&&) noexcept;
  ComponentHarness& operator=(ComponentHarness&&) noexcept;
  ~ComponentHarness();

  void push(Packet packet, std::string_view in_port = "in");
  // Parses a JSON object and pushes it.
  void push_json(std::string_view json_object, std::string_view in_port = "in");
  void advance(std::chrono::milliseconds by);
  void close();

  // Packets emitted so far on an out port (also valid for ports nothing was emitted on).
  std::vector<Packet>& output(std::string_view out_port = "out");
  std::vector<Packet>& errors();
  // Results the component handed back with deliver().
  std::vector<Packet>& delivered();
  const ComponentDescriptor& descriptor() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

class SourceHarness {
 public:
  // Validates and constructs as ComponentHarness does, then starts produce(). `state_dir` is
  // what SourceContext::state_dir() gives; send() waits while `max_in_flight` packets are
  // not acked.
  explicit SourceHarness(ComponentDescriptor descriptor, Object params = {}, std::string state_dir = "",
                         std::size_t max_in_flight = 1024);
  ~SourceHarness();  // stop()
  SourceHarness(const SourceHarness&) = delete;
  SourceHarness& operator=(const SourceHarness&) = delete;

  // Until at least `count` packets were sent in all (taken ones included); false on timeout.
  bool wait_for_packets(std::size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Until produce() has returned by itself; false on timeout.
  bool wait_finished(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The packets sent since the last call, in order.
  std::vector<Packet> take_packets();
  std::size_t streams_sent() const;
  // Completes every stream sent and not yet done (with no errors): runs their callbacks on
  // this thread. Returns how many.
  std::size_t ack_all();
  // Tells the source to stop and waits for produce() to return.
  void stop();
  // What produce() threw ("" when nothing).
  std::string error() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sluice
