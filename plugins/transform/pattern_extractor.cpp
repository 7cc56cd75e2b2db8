#include "pattern_extractor.hpp"

#include <algorithm>
#include <stdexcept>

#include "fields.hpp"

namespace sluice::transform {

PatternExtractor::PatternExtractor(const Params& params, const std::string& pattern)
    : field_(params.get_string("field")), into_(params.get_string("into")), regex_(compile_param(pattern, "pattern")) {}

std::vector<ParamSpec> PatternExtractor::extractor_params(std::string into_default) {
  return {path_param("field", "path of the text field to search"),
          {.name = "into",
           .type = ParamType::string,
           .description = "path that receives the array of distinct matches, in order of first "
                          "appearance",
           .default_value = std::move(into_default)}};
}

void PatternExtractor::process(Packet& packet, Emitter& emit) {
  const Value* text = packet.find_path(field_);
  if (text && !text->is_string())
    throw std::runtime_error("field '" + field_.text() + "' is " + text->type_name() + ", not a string");
  if (text) {
    Array found;
    regex_.for_each_match(text->as_string(), [&](const Regex::Match& m) {
      std::string_view match = m.group(0);
      // Sentence punctuation right after an address or URL is not part of it; a closing
      // bracket is, when it closes one opened inside (…/wiki/Foo_(bar)).
      auto unbalanced_close = [&](char close, char open) {
        return match.back() == close && std::count(match.begin(), match.end(), close) >
                                            std::count(match.begin(), match.end(), open);
      };
      while (!match.empty() &&
             (std::string_view(".,;:!?'\"").find(match.back()) != std::string_view::npos ||
              unbalanced_close(')', '(') || unbalanced_close(']', '[') ||
              unbalanced_close('}', '{')))
        match.remove_suffix(1);
      const Value candidate(canonical(match));
      if (std::find(found.begin(), found.end(), candidate) == found.end()) found.push_back(candidate);
      return true;
    });
    set_path_or_throw(packet, into_, std::move(found));
  }
  emit(std::move(packet));
}

}  // namespace sluice::transform
