#include "sluice/field_path.hpp"

#include <charconv>

namespace sluice {

namespace {

// Parses `a.b[2]["x.y"]` into `steps`, with where the last one begins; false on malformed syntax.
bool split_path(std::string_view path, std::vector<FieldPath::Step>& steps, std::size_t& last_step_at) {
  std::size_t i = 0;
  const std::size_t n = path.size();
  bool expect_key = true;
  while (i < n) {
    if (path[i] != '.') last_step_at = i;
    if (path[i] == '[') {
      if (expect_key && !steps.empty()) return false;  // `a.[0]`: a dot must precede a key
      ++i;
      if (i < n && (path[i] == '"' || path[i] == '\'')) {
        const char quote = path[i++];
        std::string key;
        while (i < n && path[i] != quote) key += path[i++];
        if (i + 1 >= n || path[i + 1] != ']') return false;
        i += 2;
        steps.push_back({std::move(key), 0, false});
      } else {
        const std::size_t start = i;
        while (i < n && path[i] >= '0' && path[i] <= '9') ++i;
        if (i == start || i >= n || path[i] != ']') return false;
        std::size_t index = 0;
        // from_chars refuses an index that overflows instead of wrapping it to a small one.
        if (std::from_chars(path.data() + start, path.data() + i, index).ec != std::errc())
          return false;
        ++i;
        steps.push_back({{}, index, true});
      }
      expect_key = false;
    } else if (path[i] == '.') {
      if (expect_key) return false;
      ++i;
      expect_key = true;
      if (i >= n) return false;
    } else {
      if (!expect_key) return false;
      const std::size_t start = i;
      while (i < n && path[i] != '.' && path[i] != '[') ++i;
      steps.push_back({std::string(path.substr(start, i - start)), 0, false});
      expect_key = false;
    }
  }
  return !steps.empty() && !expect_key;
}

}  // namespace

FieldPath::FieldPath(std::string_view text) : text_(text) {
  if (!split_path(text, steps_, last_step_at_)) steps_.clear();
}

FieldPath FieldPath::parent() const {
  if (steps_.size() < 2) return FieldPath();
  std::string_view before = std::string_view(text_).substr(0, last_step_at_);
  if (before.ends_with('.')) before.remove_suffix(1);
  return FieldPath(before);
}

}  // namespace sluice
