#include "sluice/condition.hpp"

#include "sluice/regex.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace sluice {

ConditionError::ConditionError(const std::string& reason, std::size_t column)
    : std::invalid_argument("column " + std::to_string(column) + ": " + reason),
      reason_(reason),
      column_(column) {}

// ---- evaluation tree -----------------------------------------------------------------------

struct Condition::Node {
  virtual ~Node() = default;
  virtual bool test(const Packet& packet) const = 0;
};

namespace {

using Node = Condition::Node;
using NodePtr = std::unique_ptr<const Node>;

// A value in an expression: a literal, a field path or a packet meta name (with a path).
struct Operand {
  enum class Kind { literal, field, meta } kind = Kind::literal;
  Value literal = {};
  std::string name = {};  // the top-level field or the meta name
  FieldPath rest = {};  // the path inside its value (no text: the value itself)

  // nullptr when the field or meta is missing.
  const Value* resolve(const Packet& packet) const {
    if (kind == Kind::literal) return &literal;
    const Value* value = kind == Kind::field ? packet.get(name) : packet.get_meta(name);
    return value && !rest.text().empty() ? value->find_path(rest) : value;
  }
};

bool truthy(const Value* v) {
  if (!v) return false;
  switch (v->type()) {
    case ValueType::null: return false;
    case ValueType::boolean: return v->as_bool();
    case ValueType::integer: return v->as_int() != 0;
    case ValueType::big_integer: return true;
    case ValueType::number: return v->as_double() != 0.0;
    case ValueType::string: return !v->as_string().empty();
    case ValueType::array: return !v->as_array().empty();
    case ValueType::object: return !v->as_object().empty();
  }
  return false;
}

enum class CompareOp { eq, ne, lt, le, gt, ge };

bool equal(const Value* a, const Value* b) {
  static const Value null_value;
  return (a ? *a : null_value) == (b ? *b : null_value);
}

// -1, 0, 1; nullopt when the two are not both numbers or both strings.
std::optional<int> order(const Value* a, const Value* b) {
  if (!a || !b) return std::nullopt;
  if (a->is_int() && b->is_int()) {
    const auto x = a->as_int(), y = b->as_int();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  // Exact when one is above INT64_MAX and the other an integer too: a negative one is smaller.
  if ((a->is_big_int() || a->is_int()) && (b->is_big_int() || b->is_int())) {
    if (!a->is_uint()) return -1;
    if (!b->is_uint()) return 1;
    const auto x = a->as_uint(), y = b->as_uint();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a->is_number() && b->is_number()) {
    const double x = a->as_double(), y = b->as_double();
    if (x < y) return -1;
    if (x > y) return 1;
    if (x == y) return 0;
    return std::nullopt;  // NaN
  }
  if (a->is_string() && b->is_string()) {
    const int c = a->as_string().compare(b->as_string());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return std::nullopt;
}

struct Compare final : Node {
  CompareOp op;
  Operand lhs, rhs;
  Compare(CompareOp o, Operand l, Operand r) : op(o), lhs(std::move(l)), rhs(std::move(r)) {}
  bool test(const Packet& packet) const override {
    const Value* a = lhs.resolve(packet);
    const Value* b = rhs.resolve(packet);
    switch (op) {
      case CompareOp::eq: return equal(a, b);
      case CompareOp::ne: return !equal(a, b);
      default: break;
    }
    const auto c = order(a, b);
    if (!c) return false;
    switch (op) {
      case CompareOp::lt: return *c < 0;
      case CompareOp::le: return *c <= 0;
      case CompareOp::gt: return *c > 0;
      case CompareOp::ge: return *c >= 0;
      default: return false;
    }
  }
};

struct Truthy final : Node {
  Operand operand;
  explicit Truthy(Operand o) : operand(std::move(o)) {}
  bool test(const Packet& packet) const override { return truthy(operand.resolve(packet)); }
};

struct Exists final : Node {
  Operand operand;
  explicit Exists(Operand o) : operand(std::move(o)) {}
  bool test(const Packet& packet) const override { return operand.resolve(packet) != nullptr; }
};

struct Contains final : Node {
  Operand haystack, needle;
  Contains(Operand h, Operand n) : haystack(std::move(h)), needle(std::move(n)) {}
  bool test(const Packet& packet) const override {
    const Value* h = haystack.resolve(packet);
    const Value* n = needle.resolve(packet);
    if (!h || !n) return false;
    if (h->is_string())
      return n->is_string() && h->as_string().find(n->as_string()) != std::string::npos;
    if (h->is_array()) {
      for (const auto& item : h->as_array())
        if (item == *n) return true;
      return false;
    }
    if (h->is_object()) return n->is_string() && h->as_object().contains(n->as_string());
    return false;
  }
};

struct Not final : Node {
  NodePtr inner;
  explicit Not(NodePtr i) : inner(std::move(i)) {}
  bool test(const Packet& packet) const override { return !inner->test(packet); }
};

// `a && b && c` is one node of three terms, not a chain: testing it does not recurse once per term.
struct And final : Node {
  std::vector<NodePtr> terms;
  explicit And(std::vector<NodePtr> t) : terms(std::move(t)) {}
  bool test(const Packet& packet) const override {
    return std::all_of(terms.begin(), terms.end(), [&](const NodePtr& term) { return term->test(packet); });
  }
};

struct Or final : Node {
  std::vector<NodePtr> terms;
  explicit Or(std::vector<NodePtr> t) : terms(std::move(t)) {}
  bool test(const Packet& packet) const override {
    return std::any_of(terms.begin(), terms.end(), [&](const NodePtr& term) { return term->test(packet); });
  }
};

struct RegexMatch final : Node {
  Operand subject;
  Regex regex;
  RegexMatch(Operand s, Regex r) : subject(std::move(s)), regex(std::move(r)) {}
  bool test(const Packet& packet) const override {
    const Value* v = subject.resolve(packet);
    return v && v->is_string() && regex.matches(v->as_string());
  }
};

// ---- parser --------------------------------------------------------------------------------

// Recursive descent over the text; positions are 0-based internally, 1-based in errors.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  NodePtr parse_all() {
    NodePtr node = parse_or();
    skip_space();
    if (pos_ < text_.size()) {
      if (text_.compare(pos_, 1, ")") == 0) error("unbalanced ')'");
      error("expected && or || or the end, got '" + std::string(text_.substr(pos_, 8)) + "'");
    }
    return node;
  }

 private:
  [[noreturn]] void error(const std::string& reason) const { error_at(pos_, reason); }
  [[noreturn]] void error_at(std::size_t at, const std::string& reason) const {
    throw ConditionError(reason, at + 1);
  }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool at_end() {
    skip_space();
    return pos_ >= text_.size();
  }
  // Consumes `token` when it comes next.
  bool accept(std::string_view token) {
    skip_space();
    if (text_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }
  void expect(std::string_view token) {
    if (!accept(token)) {
      if (at_end()) error("expected '" + std::string(token) + "', got the end");
      error("expected '" + std::string(token) + "'");
    }
  }

  NodePtr parse_or() {
    std::vector<NodePtr> terms;
    terms.push_back(parse_and());
    while (accept("||")) terms.push_back(parse_and());
    if (terms.size() == 1) return std::move(terms.front());
    return std::make_unique<Or>(std::move(terms));
  }

  NodePtr parse_and() {
    std::vector<NodePtr> terms;
    terms.push_back(parse_unary());
    while (accept("&&")) terms.push_back(parse_unary());
    if (terms.size() == 1) return std::move(terms.front());
    return std::make_unique<And>(std::move(terms));
  }

  // Parsing and testing recurse once per `(` or `!`: bounded, so that no condition can exhaust
  // the stack of the fiber that tests it.
  static constexpr std::size_t max_nesting = 64;

  NodePtr parse_unary() {
    skip_space();
    // `!` but not the start of `!=` (which cannot begin an expression anyway).
    const bool negation = pos_ < text_.size() && text_[pos_] == '!' && text_.compare(pos_, 2, "!=") != 0;
    const bool group = !negation && pos_ < text_.size() && text_[pos_] == '(';
    if (!negation && !group) return parse_primary();
    if (nesting_ == max_nesting) error("nested deeper than " + std::to_string(max_nesting) + " levels of ( and !");
    ++pos_;
    ++nesting_;
    NodePtr node;
    if (negation) {
      node = std::make_unique<Not>(parse_unary());
    } else {
      node = parse_or();
      expect(")");
    }
    --nesting_;
    return node;
  }

  // A word followed by '(' is a function call.
  bool accept_call(std::string_view name) {
    skip_space();
    if (text_.substr(pos_, name.size()) != name) return false;
    std::size_t after = pos_ + name.size();
    if (after < text_.size() && is_word_char(text_[after])) return false;
    while (after < text_.size() && std::isspace(static_cast<unsigned char>(text_[after]))) ++after;
    if (after >= text_.size() || text_[after] != '(') return false;
    pos_ = after + 1;
    return true;
  }

  NodePtr parse_primary() {
    if (accept_call("exists")) {
      Operand operand = parse_reference("exists() takes a field path or @meta");
      expect(")");
      return std::make_unique<Exists>(std::move(operand));
    }
    if (accept_call("contains")) {
      Operand haystack = parse_reference("contains() takes a field path or @meta first");
      expect(",");
      Operand needle = parse_operand();
      expect(")");
      return std::make_unique<Contains>(std::move(haystack), std::move(needle));
    }
    Operand lhs = parse_operand();
    skip_space();
    if (accept("=~")) return parse_regex(std::move(lhs));
    static constexpr std::pair<std::string_view, CompareOp> ops[] = {
        {"==", CompareOp::eq}, {"!=", CompareOp::ne}, {"<=", CompareOp::le},
        {">=", CompareOp::ge}, {"<", CompareOp::lt},  {">", CompareOp::gt}};
    for (const auto& [token, op] : ops)
      if (accept(token)) return std::make_unique<Compare>(op, std::move(lhs), parse_operand());
    if (pos_ < text_.size() && text_[pos_] == '=')
      error("'=' is not an operator; compare with '=='");
    return std::make_unique<Truthy>(std::move(lhs));
  }

  static bool is_word_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
  }
  static bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  }

