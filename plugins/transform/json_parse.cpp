#include "json_parse.hpp"

#include <stdexcept>

#include <sluice/json.hpp>

#include "fields.hpp"

namespace sluice::transform {

ComponentDescriptor JsonParse::descriptor() {
  return {.name = "json_parse",
          .version = "1.0.0",
          .summary = "Parses a string field holding JSON text into a JSON value",
          .kind = ComponentKind::transformer,
          .params = {path_param("field", "path of the string field holding JSON"),
                     path_param("into", "path that receives the value (default: the field "
                                        "itself)",
                                false)},
          .example = {.description = "Turns a field that holds JSON text into the JSON value",
                      .params = "field: payload",
                      .input = R"({"payload": "{\"temperature\": 21.5, \"tags\": [\"a\", \"b\"]}"})",
                      .output = R"({"payload": {"temperature": 21.5, "tags": ["a", "b"]}})"}};
}

JsonParse::JsonParse(const Params& params)
    : field_(params.get_string("field")), into_(params.get_string("into", field_.text())) {}

void JsonParse::process(Packet& packet, Emitter& emit) {
  if (const Value* v = packet.find_path(field_)) {
    if (!v->is_string())
      throw std::runtime_error("json_parse: field '" + field_.text() + "' is " + v->type_name() +
                               ", not a string");
    Value parsed;
    try {
      parsed = json::parse(v->as_string());
    } catch (const json::ParseError& e) {
      throw std::runtime_error("json_parse: field '" + field_.text() + "': " + e.what());
    }
    set_path_or_throw(packet, into_, std::move(parsed));
  }
  emit(std::move(packet));
}

}  // namespace sluice::transform
