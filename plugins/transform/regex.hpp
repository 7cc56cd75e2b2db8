// Regex — a PCRE2 pattern compiled (and JIT-compiled) once, for the extractors.
//
//   Regex re("(?<user>[\\w.]+)@(?<host>[\\w.]+)", "pattern");
//   re.for_each_match(text, [&](const Regex::Match& m) { use(m.group(0)); return true; });
//
// Matching is safe on invalid UTF-8 (PCRE2_MATCH_INVALID_UTF); \w, \d and \b are Unicode
// (PCRE2_UCP). A Regex may be used by one
// thread at a time (it owns its match block); each component instance has its own.
#pragma once

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::transform {

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
    const PCRE2_SIZE* offsets_ = nullptr;
    std::size_t count_ = 0;
  };

  // Throws std::invalid_argument naming `param` and the offset of the problem.
  Regex(const std::string& pattern, const std::string& param, bool caseless = false);

  // Calls `on_match` for each non-overlapping match, left to right, until it returns false.
  void for_each_match(std::string_view subject, const std::function<bool(const Match&)>& on_match);

  std::size_t group_count() const { return group_count_; }
  // Named groups with their numbers, in number order.
  const std::vector<std::pair<std::string, std::size_t>>& named_groups() const { return names_; }

 private:
  struct CodeDeleter {
    void operator()(pcre2_code* c) const { pcre2_code_free(c); }
  };
  struct DataDeleter {
    void operator()(pcre2_match_data* d) const { pcre2_match_data_free(d); }
  };
  std::unique_ptr<pcre2_code, CodeDeleter> code_;
  std::unique_ptr<pcre2_match_data, DataDeleter> data_;
  std::size_t group_count_ = 0;
  std::vector<std::pair<std::string, std::size_t>> names_;
};

}  // namespace sluice::transform
