#include "sluice/json.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <simdjson.h>
#include <unordered_set>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "json_error_locator.hpp"

namespace sluice::json {

ParseError::ParseError(const std::string& message, std::size_t line, std::size_t column,
                       std::size_t offset)
    : std::runtime_error("line " + std::to_string(line) + ", column " + std::to_string(column) +
                         " (byte " + std::to_string(offset) + "): " + message),
      reason_(message),
      line_(line),
      column_(column),
      offset_(offset) {}

namespace {

// One parser per thread, its depth limited so that deep input is an error, not a crash.
simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    if (p.allocate(1 << 16, max_depth) != simdjson::SUCCESS) throw std::bad_alloc();
    return p;
  }();
  return parser;
}

// simdjson reads up to SIMDJSON_PADDING bytes past the end of its input; texts from outside
// are copied into this per-thread buffer that has them.
std::string_view padded_copy(std::string_view text) {
  thread_local std::string buffer;
  buffer.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  buffer.assign(text);
  return buffer;
}

std::size_t padded_capacity(std::string_view padded) {
  return padded.size() + simdjson::SIMDJSON_PADDING;
}

// Root scalar documents ("7", "\"s\"") go through the DOM parser: simdjson's on-demand front
// end treats them as a special case, and they are rare (a packet is an object).
Value convert_scalar(simdjson::dom::element element) {
  using simdjson::dom::element_type;
  switch (element.type()) {
    case element_type::STRING: return Value(std::string(element.get_string().value_unsafe()));
    case element_type::INT64: return Value(element.get_int64().value_unsafe());
    case element_type::UINT64:  // above INT64_MAX: a big integer
      return Value(element.get_uint64().value_unsafe());
    case element_type::DOUBLE: return Value(element.get_double().value_unsafe());
    case element_type::BOOL: return Value(element.get_bool().value_unsafe());
    default: return Value();
  }
}

namespace od = simdjson::ondemand;

// One pass over simdjson's on-demand iterator builds the Values, without the DOM's tape. Each
// value is constructed where it ends up: in its array, or in its object's member.
//
// On-demand does not know a container's size before reading it, so containers are reserved at
// a guess: the size of the container read at the same place last time. Records of one stream
// mostly share their shape, so the first containers of a document are matched by their order
// in it (the root, then `user`, then `user.tags`, ...), later ones (say, the elements of a long
// array of objects) by their depth. A good guess allocates once, at the final size; a guess far
// too large is undone (see `trim`), one too small grows the container as usual.
struct SizeHints {
  static constexpr std::size_t ordered = 64;  // containers matched by their order
  static constexpr std::uint32_t cap = 1024;  // a guess reserves at most this many elements
  std::uint32_t by_order[ordered] = {};
  std::uint32_t objects_by_depth[max_depth + 2] = {};
  std::uint32_t arrays_by_depth[max_depth + 2] = {};
  std::size_t next = 0;  // the order of the next container in the document

  std::uint32_t& slot(bool object, std::size_t depth) {
    const std::size_t order = next++;
    if (order < ordered) return by_order[order];
    return object ? objects_by_depth[depth] : arrays_by_depth[depth];
  }
};

SizeHints& thread_size_hints() {
  thread_local SizeHints hints;
  return hints;
}

// Whether a container reserved for `reserved` elements and holding `size` wastes enough to be
// copied down to its size.
inline bool trim(std::size_t reserved, std::size_t size) { return reserved > 2 * size + 8; }

// Members reserved beyond the hint in a document's root object (kept: trim() allows 8).
constexpr std::size_t root_headroom = 4;

// The length of a string's raw text up to its closing quote, or npos when it holds a backslash
// (then simdjson unescapes it). `p` follows the opening quote; the input is padded, and stage 1
// found the closing quote, so reading whole blocks past it stays inside the buffer.
inline std::size_t plain_string_length(const char* p) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  for (std::size_t i = 0;; i += 16) {
    const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const unsigned hits = static_cast<unsigned>(_mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(block, quote), _mm_cmpeq_epi8(block, backslash))));
    if (hits) {
      const std::size_t at = i + static_cast<std::size_t>(std::countr_zero(hits));
      return p[at] == '"' ? at : std::string_view::npos;
    }
  }
