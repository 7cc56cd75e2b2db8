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

}  // namespace sluice
