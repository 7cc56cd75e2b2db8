#include "keep.hpp"

#include <utility>

#include "flow_params.hpp"

namespace sluice::flow {

ComponentDescriptor Keep::descriptor() {
  return {.name = "keep",
          .version = "1.0.0",
          .summary = "Passes the packets that match a condition, drops the others",
          .kind = ComponentKind::filter,
          .params = {condition_param("packets matching this are passed on")},
          .example = {.description = "Keeps the orders of at least 100, drops the others",
                      .params = R"(if: "total >= 100")",
                      .input = R"({"order": 1, "total": 250}
{"order": 2, "total": 12})",
                      .output = R"({"order": 1, "total": 250})"}};
}

Keep::Keep(const Params& params) : condition_(parse_condition(params, "if")) {}

void Keep::process(Packet& packet, Emitter& emit) {
  if (condition_.matches(packet)) emit(std::move(packet));
}

}  // namespace sluice::flow
