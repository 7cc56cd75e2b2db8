#include "drop.hpp"

#include <utility>

#include "flow_params.hpp"

namespace sluice::flow {

ComponentDescriptor Drop::descriptor() {
  return {.name = "drop",
          .version = "1.0.0",
          .summary = "Drops the packets that match a condition, passes the others",
          .kind = ComponentKind::filter,
          .params = {condition_param("packets matching this are dropped")},
          .example = {.description = "Drops debug lines, passes the rest",
                      .params = R"(if: "level == 'debug'")",
                      .input = R"({"level": "debug", "msg": "tick"}
{"level": "error", "msg": "disk full"})",
                      .output = R"({"level": "error", "msg": "disk full"})"}};
}

Drop::Drop(const Params& params) : condition_(parse_condition(params, "if")) {}

void Drop::process(Packet& packet, Emitter& emit) {
  if (!condition_.matches(packet)) emit(std::move(packet));
}

}  // namespace sluice::flow
