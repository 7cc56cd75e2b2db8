// sluice/regex.hpp — a PCRE2 pattern compiled (and JIT-compiled) once: the one regex engine of
// the SDK (conditions' `=~`) and of the bundled components (regex_extract, email, url).
//
//   sluice::Regex re("(?<user>[\\w.]+)@(?<host>[\\w.]+)");
//   re.for_each_match(text, [&](const sluice::Regex::Match& m) { use(m.group(0)); return true; });
//   bool yes = re.matches(text);
//
// Patterns are UTF-8 and matching is safe on invalid UTF-8 (the bad bytes match nothing);
// \w, \d and \b follow Unicode properties, as caseless matching does. for_each_match uses the
// Regex's own match block, so one thread at a time calls it; matches() may be called from any
// thread.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice {

// A pattern that does not compile: what PCRE2 says, and the byte offset in the pattern.
class RegexError : public std::invalid_argument {
 public:
  RegexError(const std::string& message, std::size_t offset)
      : std::invalid_argument(message), offset_(offset) {}
  std::size_t offset() const { return offset_; }

 private:
  std::size_t offset_;
};

struct RegexFlags {
  bool caseless = false;   // i
  bool multiline = false;  // m: ^ and $ at every line
  bool dotall = false;     // s: . matches a newline too
  bool extended = false;   // x: whitespace and # comments in the pattern are ignored
};

class Regex {
 public:
  class Match {
   public:
    // The text of group `n` (0: the whole match); empty when the group did not take part.
    std::string_view group(std::size_t n) const;
    bool has_group(std::size_t n) const;

   private:
    friend class Regex;
    std::string_view subject_;
    const std::size_t* offsets_ = nullptr;  // PCRE2's ovector: a start and an end a group
    std::size_t count_ = 0;
  };

  // Throws RegexError.
  explicit Regex(std::string_view pattern, RegexFlags flags = {});
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;

  // Whether the pattern matches anywhere in `subject`.
  bool matches(std::string_view subject) const;
  // Calls `on_match` for each non-overlapping match, left to right, until it returns false.
  void for_each_match(std::string_view subject, const std::function<bool(const Match&)>& on_match);

  std::size_t group_count() const;
  // Named groups with their numbers, in number order.
  const std::vector<std::pair<std::string, std::size_t>>& named_groups() const;

 private:
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
};

}  // namespace sluice
