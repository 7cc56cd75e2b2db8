#include "copy_field.hpp"

#include "fields.hpp"

namespace sluice::transform {

ComponentDescriptor CopyField::descriptor() {
  return {.name = "copy_field",
          .version = "1.0.0",
          .summary = "Copies a field's value to another field",
          .kind = ComponentKind::transformer,
          .params = {path_param("from", "path of the field to copy"),
                     path_param("to", "path of the copy (replaced if present)")},
          .example = {.description = "Copies a nested e-mail address to a top-level field",
                      .params = R"(from: user.email
to: contact)",
                      .input = R"({"user": {"name": "Ada", "email": "ada@example.org"}})",
                      .output = R"({"user": {"name": "Ada", "email": "ada@example.org"}, "contact": "ada@example.org"})"}};
}

CopyField::CopyField(const Params& params)
    : from_(params.get_string("from")), to_(params.get_string("to")) {}

void CopyField::process(Packet& packet, Emitter& emit) {
  if (const Value* v = packet.find_path(from_)) {
    Value copy = *v;
    set_path_or_throw(packet, to_, std::move(copy));
  }
  emit(std::move(packet));
}

}  // namespace sluice::transform
