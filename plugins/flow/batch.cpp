#include "batch.hpp"

#include <chrono>
#include <utility>

namespace sluice::flow {

namespace {

// A packet as a batch holds it: its envelope, moved.
Value envelope_of(Packet&& packet) {
  return Object{{"fields", std::move(packet.fields())},
                {"meta", std::move(packet.meta())},
                {"field_meta", std::move(packet.field_meta())}};
}

}  // namespace

ComponentDescriptor Batch::descriptor() {
  return {.name = "batch",
          .version = "1.0.0",
          .summary = "Collects up to n packets, or what arrived within t ms of the first, into "
                     "one packet",
          .kind = ComponentKind::operator_,
          .params = {{.name = "size",
                      .type = ParamType::integer,
                      .description = "emit when the batch holds this many packets",
                      .default_value = 100,
                      .minimum = 1,
                      .maximum = 1000000},
                     {.name = "max_wait_ms",
                      .type = ParamType::integer,
                      .description = "emit a smaller batch this many ms after its first packet "
                                     "arrived (0: only by size, and when the graph stops or "
                                     "`sluice run`'s input ends); a packet's stream is done once "
                                     "its batch is emitted",
                      .default_value = 1000,
                      .minimum = 0},
                     {.name = "field",
                      .type = ParamType::string,
                      .description = "array field of the batch packet that holds the packets",
                      .default_value = "packets"},
                     {.name = "envelopes",
                      .type = ParamType::boolean,
                      .description = "store each packet as {fields, meta, field_meta} to keep "
                                     "its metadata; false: its fields only (the batch packet "
                                     "takes the first packet's metadata)",
                      .default_value = false}},
          .example = {.description = "Groups packets by two; the last, smaller batch leaves when the input ends",
                      .params = "size: 2",
                      .input = R"({"n": 1}
{"n": 2}
{"n": 3})",
                      .output = R"({"packets": [{"n": 1}, {"n": 2}]}
{"packets": [{"n": 3}]})"}};
}

Batch::Batch(const Params& params)
    : size_(static_cast<std::size_t>(params.get_int("size"))),
      max_wait_(std::chrono::milliseconds(params.get_int("max_wait_ms"))),
      field_(params.get_string("field")),
      envelopes_(params.get_bool("envelopes")) {}

void Batch::run(RunContext& ctx) {
  Array held;
  Object first_meta;
  Clock::time_point deadline = Clock::time_point::max();
  auto emit_batch = [&] {
    if (held.empty()) return;
    Packet batch;
    batch.meta() = std::move(first_meta);
    batch.set(field_, std::move(held));
    held = Array();
    first_meta = Object();
    deadline = Clock::time_point::max();
    ctx.emit(std::move(batch));
    ctx.release_held();  // their streams complete now, with the batch on its way
  };
  Received received;
  for (;;) {
    const ReceiveStatus status = ctx.receive(received, deadline);
    if (status == ReceiveStatus::closed) break;
    if (status == ReceiveStatus::timeout) {
      emit_batch();
      continue;
    }
    if (held.empty()) {
      first_meta = received.packet.meta();
      if (max_wait_.count() > 0) deadline = ctx.now() + max_wait_;
    }
    if (envelopes_)
      held.push_back(envelope_of(std::move(received.packet)));
    else
      held.push_back(std::move(received.packet.fields()));
    ctx.hold();  // its stream waits for the batch it is in
    if (held.size() >= size_) emit_batch();
  }
  emit_batch();
}

}  // namespace sluice::flow
