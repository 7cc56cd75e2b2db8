// sluice::json — parse (simdjson) and serialize JSON values and packets.
//
//   sluice::Value v = sluice::json::parse(R"({"a": [1, 2.5, "x"]})");
//   sluice::json::for_each_ndjson(body, [&](sluice::Value&& record, std::size_t line) { ... });
//   std::string out = sluice::json::to_string(v);
//   std::string env = sluice::json::to_envelope(packet);    // {"fields":…,"meta":…,"field_meta":…}
//   sluice::Packet back = sluice::json::parse_envelope(env); // == packet
//
// Errors are ParseError with the 1-based line and column and the 0-based byte offset.
// Serialization: strings are escaped per RFC 8259 (", \, control characters as \uXXXX);
// invalid UTF-8 in a string is replaced, one U+FFFD per byte that does not start or continue a
// valid sequence, so the output is always valid JSON. Doubles are written in the shortest form that reads back to the
// same double; non-finite doubles (which JSON cannot hold) are written as null.
#pragma once

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/packet.hpp"
#include "sluice/value.hpp"

namespace sluice::json {

// Nesting deeper than this is rejected with a ParseError instead of exhausting the stack.
inline constexpr std::size_t max_depth = 512;

class ParseError : public std::runtime_error {
 public:
  ParseError(const std::string& message, std::size_t line, std::size_t column, std::size_t offset);
  std::size_t line() const { return line_; }
  std::size_t column() const { return column_; }
  std::size_t offset() const { return offset_; }
  // The message without the position prefix.
  const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
  std::size_t line_, column_, offset_;
};

// One JSON document (surrounding whitespace allowed, nothing else).
Value parse(std::string_view text);

// A JSON array whose elements are the documents; a single non-array document counts as one.
std::vector<Value> parse_documents(std::string_view text);

// NDJSON: one document per non-blank line. Stops at the first bad line with a ParseError
// that names its line. `on_record` receives each document and its 1-based line number.
void for_each_ndjson(std::string_view text,
                     const std::function<void(Value&& record, std::size_t line)>& on_record);

// A packet whose fields are the given object; throws std::invalid_argument for a non-object.
Packet to_packet(Value&& document);

// Serializers append to `out` (reuse the buffer on hot paths).
void write(const Value& value, std::string& out);
void write_pretty(const Value& value, std::string& out, int indent = 2);
void write_fields(const Packet& packet, std::string& out);  // the plain document
void write_envelope(const Packet& packet, std::string& out);

std::string to_string(const Value& value);
std::string to_pretty_string(const Value& value);
std::string to_string(const Packet& packet);  // fields only
std::string to_envelope(const Packet& packet);

// The inverse of to_envelope; "meta" and "field_meta" are optional.
Packet parse_envelope(std::string_view text);
Packet envelope_to_packet(Value&& envelope);

}  // namespace sluice::json
