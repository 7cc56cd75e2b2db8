#include "trim.hpp"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <optional>
#include <stdexcept>

#include "fields.hpp"

namespace sluice::transform {

ComponentDescriptor Trim::descriptor() {
  return {.name = "trim",
          .version = "1.0.0",
          .summary = "Strips characters (Unicode whitespace by default) from both ends of string "
                     "fields",
          .kind = ComponentKind::transformer,
          .params = {{.name = "fields",
                      .type = ParamType::string_list,
                      .description = "paths of the fields to trim (strings, or arrays of "
                                     "strings); unset: every top-level string field"},
                     {.name = "chars",
                      .type = ParamType::string,
                      .description = "the characters to strip; unset: every Unicode White_Space "
                                     "character (space, tab, line breaks, NBSP, U+3000 …)"}},
          .example = {.description = "Strips the spaces, tabs and no-break spaces around a name",
                      .params = "fields: [name]",
                      .input = R"({"name": "  Ada Lovelace\t\u00a0"})",
                      .output = R"({"name": "Ada Lovelace"})"}};
}

namespace {
// The code points of UTF-8 `text`; nullopt when it is not UTF-8.
std::optional<std::u32string> code_points(std::string_view text) {
  std::u32string out;
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const auto length = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < length;) {
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c < 0) return std::nullopt;
    out += static_cast<char32_t>(c);
  }
  return out;
}
}  // namespace

Trim::Trim(const Params& params)
    : fields_(params.has("fields") ? field_paths(params.get_string_list("fields")) : std::vector<FieldPath>{}) {
  if (!params.has("chars")) return;
  auto chars = code_points(params.get_string("chars"));
  if (!chars) throw std::invalid_argument("param 'chars' is not valid UTF-8");
  if (chars->empty()) throw std::invalid_argument("param 'chars' is empty");
  chars_ = std::move(*chars);
}

void Trim::process(Packet& packet, Emitter& emit) {
  auto strip = [&](UChar32 c) {
    return chars_.empty() ? u_isUWhiteSpace(c) : chars_.find(static_cast<char32_t>(c)) != chars_.npos;
  };
  auto trim = [&](const std::string& field, std::string& s) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(s.data());
    const auto length = static_cast<int32_t>(s.size());
    int32_t begin = 0, end = length;
    for (int32_t next = 0; begin < length; begin = next) {
      UChar32 c;
      U8_NEXT(bytes, next, length, c);
      if (c < 0) not_utf8("trim", field);
      if (!strip(c)) break;
    }
    for (int32_t previous = end; end > begin; end = previous) {
      UChar32 c;
      U8_PREV(bytes, 0, previous, c);
      if (c < 0) not_utf8("trim", field);
      if (!strip(c)) break;
    }
    s = s.substr(static_cast<std::size_t>(begin), static_cast<std::size_t>(end - begin));
  };
  if (fields_.empty()) {
    for (auto& [name, value] : packet.fields())
      if (value.is_string()) trim(name, value.as_string());
  } else {
    for (const auto& field : fields_)
      if (Value* value = packet.find_path(field))
        for_strings(*value, [&](std::string& s) { trim(field.text(), s); });
  }
  emit(std::move(packet));
}

}  // namespace sluice::transform