  Operand parse_reference(const char* what) {
    skip_space();
    const std::size_t start = pos_;
    Operand operand = parse_operand();
    if (operand.kind == Operand::Kind::literal) error_at(start, what);
    return operand;
  }

  Operand parse_operand() {
    skip_space();
    if (pos_ >= text_.size()) error("expected a field, @meta or a value, got the end");
    const char c = text_[pos_];
    if (c == '\'' || c == '"') return literal(parse_string());
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        ((c == '-' || c == '+') && pos_ + 1 < text_.size() &&
         std::isdigit(static_cast<unsigned char>(text_[pos_ + 1]))))
      return literal(parse_number());
    if (c == '@') {
      ++pos_;
      const std::size_t start = pos_;
      if (pos_ >= text_.size() || !is_word_start(text_[pos_])) error("expected a meta name after '@'");
      while (pos_ < text_.size() && is_word_char(text_[pos_])) ++pos_;
      Operand operand{.kind = Operand::Kind::meta, .name = std::string(text_.substr(start, pos_ - start))};
      if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == '[')) {
        if (text_[pos_] == '.') ++pos_;
        operand.rest = FieldPath(scan_path("a path after '@" + operand.name + "'"));
      }
      return operand;
    }
    if (is_word_start(c) || c == '[') {
      const std::size_t start = pos_;
      std::string path = scan_path("a field path");
      if (path == "true") return literal(true);
      if (path == "false") return literal(false);
      if (path == "null") return literal(nullptr);
      // Catches typos such as `exist(x)` instead of reading `exist` as a field.
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == '(')
        error_at(start, "unknown function '" + path + "' (functions: exists, contains)");
      return field_operand(path, start);
    }
    error(std::string("unexpected '") + c + "'");
  }

  // Splits a scanned path into its top-level field and the rest: `a.b[0]` → a, b[0];
  // `['x.y'].z` → x.y, z (so that a first key may hold dots or brackets).
  Operand field_operand(const std::string& path, std::size_t start) const {
    Operand operand{.kind = Operand::Kind::field};
    std::size_t rest = 0;
    if (path[0] == '[') {
      if (path[1] != '"' && path[1] != '\'')
        error_at(start, "a path cannot start with an index; name the field first");
      const std::size_t close = path.find(path[1], 2);
      operand.name = path.substr(2, close - 2);
      rest = close + 2;  // past the quote and ']'
    } else {
      rest = std::min(path.find_first_of(".["), path.size());
      operand.name = path.substr(0, rest);
    }
    if (rest < path.size() && path[rest] == '.') ++rest;
    operand.rest = FieldPath(path.substr(rest));
    return operand;
  }

  static Operand literal(Value v) { return Operand{.kind = Operand::Kind::literal, .literal = std::move(v)}; }

  // name(.name | [digits] | ["key"] | ['key'])*; returns the text for Value::find_path.
  std::string scan_path(const std::string& what) {
    const std::size_t start = pos_;
    auto word = [&] {
      if (pos_ >= text_.size() || !is_word_start(text_[pos_])) error("expected " + what);
      while (pos_ < text_.size() && is_word_char(text_[pos_])) ++pos_;
    };
    if (pos_ >= text_.size() || text_[pos_] != '[') word();
    for (;;) {
      if (pos_ < text_.size() && text_[pos_] == '.') {
        ++pos_;
        word();
      } else if (pos_ < text_.size() && text_[pos_] == '[') {
        const std::size_t open = pos_++;
        if (pos_ < text_.size() && (text_[pos_] == '"' || text_[pos_] == '\'')) {
          const char quote = text_[pos_++];
          while (pos_ < text_.size() && text_[pos_] != quote) ++pos_;
          if (pos_ >= text_.size()) error_at(open, "unterminated key in '[...]'");
          ++pos_;
        } else {
          const std::size_t digits = pos_;
          while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
          if (pos_ == digits) error("expected an index or a quoted key after '['");
        }
        if (pos_ >= text_.size() || text_[pos_] != ']') error("expected ']'");
        ++pos_;
      } else {
        break;
      }
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  std::string parse_string() {
    const std::size_t open = pos_;
    const char quote = text_[pos_++];
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      char c = text_[pos_++];
      if (c == '\\') {
        if (pos_ >= text_.size()) break;
        c = text_[pos_++];
        switch (c) {
          case 'n': c = '\n'; break;
          case 't': c = '\t'; break;
          case 'r': c = '\r'; break;
          case '\\': case '\'': case '"': break;
          default: error_at(pos_ - 2, std::string("unknown escape '\\") + c + "'");
        }
      }
      out += c;
    }
    if (pos_ >= text_.size()) error_at(open, "unterminated string");
    ++pos_;
    return out;
  }

  Value parse_number() {
    const std::size_t start = pos_;
    if (text_[pos_] == '+' || text_[pos_] == '-') ++pos_;
    bool is_double = false;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (std::isdigit(static_cast<unsigned char>(c))) {
        ++pos_;
      } else if (c == '.' || c == 'e' || c == 'E') {
        is_double = true;
        ++pos_;
        if ((c == 'e' || c == 'E') && pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-'))
          ++pos_;
      } else {
        break;
      }
    }
    std::string_view digits = text_.substr(start, pos_ - start);
    if (digits.front() == '+') digits.remove_prefix(1);
    if (!is_double) {
      std::int64_t i = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), i);
      if (ec == std::errc() && end == digits.data() + digits.size()) return Value(i);
      std::uint64_t u = 0;  // above INT64_MAX: a big integer, as in JSON
      const auto [big_end, big_ec] = std::from_chars(digits.data(), digits.data() + digits.size(), u);
      if (big_ec == std::errc() && big_end == digits.data() + digits.size()) return Value(u);
      // Beyond 64 bits: a double.
    }
    double d = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), d);
    if (ec != std::errc() || end != digits.data() + digits.size())
      error_at(start, "malformed number '" + std::string(text_.substr(start, pos_ - start)) + "'");
    return Value(d);
  }

  NodePtr parse_regex(Operand subject) {
    skip_space();
    if (pos_ >= text_.size() || text_[pos_] != '/') error("expected /pattern/ after '=~'");
    const std::size_t open = pos_++;
    std::string pattern;
    while (pos_ < text_.size() && text_[pos_] != '/') {
      // `\/` is a slash in the pattern; every other escape is PCRE2's business.
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) {
        if (text_[pos_ + 1] != '/') pattern += '\\';
        pattern += text_[pos_ + 1];
        pos_ += 2;
        continue;
      }
      pattern += text_[pos_++];
    }
    if (pos_ >= text_.size()) error_at(open, "unterminated regex (missing closing '/')");
    ++pos_;
    RegexFlags flags;
    while (pos_ < text_.size() && std::isalpha(static_cast<unsigned char>(text_[pos_]))) {
      switch (text_[pos_]) {
        case 'i': flags.caseless = true; break;
        case 'm': flags.multiline = true; break;
        case 's': flags.dotall = true; break;
        case 'x': flags.extended = true; break;
        default: error(std::string("unknown regex flag '") + text_[pos_] + "' (flags: i m s x)");
      }
      ++pos_;
    }
    try {
      return std::make_unique<RegexMatch>(std::move(subject), Regex(pattern, flags));
    } catch (const RegexError& e) {
      // The offset is within the unescaped pattern; close enough to point at the regex.
      error_at(open + 1 + e.offset(), std::string("bad regex: ") + e.what());
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t nesting_ = 0;  // parse_unary calls open
};

}  // namespace

Condition Condition::parse(std::string_view text) {
  Parser parser(text);
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    throw ConditionError("empty condition", 1);
  return Condition(std::string(text), parser.parse_all());
}

bool Condition::matches(const Packet& packet) const { return root_->test(packet); }

}  // namespace sluice
