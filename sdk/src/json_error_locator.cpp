#include "json_error_locator.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "sluice/json.hpp"
#include "utf8.hpp"

namespace sluice::json {

namespace {

struct Position {
  std::size_t line = 1, column = 1;
};

Position position_of(std::string_view text, std::size_t offset) {
  Position p;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++p.column;  // columns count characters, not UTF-8 continuation bytes
    }
  }
  return p;
}

// simdjson says *that* a document is invalid, not *where*. This scanner, run only on the error
// path, walks the grammar with an explicit stack and returns the offset of the first byte that
// cannot be part of a valid document, and why.
struct Fault {
  std::size_t offset;
  std::string reason;
};

// Reads the four hex digits of a \u escape at `at`.
bool read_hex4(std::string_view s, std::size_t at, unsigned& code) {
  if (at + 4 > s.size()) return false;
  const char* first = s.data() + at;
  const auto result = std::from_chars(first, first + 4, code, 16);
  return result.ec == std::errc() && result.ptr == first + 4;
}

// simdjson refuses integers outside [INT64_MIN, UINT64_MAX] (it has no big numbers) and
// doubles that overflow to infinity, while underflow rounds to zero. `token` is a number of
// valid JSON syntax.
bool number_in_range(std::string_view token) {
  const bool negative = token.front() == '-';
  const std::string_view digits = token.substr(negative ? 1 : 0);
  const char* first = digits.data();
  const char* last = first + digits.size();
  const std::size_t exponent_at = digits.find_first_of("eE");
  const std::size_t point_at = digits.find('.');
  if (exponent_at == std::string_view::npos && point_at == std::string_view::npos) {
    std::uint64_t magnitude = 0;
    if (std::from_chars(first, last, magnitude).ec != std::errc()) return false;
    return !negative || magnitude <= (std::uint64_t{1} << 63);
  }
  double value = 0;
  if (std::from_chars(first, last, value).ec != std::errc::result_out_of_range) return true;
  // Out of range: an overflow when the first significant digit stands left of the point.
  const std::string_view mantissa = digits.substr(0, exponent_at);
  const std::size_t significant = mantissa.find_first_not_of("0.");
  if (significant == std::string_view::npos) return true;  // zero
  const std::size_t point = std::min(point_at, mantissa.size());
  long long power = significant < point ? static_cast<long long>(point - significant) - 1
                                        : -static_cast<long long>(significant - point);
  if (exponent_at != std::string_view::npos) {
    std::string_view exponent = digits.substr(exponent_at + 1);
    const bool negative_exponent = exponent.front() == '-';
    if (exponent.front() == '+' || negative_exponent) exponent.remove_prefix(1);
    long long e = 0;
    // An exponent larger than the token is long outweighs `power` (at most that), so it
    // decides alone: a huge or a tiny number. So does one beyond long long. Checked before
    // the sum, which could overflow.
    if (std::from_chars(exponent.data(), exponent.data() + exponent.size(), e).ec != std::errc() ||
        e > static_cast<long long>(token.size()))
      return negative_exponent;
    power += negative_exponent ? -e : e;
  }
  return power < 0;
}

// The grammar walk: `i_` is the offset reached, `stack_` the containers open there.
class FaultLocator {
 public:
  explicit FaultLocator(std::string_view text) : s_(text) {}

  Fault locate(const char* simdjson_reason) {
    if (auto f = scan_value()) return *f;
    if (auto f = scan_open_containers()) return *f;
    skip_whitespace();
    if (!at_end()) return fault("unexpected content after the document");
    // The scanner found nothing simdjson would refuse; report simdjson's reason at the start
    // rather than invent a position.
    return Fault{0, simdjson_reason};
  }

 private:
  enum class Frame { array, object };

