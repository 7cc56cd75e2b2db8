#include "rename_field.hpp"

#include <stdexcept>

#include "fields.hpp"

namespace sluice::transform {

ComponentDescriptor RenameField::descriptor() {
  return {.name = "rename_field",
          .version = "1.0.0",
          .summary = "Renames (moves) a field, keeping its field metadata",
          .kind = ComponentKind::transformer,
          .params = {path_param("from", "path of the field to rename"),
                     path_param("to", "its new path (replaced if present)")},
          .example = {.description = "Renames msg to message",
                      .params = R"(from: msg
to: message)",
                      .input = R"({"msg": "disk full", "level": "error"})",
                      .output = R"({"level": "error", "message": "disk full"})"}};
}

RenameField::RenameField(const Params& params)
    : from_(params.get_string("from")), to_(params.get_string("to")) {
  if (from_.text() == to_.text()) throw std::invalid_argument("params 'from' and 'to' are the same field");
}

void RenameField::process(Packet& packet, Emitter& emit) {
  if (from_.is_top_level() && to_.is_top_level()) {
    packet.rename(from_.steps().front().key, to_.steps().front().key);
  } else if (Value* v = packet.find_path(from_)) {
    Value moved = std::move(*v);
    erase_path(packet, from_);
    set_path_or_throw(packet, to_, std::move(moved));
  }
  emit(std::move(packet));
}

}  // namespace sluice::transform
