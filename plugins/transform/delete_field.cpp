#include "delete_field.hpp"

#include <algorithm>
#include <stdexcept>

namespace sluice::transform {

ComponentDescriptor DeleteField::descriptor() {
  return {.name = "delete_field",
          .version = "1.0.0",
          .summary = "Deletes fields by name or wildcard pattern",
          .kind = ComponentKind::transformer,
          .params = {{.name = "fields",
                      .type = ParamType::string_list,
                      .description = "field paths to delete; * and ? match within one level "
                                     "(e.g. [password, \"tmp_*\", \"user.*_token\"])",
                      .required = true}},
          .example = {.description = "Removes a password and every scratch field before the packet is stored",
                      .params = R"(fields: [password, "tmp_*"])",
                      .input = R"({"user": "ada", "password": "s3cret", "tmp_a": 1, "tmp_b": 2})",
                      .output = R"({"user": "ada"})"}};
}

DeleteField::DeleteField(const Params& params) {
  for (const auto& pattern : params.get_string_list("fields")) {
    std::vector<std::string> levels;
    std::size_t start = 0;
    for (std::size_t dot; (dot = pattern.find('.', start)) != std::string::npos; start = dot + 1)
      levels.push_back(pattern.substr(start, dot - start));
    levels.push_back(pattern.substr(start));
    if (std::any_of(levels.begin(), levels.end(), [](const auto& l) { return l.empty(); }))
      throw std::invalid_argument("param 'fields': '" + pattern + "' has an empty level");
    patterns_.push_back(std::move(levels));
  }
}

namespace {

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative * and ? matching with one backtrack point (linear for practical patterns).
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

void erase_matching(Object& object, const std::vector<std::string>& levels, std::size_t level,
                    Packet* top) {
  std::vector<std::string> doomed;
  for (auto& [key, value] : object) {
    if (!glob_match(levels[level], key)) continue;
    if (level + 1 == levels.size())
      doomed.push_back(key);
    else if (value.is_object())
      erase_matching(value.as_object(), levels, level + 1, nullptr);
  }
  for (const auto& key : doomed) {
    if (top)
      top->erase(key);  // also drops the field's metadata
    else
      object.erase(key);
  }
}
}  // namespace

void DeleteField::process(Packet& packet, Emitter& emit) {
  for (const auto& levels : patterns_) erase_matching(packet.fields(), levels, 0, &packet);
  emit(std::move(packet));
}

}  // namespace sluice::transform
