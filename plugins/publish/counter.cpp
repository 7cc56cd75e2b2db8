#include "counter.hpp"

#include "stderr_writer.hpp"

namespace sluice::publish {

ComponentDescriptor Counter::descriptor() {
  return {.name = "counter",
          .version = "1.0.0",
          .summary = "Counts packets and logs the count to stderr (every n packets and at the end)",
          .kind = ComponentKind::publisher,
          .params = {{.name = "label",
                      .type = ParamType::string,
                      .description = "name printed before the count",
                      .default_value = "counter"},
                     {.name = "every",
                      .type = ParamType::integer,
                      .description = "log the count every this many packets (0: only at the end)",
                      .default_value = 0,
                      .minimum = 0}},
          .example = {.description = "Logs how many orders went through, every 10 000 and at the end",
                      .params = R"(label: orders
every: 10000)"}};
}

Counter::Counter(const Params& params)
    : label_(params.get_string("label")), every_(static_cast<std::uint64_t>(params.get_int("every"))) {}

void Counter::process(Packet&, Emitter&) {
  ++count_;
  if (every_ > 0 && count_ % every_ == 0) report();
}

void Counter::flush(Emitter&) { report(); }

void Counter::report() const {
  write_stderr(label_ + ": " + std::to_string(count_) + " packets\n");
}

}  // namespace sluice::publish
