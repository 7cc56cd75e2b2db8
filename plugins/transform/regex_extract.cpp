#include "regex_extract.hpp"

#include <stdexcept>

#include "fields.hpp"

namespace sluice::transform {

ComponentDescriptor RegexExtract::descriptor() {
  return {.name = "regex_extract",
          .version = "1.0.0",
          .summary = "Extracts regex matches from a text field (named groups become fields)",
          .kind = ComponentKind::extractor,
          .params = {path_param("field", "path of the text field to search"),
                     {.name = "pattern",
                      .type = ParamType::string,
                      .description = "PCRE2 pattern, Unicode-aware (\\w, \\d, \\b match non-ASCII letters "
                                     "and digits); with named groups (?<name>…) each match is "
                                     "an object of them, otherwise the matched text",
                      .required = true},
                     path_param("into", "path that receives the match (or the array of matches)"),
                     {.name = "all",
                      .type = ParamType::boolean,
                      .description = "every match, as an array (possibly empty); false: the "
                                     "first match only, and `into` stays absent without one",
                      .default_value = false},
                     {.name = "caseless",
                      .type = ParamType::boolean,
                      .description = "match regardless of letter case",
                      .default_value = false}},
          .example = {.description = "Splits the first e-mail address of a text into its user and host (named groups)",
                      .params = R"(field: text
pattern: '(?<user>[\w.]+)@(?<host>[\w.-]+\w)'
into: address)",
                      .input = R"({"text": "Write to ada.l@example.org today."}
{"text": "No address here."})",
                      .output = R"({"text": "Write to ada.l@example.org today.", "address": {"user": "ada.l", "host": "example.org"}}
{"text": "No address here."})"}};
}

RegexExtract::RegexExtract(const Params& params)
    : field_(params.get_string("field")),
      into_(params.get_string("into")),
      regex_(compile_param(params.get_string("pattern"), "pattern", {.caseless = params.get_bool("caseless")})),
      all_(params.get_bool("all")) {}

void RegexExtract::process(Packet& packet, Emitter& emit) {
  const Value* text = packet.find_path(field_);
  if (text && !text->is_string())
    throw std::runtime_error("regex_extract: field '" + field_.text() + "' is " + text->type_name() +
                             ", not a string");
  if (text) {
    Array matches;
    regex_.for_each_match(text->as_string(), [&](const Regex::Match& m) {
      if (regex_.named_groups().empty()) {
        matches.emplace_back(m.group(0));
      } else {
        Object groups;
        for (const auto& [name, number] : regex_.named_groups())
          groups.set(name, m.has_group(number) ? Value(m.group(number)) : Value());
        matches.emplace_back(std::move(groups));
      }
      return all_;
    });
    if (all_)
      set_path_or_throw(packet, into_, std::move(matches));
    else if (!matches.empty())
      set_path_or_throw(packet, into_, std::move(matches.front()));
  }
  emit(std::move(packet));
}

}  // namespace sluice::transform
