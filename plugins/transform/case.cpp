#include "case.hpp"

#include <unicode/ucasemap.h>

#include <stdexcept>

#include "fields.hpp"

namespace sluice::transform {

ComponentDescriptor Case::descriptor() {
  return {.name = "case",
          .version = "1.0.0",
          .summary = "Changes the letter case of string fields (Unicode rules: straße → STRASSE)",
          .kind = ComponentKind::transformer,
          .params = {{.name = "fields",
                      .type = ParamType::string_list,
                      .description = "paths of the fields to change (strings, or arrays of "
                                     "strings)",
                      .required = true},
                     {.name = "to",
                      .type = ParamType::string,
                      .description = "upper, lower, or title (the first letter of each word "
                                     "upper, the rest lower; words as Unicode word boundaries "
                                     "find them)",
                      .required = true,
                      .allowed = {"upper", "lower", "title"}}},
          .example = {.description = "Upper-cases city names by Unicode rules (ß becomes SS)",
                      .params = R"(fields: [city]
to: upper)",
                      .input = R"({"city": "Straße"}
{"city": "Zürich"})",
                      .output = R"({"city": "STRASSE"}
{"city": "ZÜRICH"})"}};
}

namespace {
UCaseMap* open_case_map() {
  UErrorCode status = U_ZERO_ERROR;
  // "" is ICU's root locale: the same result whatever the server's locale.
  UCaseMap* map = ucasemap_open("", U_FOLD_CASE_DEFAULT, &status);
  if (U_FAILURE(status))
    throw std::runtime_error(std::string("ICU case map: ") + u_errorName(status));
  return map;
}

}  // namespace

Case::Case(const Params& params)
    : fields_(field_paths(params.get_string_list("fields"))), case_map_(open_case_map(), ucasemap_close) {
  const std::string to = params.get_string("to");
  to_ = to == "upper" ? To::upper : to == "lower" ? To::lower : To::title;
}

void Case::process(Packet& packet, Emitter& emit) {
  auto map = [&](const std::string& in, std::string& out, UErrorCode& status) {
    const auto capacity = static_cast<int32_t>(out.size());
    const auto length = static_cast<int32_t>(in.size());
    switch (to_) {
      case To::upper:
        return ucasemap_utf8ToUpper(case_map_.get(), out.data(), capacity, in.data(), length, &status);
      case To::lower:
        return ucasemap_utf8ToLower(case_map_.get(), out.data(), capacity, in.data(), length, &status);
      case To::title: break;
    }
    return ucasemap_utf8ToTitle(case_map_.get(), out.data(), capacity, in.data(), length, &status);
  };
  for (const auto& field : fields_) {
    Value* value = packet.find_path(field);
    if (!value) continue;
    for_strings(*value, [&](std::string& s) {
      std::string out(s.size() + s.size() / 2 + 4, '\0');
      UErrorCode status = U_ZERO_ERROR;
      auto length = map(s, out, status);
      if (status == U_BUFFER_OVERFLOW_ERROR) {  // mappings may grow text (ß → SS, ŉ → ʼN)
        out.resize(static_cast<std::size_t>(length));
        status = U_ZERO_ERROR;
        length = map(s, out, status);
      }
      if (U_FAILURE(status)) not_utf8("case", field.text());
      out.resize(static_cast<std::size_t>(length));
      s = std::move(out);
    });
  }
  emit(std::move(packet));
}

}  // namespace sluice::transform