#else
  for (std::size_t i = 0;; ++i) {
    if (p[i] == '"') return i;
    if (p[i] == '\\') return std::string_view::npos;
  }
#endif
}

// simdjson 3.0.1's on-demand get_number() returns 0 for a double with more than 19 significant
// digits: its slow path writes the result into a copy of the number. Such a number (parse_number
// has already accepted it, so it is finite) is read again here, correctly rounded as simdjson's
// own fallback does; an underflow is a zero of the number's sign, as there.
double long_double_token(const char* token) {
  const char* end = token;
  while ((*end >= '0' && *end <= '9') || *end == '-' || *end == '+' || *end == '.' || *end == 'e' ||
         *end == 'E')
    ++end;
  double d = 0;
  if (std::from_chars(token, end, d).ec != std::errc()) return *token == '-' ? -0.0 : 0.0;
  return d;
}

class Builder {
 public:
  Builder() : hints_(thread_size_hints()) {}
  void start_document() { hints_.next = 0; }

  simdjson::error_code object(od::object object, std::size_t depth, Object& out);
  simdjson::error_code array(od::array array, std::size_t depth, Array& out);

 private:
  // Reads one value and hands it to `put` as what constructs a Value (int64_t, double, bool,
  // std::string_view, nullptr, Array&&, Object&&).
  // Inlined into its two callers, so that each level of nesting takes one stack frame.
  template <class Put>
  [[gnu::always_inline]] simdjson::error_code read(od::value value, std::size_t depth, Put&& put);

  SizeHints& hints_;
};

template <class Put>
inline simdjson::error_code Builder::read(od::value value, std::size_t depth, Put&& put) {
  using simdjson::SUCCESS;
  od::json_type type;
  if (auto error = value.type().get(type)) return error;
  switch (type) {
    case od::json_type::string: {
      // A string without escapes is taken from the input as it is; simdjson unescapes the others.
      const char* quote = value.raw_json_token().data();
      const std::size_t length = plain_string_length(quote + 1);
      std::string_view text;
      if (length != std::string_view::npos) {
        od::raw_json_string raw;
        if (auto error = value.get_raw_json_string().get(raw)) return error;
        text = std::string_view(quote + 1, length);
      } else if (auto error = value.get_string().get(text)) {
        return error;
      }
      put(text);
      return SUCCESS;
    }
    case od::json_type::number: {
      const char* token = value.raw_json_token().data();
      od::number number;
      if (auto error = value.get_number().get(number)) return error;
      switch (number.get_number_type()) {
        case od::number_type::signed_integer: put(number.get_int64()); break;
        case od::number_type::unsigned_integer: put(number.get_uint64()); break;  // above INT64_MAX
        case od::number_type::floating_point_number: {
          const double d = number.get_double();
          put(d == 0 ? long_double_token(token) : d);
          break;
        }
      }
      return SUCCESS;
    }
    case od::json_type::boolean: {
      bool b;
      if (auto error = value.get_bool().get(b)) return error;
      put(b);
      return SUCCESS;
    }
    case od::json_type::null: {
      bool is_null;
      if (auto error = value.is_null().get(is_null)) return error;
      if (!is_null) return simdjson::INCORRECT_TYPE;
      put(nullptr);
      return SUCCESS;
    }
    case od::json_type::object: {
      od::object object;
      if (auto error = value.get_object().get(object)) return error;
      Object built;
      if (auto error = this->object(object, depth + 1, built)) return error;
      put(std::move(built));
      return SUCCESS;
    }
    case od::json_type::array: {
      od::array array;
      if (auto error = value.get_array().get(array)) return error;
      Array built;
      if (auto error = this->array(array, depth + 1, built)) return error;
      put(std::move(built));
      return SUCCESS;
    }
  }
  return simdjson::TAPE_ERROR;
}

