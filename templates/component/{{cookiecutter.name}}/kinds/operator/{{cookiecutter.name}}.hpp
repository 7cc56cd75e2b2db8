// {{cookiecutter.name}} — {{cookiecutter.summary}}.
// A sluice {{cookiecutter.kind}} by {{cookiecutter.author}}.
//
// descriptor() is what the kernel validates graph params against and what
// `sluice plugins describe {{cookiecutter.name}}`, GET /v1/components and the editor show: when you
// change what the component does, change its summary, ports and params there first.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>

#include <sluice/component.hpp>
#include <sluice/json.hpp>

namespace {{cookiecutter.name}} {

// Pairs a packet from `left` with the first waiting packet from `right` that has the same key
// (and the other way round): {"key": k, "left": {...fields}, "right": {...fields}} leaves on
// `out`. Packets still waiting when the inputs close leave on `unpaired`.
class {{cookiecutter.class_name}} final : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {
        .name = "{{cookiecutter.name}}",
        .version = "{{cookiecutter.version}}",
        .summary = "{{cookiecutter.summary}}",
        .kind = sluice::ComponentKind::operator_,
        // Operators name their ports; graphs wire them as `node.left`, `node.unpaired`.
        .inputs = {
            {"left", "packets to pair; their fields go to left"},
            {"right", "packets to pair; their fields go to right"},
        },
        .outputs = {
            {"out", "one packet per pair: key, left and right"},
            {"unpaired", "packets that found no partner: still waiting when the inputs closed, "
                         "or over max_waiting"},
        },
        // Typed params: the kernel checks a graph's values against these before the graph
        // runs (unknown names get a did-you-mean), and fills in the defaults.
        .params = {
            {.name = "key",
             .type = sluice::ParamType::string,
             .description = "field path whose value pairs a left packet with a right one",
             .default_value = "id"},
            {.name = "max_waiting",
             .type = sluice::ParamType::integer,
             .description = "at most this many packets wait for a partner; more leave on "
                            "unpaired at once, so memory stays bounded",
             .default_value = 10000,
             .minimum = 1},
        },
        // Shown by `sluice plugins describe` and GET /v1/components: what it does, by example.
        .example = {.description = "Pairs orders with their payments by order id: wire the orders to example.left and the payments to example.right",
                    .params = "key: order"}};
  }

  // Runs once per graph instance, before any packet: expensive setup belongs here.
  explicit {{cookiecutter.class_name}}(const sluice::Params& params)
      : key_(params.get_string("key")),
        max_waiting_(static_cast<std::size_t>(params.get_int("max_waiting"))) {}

  // A join needs control over its inputs, so it implements run() (its own loop on its own
  // fiber) instead of process().
  void run(sluice::RunContext& ctx) override {
    const std::size_t left = ctx.in_port_index("left");
    const std::size_t unpaired = ctx.out_port_index("unpaired");
    sluice::Received received;
    while (ctx.receive(received)) {
      const sluice::Value* key = received.packet.find_path(key_);
      if (!key) {
        // In run() per-packet errors are ours to route: fail() sends the packet to the
        // node's `error` port or the dead letters.
        ctx.fail(std::move(received.packet), "key field '" + key_.text() + "' is missing");
        continue;
      }
      // The key's JSON text, so that 1 and "1" are different keys.
      const std::string key_text = sluice::json::to_string(*key);
      const bool from_left = received.in_port == left;
      auto& partners = waiting_[from_left ? 1 : 0];
      if (auto found = partners.find(key_text); found != partners.end()) {
        sluice::Packet partner = std::move(found->second.front());
        found->second.pop_front();
        if (found->second.empty()) partners.erase(found);
        --waiting_count_;
        sluice::Packet& left_packet = from_left ? received.packet : partner;
        sluice::Packet& right_packet = from_left ? partner : received.packet;
        sluice::Packet pair;
        pair.set("key", *key);
        pair.set("left", std::move(left_packet.fields()));
        pair.set("right", std::move(right_packet.fields()));
        pair.meta() = std::move(received.packet.meta());
        ctx.emit(std::move(pair));
      } else if (waiting_count_ >= max_waiting_) {
        ctx.emit(unpaired, std::move(received.packet));
      } else {
        waiting_[from_left ? 0 : 1][key_text].push_back(std::move(received.packet));
        ++waiting_count_;
      }
    }
    // The inputs closed (drain, undeploy, shutdown): nothing will pair what still waits.
    for (auto& side : waiting_)
      for (auto& [key, packets] : side)
        for (auto& packet : packets) ctx.emit(unpaired, std::move(packet));
    waiting_[0].clear();
    waiting_[1].clear();
    waiting_count_ = 0;
  }

 private:
  sluice::FieldPath key_;  // parsed once, not per packet
  std::size_t max_waiting_;
  // [0]: from left, [1]: from right; key JSON text → packets in arrival order.
  std::unordered_map<std::string, std::deque<sluice::Packet>> waiting_[2];
  std::size_t waiting_count_ = 0;
};

}  // namespace {{cookiecutter.name}}
