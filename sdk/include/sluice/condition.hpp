// sluice::Condition — a boolean expression over a packet, for filters and routers.
//
//   auto adult = sluice::Condition::parse("user.age >= 18 && !exists(user.banned)");
//   auto news = sluice::Condition::parse("contains(tags, 'news') || title =~ /breaking/i");
//   auto csv = sluice::Condition::parse("@mimetype == 'text/csv'");   // packet metadata
//   if (adult.matches(packet)) ...
//
// Syntax (docs/conditions.md has the full reference):
//   comparisons  == != < <= > >=   between field paths (`user.age`, `tags[0]`, `a["x.y"]`),
//                packet metadata (`@mimetype`, `@route`) and literals: numbers, 'strings' or
//                "strings", true, false, null
//   logic        && || ! and parentheses; a lone operand tests truthiness
//   functions    exists(path), contains(path, value) (substring, array element or object key)
//   regex        path =~ /pattern/flags   (PCRE2, compiled and JIT-compiled once in parse();
//                flags i m s x)
// A missing field compares like null. Ordering (< <= > >=) holds only between two numbers or
// two strings; anything else is false.
//
// parse() throws ConditionError with the 1-based column of the problem. A parsed Condition is
// immutable: copies share it, and matches() may run on several threads at once.
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "sluice/packet.hpp"

namespace sluice {

class ConditionError : public std::invalid_argument {
 public:
  ConditionError(const std::string& reason, std::size_t column);
  std::size_t column() const { return column_; }  // 1-based, in bytes
  const std::string& reason() const { return reason_; }  // the message without the column

 private:
  std::string reason_;
  std::size_t column_;
};

class Condition {
 public:
  static Condition parse(std::string_view text);

  bool matches(const Packet& packet) const;
  const std::string& text() const { return text_; }

  // Evaluation tree, defined in condition.cpp.
  struct Node;

 private:
  Condition(std::string text, std::shared_ptr<const Node> root)
      : text_(std::move(text)), root_(std::move(root)) {}
  std::string text_;
  std::shared_ptr<const Node> root_;
};

}  // namespace sluice