// The keys of a large object being built (views: of the input, or of copies of keys already in
// the object, as those move when the object grows).
struct KeySet {
  explicit KeySet(const Object& object) {
    first.reserve(object.size());
    for (const auto& m : object) keys.insert(first.emplace_back(m.first));
  }
  std::vector<std::string> first;
  std::unordered_set<std::string_view> keys;
};

simdjson::error_code Builder::object(od::object object, std::size_t depth, Object& out) {
  if (depth > max_depth) return simdjson::DEPTH_ERROR;
  std::uint32_t& hint = hints_.slot(true, depth);
  // The root becomes a packet's fields, which transformers extend (set_field, template, the
  // extractors): room for a few more, or each graph's first added field moves every member to
  // a new allocation (11 % of NDJSON ingest through two set_field nodes).
  const std::size_t reserved = depth == 1 ? hint + root_headroom : hint;
  out.reserve(reserved);
  // Duplicate keys: the last wins, at the first key's position. Up to 16 members, set() checks
  // linearly; beyond, a set of the keys seen keeps building linear. The keys are views of the
  // input (or of the parser's string buffer), alive until the document is done.
  constexpr std::size_t linear = 16;
  std::unique_ptr<KeySet> seen;  // from the 17th member on
  for (auto member : object) {
    od::field field;
    if (auto error = std::move(member).get(field)) return error;
    const char* raw = field.key().raw();
    const std::size_t length = plain_string_length(raw);
    std::string_view key;
    if (length != std::string_view::npos)
      key = std::string_view(raw, length);
    else if (auto error = field.unescaped_key().get(key))
      return error;
    bool is_new = false;  // known to be a new key: appended without looking
    if (out.size() >= linear) {
      if (!seen) seen = std::make_unique<KeySet>(out);
      is_new = seen->keys.insert(key).second;
    }
    if (auto error = read(field.value(), depth, [&](auto&& v) {
          if (is_new)
            out.append_unchecked(std::string(key), Value(std::forward<decltype(v)>(v)));
          else
            out.set(key, Value(std::forward<decltype(v)>(v)));
        }))
      return error;
  }
  hint = static_cast<std::uint32_t>(std::min<std::size_t>(out.size(), SizeHints::cap));
  if (trim(reserved, out.size())) {
    Object exact;
    exact.reserve(out.size());
    for (auto& [key, value] : out) exact.append_unchecked(std::move(key), std::move(value));
    out = std::move(exact);
  }
  return simdjson::SUCCESS;
}

simdjson::error_code Builder::array(od::array array, std::size_t depth, Array& out) {
  if (depth > max_depth) return simdjson::DEPTH_ERROR;
  std::uint32_t& hint = hints_.slot(false, depth);
  const std::size_t reserved = hint;
  out.reserve(reserved);
  for (auto element : array) {
    od::value value;
    if (auto error = std::move(element).get(value)) return error;
    if (auto error = read(value, depth, [&](auto&& v) { out.emplace_back(std::forward<decltype(v)>(v)); }))
      return error;
  }
  hint = static_cast<std::uint32_t>(std::min<std::size_t>(out.size(), SizeHints::cap));
  if (trim(reserved, out.size())) out.shrink_to_fit();
  return simdjson::SUCCESS;
}

od::parser& thread_ondemand_parser() {
  thread_local od::parser parser = [] {
    od::parser p;
    if (p.allocate(1 << 16) != simdjson::SUCCESS) throw std::bad_alloc();
    return p;
  }();
  return parser;
}

