// sluice::FieldPath — a field path (`user.emails[0]`, `a["x.y"].b`) parsed once: a component
// that looks up the same path in every packet keeps one, instead of handing the text to
// find_path(), which parses it again on each call.
//
//   const sluice::FieldPath field(params.get_string("field"));   // in the constructor
//   if (const sluice::Value* v = packet.find_path(field)) ...     // per packet
//   packet.set_path(field, 42);
//
// A text that is not a path (`a.`, `[x]`, `a[1`) gives a path that finds nothing and sets
// nothing, as the text itself does with find_path() and set_path(); valid() tells.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

class FieldPath {
 public:
  // One step: an object key or an array index.
  struct Step {
    std::string key;
    std::size_t index = 0;
    bool is_index = false;
  };

  FieldPath() = default;  // finds nothing
  explicit FieldPath(std::string_view text);

  bool valid() const { return !steps_.empty(); }
  const std::string& text() const { return text_; }
  const std::vector<Step>& steps() const { return steps_; }  // empty when not valid
  // One key: a top-level field (`name`, not `user.name` or `tags[0]`).
  bool is_top_level() const { return steps_.size() == 1 && !steps_.front().is_index; }
  // The path without its last step: `a.b[0]` → `a.b`, `a` → one that finds nothing.
  FieldPath parent() const;

 private:
  std::string text_;
  std::vector<Step> steps_;
  std::size_t last_step_at_ = 0;  // where in text_ the last step begins (its '[' or its key)
};

// One FieldPath per text, in order: a list param of paths.
inline std::vector<FieldPath> field_paths(const std::vector<std::string>& texts) {
  std::vector<FieldPath> paths;
  paths.reserve(texts.size());
  for (const auto& text : texts) paths.emplace_back(text);
  return paths;
}

}  // namespace sluice
