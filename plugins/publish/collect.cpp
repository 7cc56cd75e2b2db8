#include "collect.hpp"

#include <utility>

namespace sluice::publish {

ComponentDescriptor Collect::descriptor() {
  return {.name = "collect",
          .version = "1.0.0",
          .summary = "Hands each packet back to the submitter: the REST caller waiting with "
                     "?wait=true, or the output of `sluice run`",
          .kind = ComponentKind::publisher,
          .example = {.description = "Hands each packet back to whoever sent it (the ?wait=true caller, or the output of sluice run)",
                      .input = R"({"n": 1}
{"n": 2})",
                      .output = R"({"n": 1}
{"n": 2})"}};
}

void Collect::process(Packet& packet, Emitter& emit) { emit.deliver(std::move(packet)); }

}  // namespace sluice::publish