// Parses one document from `padded`, which has at least SIMDJSON_PADDING readable bytes
// after it (`capacity` counts them).
simdjson::error_code parse_document(std::string_view padded, std::size_t capacity, Value& out) {
  od::document document;
  if (auto error = thread_ondemand_parser()
                       .iterate(simdjson::padded_string_view(padded.data(), padded.size(), capacity))
                       .get(document))
    return error;
  od::json_type type;
  if (auto error = document.type().get(type)) return error;
  Builder builder;
  builder.start_document();
  simdjson::error_code error = simdjson::SUCCESS;
  if (type == od::json_type::object) {
    od::object object;
    error = document.get_object().get(object);
    Object built;
    if (!error) error = builder.object(object, 1, built);
    if (!error) out = Value(std::move(built));
  } else if (type == od::json_type::array) {
    od::array array;
    error = document.get_array().get(array);
    Array built;
    if (!error) error = builder.array(array, 1, built);
    if (!error) out = Value(std::move(built));
  } else {
    simdjson::dom::element root;
    error = thread_parser().parse(padded.data(), padded.size(), false).get(root);
    if (!error) out = convert_scalar(root);
    return error;
  }
  if (error) return error;
  // Consumed: the iterator stands after the root. Only at the end of the input has it no
  // location.
  const char* next = nullptr;
  if (document.current_location().get(next) != simdjson::OUT_OF_BOUNDS)
    return simdjson::TRAILING_CONTENT;
  return simdjson::SUCCESS;
}

// Parses one document from a padded view.
Value parse_padded(std::string_view padded, std::size_t capacity, std::size_t base_offset = 0,
                   std::size_t base_line = 0) {
  Value out;
  if (auto error = parse_document(padded, capacity, out))
    throw_parse_error(padded, error, base_offset, base_line);
  return out;
}

}  // namespace

Value parse(std::string_view text) {
  const std::string_view padded = padded_copy(text);
  return parse_padded(padded, padded_capacity(padded));
}

std::vector<Value> parse_documents(std::string_view text) {
  Value document = parse(text);
  std::vector<Value> out;
  if (document.is_array())
    out = std::move(document.as_array());
  else
    out.push_back(std::move(document));
  return out;
}

void for_each_ndjson(std::string_view text,
                     const std::function<void(Value&& record, std::size_t line)>& on_record) {
  // Lines are parsed where they stand: simdjson reads up to SIMDJSON_PADDING bytes past a line's
  // end, and those are the following lines. Only the lines too close to the end of `text` for
  // that are copied, once, into a padded buffer of this call's own (`on_record` may parse other
  // JSON meanwhile).
  constexpr std::size_t padding = simdjson::SIMDJSON_PADDING;
  std::string tail;
  std::size_t tail_start = text.size();  // where `tail` begins in `text`
  std::size_t line = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    ++line;
    const void* found = std::memchr(text.data() + start, '\n', text.size() - start);
    const std::size_t end = found ? static_cast<const char*>(found) - text.data() : text.size();
    std::size_t length = end - start;
    if (length != 0 && text[end - 1] == '\r') --length;
    std::string_view record = text.substr(start, length);
    if (record.find_first_not_of(" \t") != std::string_view::npos) {
      std::size_t capacity = text.size() - start;
      if (capacity < length + padding) {
        if (tail_start == text.size()) {
          tail_start = start;
          tail.reserve(text.size() - start + padding);
          tail.assign(text.substr(start));
        }
        record = std::string_view(tail).substr(start - tail_start, length);
        capacity = tail.size() + padding - (start - tail_start);
      }
      on_record(parse_padded(record, capacity, start, line), line);
    }
    start = end + 1;
  }
}

Packet to_packet(Value&& document) {
  if (!document.is_object())
    throw std::invalid_argument(std::string("a packet must be a JSON object, got ") + document.type_name());
  return Packet(std::move(document.as_object()));
}

Packet envelope_to_packet(Value&& envelope) {
  if (!envelope.is_object()) throw std::invalid_argument("an envelope must be a JSON object");
  auto part = [&](std::string_view name) -> Object {
    Value* v = envelope.get(name);
    if (!v || v->is_null()) return {};
    if (!v->is_object())
      throw std::invalid_argument("envelope member '" + std::string(name) + "' must be an object");
    return std::move(v->as_object());
  };
  Packet packet(part("fields"));
  packet.meta() = part("meta");
  packet.field_meta() = part("field_meta");
  return packet;
}

Packet parse_envelope(std::string_view text) { return envelope_to_packet(parse(text)); }

}  // namespace sluice::json
