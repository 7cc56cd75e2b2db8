#include "set_field.hpp"

#include "fields.hpp"

namespace sluice::transform {

ComponentDescriptor SetField::descriptor() {
  return {.name = "set_field",
          .version = "1.0.0",
          .summary = "Sets a field to a fixed value",
          .kind = ComponentKind::transformer,
          .params = {path_param("field", "path of the field to set (missing objects on the way "
                                         "are created)"),
                     {.name = "value",
                      .type = ParamType::any,
                      .description = "the JSON value to set",
                      .required = true},
                     {.name = "overwrite",
                      .type = ParamType::boolean,
                      .description = "replace a value that is already there; false: only set "
                                     "absent fields (a default)",
                      .default_value = true}},
          .example = {.description = "Marks every packet as new, whatever its status was",
                      .params = R"(field: status
value: new)",
                      .input = R"({"id": 1}
{"id": 2, "status": "old"})",
                      .output = R"({"id": 1, "status": "new"}
{"id": 2, "status": "new"})"}};
}

SetField::SetField(const Params& params)
    : field_(params.get_string("field")),
      value_(params.get("value")),
      overwrite_(params.get_bool("overwrite")) {}

void SetField::process(Packet& packet, Emitter& emit) {
  if (overwrite_ || !packet.find_path(field_)) set_path_or_throw(packet, field_, value_);
  emit(std::move(packet));
}

}  // namespace sluice::transform
