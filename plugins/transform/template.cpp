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

Template::Template(const Params& params)
    : into_(params.get_string("into")), strict_(params.get_bool("strict")) {
  const std::string text = params.get_string("template");
  std::string literal;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      literal += c;
      ++i;
    } else if (c == '{') {
      const auto close = text.find('}', i);
      if (close == std::string::npos)
        throw std::invalid_argument("param 'template': '{' at offset " + std::to_string(i) +
                                    " is not closed (write {{ for a brace)");
      std::string path = text.substr(i + 1, close - i - 1);
      if (path.empty())
        throw std::invalid_argument("param 'template': empty {} at offset " + std::to_string(i));
      if (!literal.empty()) pieces_.push_back({std::move(literal), false});
      literal.clear();
      pieces_.push_back({std::move(path), true});
      i = close;
    } else if (c == '}') {
      throw std::invalid_argument("param 'template': '}' at offset " + std::to_string(i) +
                                  " closes nothing (write }} for a brace)");
    } else {
      literal += c;
    }
  }
  if (!literal.empty()) pieces_.push_back({std::move(literal), false});
}

void Template::process(Packet& packet, Emitter& emit) {
  std::string out;
  for (const auto& piece : pieces_) {
    if (!piece.is_field) {
      out += piece.text;
    } else if (const Value* v = packet.find_path(piece.text)) {
      if (!v->is_null()) out += v->to_display_string();
    } else if (strict_) {
      throw std::runtime_error("template: field '" + piece.text + "' is missing");
    }
  }
  set_path_or_throw(packet, into_, std::move(out));
  emit(std::move(packet));
}

}  // namespace sluice::transform
