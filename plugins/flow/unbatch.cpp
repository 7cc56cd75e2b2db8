#include "unbatch.hpp"

#include <stdexcept>
#include <utility>

#include <sluice/json.hpp>

namespace sluice::flow {

ComponentDescriptor Unbatch::descriptor() {
  return {.name = "unbatch",
          .version = "1.0.0",
          .summary = "Emits the packets a batch packet holds (the inverse of batch)",
          .kind = ComponentKind::operator_,
          .params = {{.name = "field",
                      .type = ParamType::string,
                      .description = "array field holding the packets",
                      .default_value = "packets"},
                     {.name = "envelopes",
                      .type = ParamType::boolean,
                      .description = "elements are envelopes {fields, meta, field_meta} (as "
                                     "batch writes with envelopes: true); false: plain objects "
                                     "that take the batch packet's metadata",
                      .default_value = false}},
          .example = {.description = "Unpacks a batch packet into the packets it holds",
                      .input = R"({"packets": [{"n": 1}, {"n": 2}]})",
                      .output = R"({"n": 1}
{"n": 2})"}};
}

Unbatch::Unbatch(const Params& params)
    : field_(params.get_string("field")), envelopes_(params.get_bool("envelopes")) {}

void Unbatch::process(Packet& packet, Emitter& emit) {
  Value* found = packet.find_path(field_);
  if (!found || !found->is_array())
    throw std::runtime_error("unbatch: field '" + field_.text() + "' is " +
                             (found ? found->type_name() : "missing") + ", not an array");
  // Validate everything before emitting anything, so a bad batch fails whole.
  for (const auto& item : found->as_array())
    if (!item.is_object())
      throw std::runtime_error("unbatch: an element of '" + field_.text() + "' is " + item.type_name() +
                               ", not an object");
  Array items = std::move(found->as_array());
  std::vector<Packet> children;
  children.reserve(items.size());
  for (auto& item : items) {
    if (envelopes_) {
      children.push_back(json::envelope_to_packet(std::move(item)));
    } else {
      Packet child(std::move(item.as_object()));
      child.meta() = packet.meta();
      children.push_back(std::move(child));
    }
  }
  for (auto& child : children) emit(std::move(child));
}

}  // namespace sluice::flow
