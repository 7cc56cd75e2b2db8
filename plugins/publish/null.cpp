#include "null.hpp"

namespace sluice::publish {

ComponentDescriptor Null::descriptor() {
  return {.name = "null",
          .version = "1.0.0",
          .summary = "Discards every packet (a sink for graphs run for their side effects)",
          .kind = ComponentKind::publisher,
          .example = {.description = "Discards what reaches it, for a graph run for its side effects (or a benchmark)"}};
}

}  // namespace sluice::publish