  bool at_end() const { return i_ >= s_.size(); }
  bool at_digit() const { return !at_end() && std::isdigit(static_cast<unsigned char>(s_[i_])); }
  void skip_digits() {
    while (at_digit()) ++i_;
  }
  void skip_whitespace() {
    while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  Fault fault(std::string why) const { return Fault{std::min(i_, s_.size()), std::move(why)}; }

  // A value; containers push a frame and return.
  std::optional<Fault> scan_value() {
    skip_whitespace();
    if (at_end()) return fault("unexpected end of input");
    const char c = s_[i_];
    if (c == '{' || c == '[') {
      if (stack_.size() >= max_depth) return fault("nesting deeper than " + std::to_string(max_depth));
      stack_.push_back(c == '{' ? Frame::object : Frame::array);
      ++i_;
      return std::nullopt;
    }
    if (c == '"') return scan_string();
    if (c == '-' || (c >= '0' && c <= '9')) return scan_number();
    for (std::string_view word : {"true", "false", "null"}) {
      if (s_.substr(i_, word.size()) == word) {
        i_ += word.size();
        return std::nullopt;
      }
    }
    return fault("unexpected character");
  }

  // After a value: close containers or continue them.
  std::optional<Fault> scan_open_containers() {
    bool just_opened = !stack_.empty();
    while (!stack_.empty()) {
      skip_whitespace();
      if (at_end()) return fault("unexpected end of input");
      const Frame top = stack_.back();
      if (s_[i_] == (top == Frame::object ? '}' : ']')) {
        ++i_;
        stack_.pop_back();
        just_opened = false;
        continue;
      }
      if (!just_opened) {
        if (s_[i_] != ',') return fault(top == Frame::object ? "expected ',' or '}'" : "expected ',' or ']'");
        ++i_;
        skip_whitespace();
      }
      if (top == Frame::object) {
        if (auto f = scan_key()) return f;
      }
      const std::size_t depth = stack_.size();
      if (auto f = scan_value()) return f;
      just_opened = stack_.size() > depth;
    }
    return std::nullopt;
  }

  // An object member's key and the colon after it.
  std::optional<Fault> scan_key() {
    if (at_end() || s_[i_] != '"') return fault("expected a string key");
    if (auto f = scan_string()) return f;
    skip_whitespace();
    if (at_end() || s_[i_] != ':') return fault("expected ':'");
    ++i_;
    return std::nullopt;
  }

  std::optional<Fault> scan_string() {
    ++i_;  // opening quote
    while (!at_end()) {
      const unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return std::nullopt;
      }
      if (c < 0x20) return fault("control character in string");
      if (c == '\\') {
        if (i_ + 1 >= s_.size()) break;
        if (auto f = scan_escape()) return f;
        continue;
      }
      const std::size_t len = utf8_sequence_length(s_, i_);
      if (len == 0) return fault("invalid UTF-8");
      i_ += len;
    }
    return fault("unterminated string");
  }

  // An escape whose backslash, at `i_`, is followed by at least one byte.
  std::optional<Fault> scan_escape() {
    const char e = s_[i_ + 1];
    if (e == 'u') return scan_unicode_escape();
    if (!std::strchr("\"\\/bfnrt", e) || e == '\0') return fault("bad escape");
    i_ += 2;
    return std::nullopt;
  }

  std::optional<Fault> scan_unicode_escape() {
    unsigned code = 0;
    if (!read_hex4(s_, i_ + 2, code)) return fault("bad \\u escape");
    if (code >= 0xD800 && code <= 0xDFFF) {
      // As simdjson: a high surrogate must be followed at once by an escaped low one.
      unsigned low = 0;
      if (code >= 0xDC00 || s_.substr(i_ + 6, 2) != "\\u" || !read_hex4(s_, i_ + 8, low) || low < 0xDC00 ||
          low > 0xDFFF)
        return fault("lone UTF-16 surrogate in \\u escape");
      i_ += 6;
    }
    i_ += 6;
    return std::nullopt;
  }

  std::optional<Fault> scan_number() {
    const std::size_t start = i_;
    if (s_[i_] == '-') ++i_;
    if (!at_end() && s_[i_] == '0')
      ++i_;
    else if (at_digit())
      skip_digits();
    else
      return fault("bad number");
    if (!at_end() && s_[i_] == '.') {
      ++i_;
      if (!at_digit()) return fault("bad number");
      skip_digits();
    }
    if (!at_end() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (!at_end() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!at_digit()) return fault("bad number");
      skip_digits();
    }
    if (!number_in_range(s_.substr(start, i_ - start))) {
      i_ = start;
      return fault("number out of range");
    }
    return std::nullopt;
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::vector<Frame> stack_;
};

}  // namespace

void throw_parse_error(std::string_view text, simdjson::error_code code, std::size_t base_offset,
                       std::size_t base_line) {
  const std::string depth_reason = "nesting deeper than " + std::to_string(max_depth);
  const Fault f = FaultLocator(text).locate(
      code == simdjson::DEPTH_ERROR ? depth_reason.c_str() : simdjson::error_message(code));
  const Position p = position_of(text, f.offset);
  throw ParseError(f.reason, base_line ? base_line : p.line, p.column, base_offset + f.offset);
}

}  // namespace sluice::json
