#include "template.hpp"

#include <stdexcept>

#include "fields.hpp"

namespace sluice::transform {

ComponentDescriptor Template::descriptor() {
  return {.name = "template",
          .version = "1.0.0",
          .summary = "Builds a string field from a template with {field} placeholders",
          .kind = ComponentKind::transformer,
          .params = {{.name = "template",
                      .type = ParamType::string,
                      .description = "text with {path} placeholders (e.g. \"{user.name} <{email}>\"); "
                                     "{{ and }} stand for braces; non-strings appear as JSON",
                      .required = true},
                     path_param("into", "path of the field that receives the text"),
                     {.name = "strict",
                      .type = ParamType::boolean,
                      .description = "a missing field is an error; false: it becomes empty text",
                      .default_value = false}},
          .example = {.description = R"(Builds a "Name <address>" sender line from two fields)",
                      .params = R"(template: "{user.name} <{email}>"
into: from)",
                      .input = R"({"user": {"name": "Ada"}, "email": "ada@example.org"})",
                      .output = R"({"user": {"name": "Ada"}, "email": "ada@example.org", "from": "Ada <ada@example.org>"})"}};
}

namespace {

TextTemplate template_param(const Params& params) {
  try {
    return TextTemplate(params.get_string("template"));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("param 'template': ") + e.what());
  }
}

}  // namespace

Template::Template(const Params& params)
    : template_(template_param(params)), into_(params.get_string("into")), strict_(params.get_bool("strict")) {}

void Template::process(Packet& packet, Emitter& emit) {
  std::string out = template_.render([&](const TextTemplate::Piece& field, std::string& text) {
    if (const Value* v = packet.find_path(field.path)) {
      if (!v->is_null()) text += v->to_display_string();
    } else if (strict_) {
      throw std::runtime_error("template: field '" + field.text + "' is missing");
    }
  });
  set_path_or_throw(packet, into_, std::move(out));
  emit(std::move(packet));
}

}  // namespace sluice::transform
