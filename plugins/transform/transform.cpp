#include "transform.hpp"

#include <date/tz.h>
#include <unicode/uchar.h>
#include <unicode/ucasemap.h>
#include <unicode/utf8.h>
#include <xxhash.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <sluice/json.hpp>

#include "iso_dates.hpp"
#include "packet_key.hpp"

namespace sluice::transform {

namespace {

ParamSpec path_param(std::string name, std::string description, bool required = true) {
  return {.name = std::move(name),
          .type = ParamType::string,
          .description = std::move(description),
          .required = required};
}

bool is_top_level(std::string_view path) { return path.find_first_of(".[") == std::string::npos; }

// Removes the value at `path`; top-level fields lose their field metadata with them.
void erase_path(Packet& packet, const std::string& path) {
  if (is_top_level(path)) {
    packet.erase(path);
    return;
  }
  const auto dot = path.rfind('.');
  if (dot == std::string::npos || path.find_first_of("[]", dot) != std::string::npos) {
    // `a[2]` or `a.b["x"]`: clear the value rather than guess at removing array slots.
    if (Value* v = packet.find_path(path)) *v = nullptr;
    return;
  }
  if (Value* parent = packet.find_path(path.substr(0, dot)); parent && parent->is_object())
    parent->as_object().erase(path.substr(dot + 1));
}

void set_path_or_throw(Packet& packet, const std::string& path, Value value) {
  if (!packet.set_path(path, std::move(value)))
    throw std::runtime_error("cannot set '" + path + "': a step on the way is not an object");
}

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

std::string hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

}  // namespace

// ---- set / copy / rename / delete ----------------------------------------------------------

ComponentDescriptor SetField::descriptor() {
  return {.name = "set_field",
          .version = "1.0.0",
          .summary = "Sets a field to a fixed value",
          .kind = ComponentKind::transformer,
          .params = {path_param("field", "path of the field to set (missing objects on the way "
                                         "are created)"),
                     {.name = "value",
                      .type = ParamType::any,
                      .description = "the JSON value to set",
                      .required = true},
                     {.name = "overwrite",
                      .type = ParamType::boolean,
                      .description = "replace a value that is already there; false: only set "
                                     "absent fields (a default)",
                      .default_value = true}},
          .example = {.description = "Marks every packet as new, whatever its status was",
                      .params = R"(field: status
value: new)",
                      .input = R"({"id": 1}
{"id": 2, "status": "old"})",
                      .output = R"({"id": 1, "status": "new"}
{"id": 2, "status": "new"})"}};
}

SetField::SetField(const Params& params)
    : field_(params.get_string("field")),
      value_(params.get("value")),
      overwrite_(params.get_bool("overwrite")) {}

void SetField::process(Packet& packet, Emitter& emit) {
  if (overwrite_ || !packet.find_path(field_)) set_path_or_throw(packet, field_, value_);
  emit(std::move(packet));
}

ComponentDescriptor CopyField::descriptor() {
  return {.name = "copy_field",
          .version = "1.0.0",
          .summary = "Copies a field's value to another field",
          .kind = ComponentKind::transformer,
          .params = {path_param("from", "path of the field to copy"),
                     path_param("to", "path of the copy (replaced if present)")},
          .example = {.description = "Copies a nested e-mail address to a top-level field",
                      .params = R"(from: user.email
to: contact)",
                      .input = R"({"user": {"name": "Ada", "email": "ada@example.org"}})",
                      .output = R"({"user": {"name": "Ada", "email": "ada@example.org"}, "contact": "ada@example.org"})"}};
}

CopyField::CopyField(const Params& params)
    : from_(params.get_string("from")), to_(params.get_string("to")) {}

void CopyField::process(Packet& packet, Emitter& emit) {
  if (const Value* v = packet.find_path(from_)) {
    Value copy = *v;
    set_path_or_throw(packet, to_, std::move(copy));
  }
  emit(std::move(packet));
}

ComponentDescriptor RenameField::descriptor() {
  return {.name = "rename_field",
          .version = "1.0.0",
          .summary = "Renames (moves) a field, keeping its field metadata",
          .kind = ComponentKind::transformer,
          .params = {path_param("from", "path of the field to rename"),
                     path_param("to", "its new path (replaced if present)")},
          .example = {.description = "Renames msg to message",
                      .params = R"(from: msg
to: message)",
                      .input = R"({"msg": "disk full", "level": "error"})",
                      .output = R"({"level": "error", "message": "disk full"})"}};
}

RenameField::RenameField(const Params& params)
    : from_(params.get_string("from")), to_(params.get_string("to")) {
  if (from_ == to_) throw std::invalid_argument("params 'from' and 'to' are the same field");
}

void RenameField::process(Packet& packet, Emitter& emit) {
  if (is_top_level(from_) && is_top_level(to_)) {
    packet.rename(from_, to_);
  } else if (Value* v = packet.find_path(from_)) {
    Value moved = std::move(*v);
    erase_path(packet, from_);
    set_path_or_throw(packet, to_, std::move(moved));
  }
  emit(std::move(packet));
}

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

// ---- case / trim ---------------------------------------------------------------------------

ComponentDescriptor Case::descriptor() {
  return {.name = "case",
          .version = "1.0.0",
          .summary = "Changes the letter case of string fields (Unicode rules: straße → STRASSE)",
          .kind = ComponentKind::transformer,
          .params = {{.name = "fields",
                      .type = ParamType::string_list,
                      .description = "paths of the fields to change (strings, or arrays of "
                                     "strings)",
                      .required = true},
                     {.name = "to",
                      .type = ParamType::string,
                      .description = "upper, lower, or title (the first letter of each word "
                                     "upper, the rest lower; words as Unicode word boundaries "
                                     "find them)",
                      .required = true,
                      .allowed = {"upper", "lower", "title"}}},
          .example = {.description = "Upper-cases city names by Unicode rules (ß becomes SS)",
                      .params = R"(fields: [city]
to: upper)",
                      .input = R"({"city": "Straße"}
{"city": "Zürich"})",
                      .output = R"({"city": "STRASSE"}
{"city": "ZÜRICH"})"}};
}

namespace {
UCaseMap* open_case_map() {
  UErrorCode status = U_ZERO_ERROR;
  // "" is ICU's root locale: the same result whatever the server's locale.
  UCaseMap* map = ucasemap_open("", U_FOLD_CASE_DEFAULT, &status);
  if (U_FAILURE(status))
    throw std::runtime_error(std::string("ICU case map: ") + u_errorName(status));
  return map;
}

// Applies `change` to a string, or to each string in an array.
template <class F>
void for_strings(Value& value, F&& change) {
  if (value.is_string()) {
    change(value.as_string());
  } else if (value.is_array()) {
    for (auto& item : value.as_array())
      if (item.is_string()) change(item.as_string());
  }
}

// Text that is not UTF-8 cannot be case-mapped or trimmed by code point.
[[noreturn]] void not_utf8(std::string_view component, const std::string& field) {
  throw std::runtime_error(std::string(component) + ": field '" + field +
                           "' is not valid UTF-8");
}
}  // namespace

Case::Case(const Params& params)
    : fields_(params.get_string_list("fields")), case_map_(open_case_map(), ucasemap_close) {
  const std::string to = params.get_string("to");
  to_ = to == "upper" ? To::upper : to == "lower" ? To::lower : To::title;
}

void Case::process(Packet& packet, Emitter& emit) {
  auto map = [&](const std::string& in, std::string& out, UErrorCode& status) {
    const auto capacity = static_cast<int32_t>(out.size());
    const auto length = static_cast<int32_t>(in.size());
    switch (to_) {
      case To::upper:
        return ucasemap_utf8ToUpper(case_map_.get(), out.data(), capacity, in.data(), length, &status);
      case To::lower:
        return ucasemap_utf8ToLower(case_map_.get(), out.data(), capacity, in.data(), length, &status);
      case To::title: break;
    }
    return ucasemap_utf8ToTitle(case_map_.get(), out.data(), capacity, in.data(), length, &status);
  };
  for (const auto& field : fields_) {
    Value* value = packet.find_path(field);
    if (!value) continue;
    for_strings(*value, [&](std::string& s) {
      std::string out(s.size() + s.size() / 2 + 4, '\0');
      UErrorCode status = U_ZERO_ERROR;
      auto length = map(s, out, status);
      if (status == U_BUFFER_OVERFLOW_ERROR) {  // mappings may grow text (ß → SS, ŉ → ʼN)
        out.resize(static_cast<std::size_t>(length));
        status = U_ZERO_ERROR;
        length = map(s, out, status);
      }
      if (U_FAILURE(status)) not_utf8("case", field);
      out.resize(static_cast<std::size_t>(length));
      s = std::move(out);
    });
  }
  emit(std::move(packet));
}

ComponentDescriptor Trim::descriptor() {
  return {.name = "trim",
          .version = "1.0.0",
          .summary = "Strips characters (Unicode whitespace by default) from both ends of string "
                     "fields",
          .kind = ComponentKind::transformer,
          .params = {{.name = "fields",
                      .type = ParamType::string_list,
                      .description = "paths of the fields to trim (strings, or arrays of "
                                     "strings); unset: every top-level string field"},
                     {.name = "chars",
                      .type = ParamType::string,
                      .description = "the characters to strip; unset: every Unicode White_Space "
                                     "character (space, tab, line breaks, NBSP, U+3000 …)"}},
          .example = {.description = "Strips the spaces, tabs and no-break spaces around a name",
                      .params = "fields: [name]",
                      .input = R"({"name": "  Ada Lovelace\t\u00a0"})",
                      .output = R"({"name": "Ada Lovelace"})"}};
}

namespace {
// The code points of UTF-8 `text`; nullopt when it is not UTF-8.
std::optional<std::u32string> code_points(std::string_view text) {
  std::u32string out;
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const auto length = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < length;) {
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c < 0) return std::nullopt;
    out += static_cast<char32_t>(c);
  }
  return out;
}
}  // namespace

Trim::Trim(const Params& params)
    : fields_(params.has("fields") ? params.get_string_list("fields") : std::vector<std::string>{}) {
  if (!params.has("chars")) return;
  auto chars = code_points(params.get_string("chars"));
  if (!chars) throw std::invalid_argument("param 'chars' is not valid UTF-8");
  if (chars->empty()) throw std::invalid_argument("param 'chars' is empty");
  chars_ = std::move(*chars);
}

void Trim::process(Packet& packet, Emitter& emit) {
  auto strip = [&](UChar32 c) {
    return chars_.empty() ? u_isUWhiteSpace(c) : chars_.find(static_cast<char32_t>(c)) != chars_.npos;
  };
  auto trim = [&](const std::string& field, std::string& s) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(s.data());
    const auto length = static_cast<int32_t>(s.size());
    int32_t begin = 0, end = length;
    for (int32_t next = 0; begin < length; begin = next) {
      UChar32 c;
      U8_NEXT(bytes, next, length, c);
      if (c < 0) not_utf8("trim", field);
      if (!strip(c)) break;
    }
    for (int32_t previous = end; end > begin; end = previous) {
      UChar32 c;
      U8_PREV(bytes, 0, previous, c);
      if (c < 0) not_utf8("trim", field);
      if (!strip(c)) break;
    }
    s = s.substr(static_cast<std::size_t>(begin), static_cast<std::size_t>(end - begin));
  };
  if (fields_.empty()) {
    for (auto& [name, value] : packet.fields())
      if (value.is_string()) trim(name, value.as_string());
  } else {
    for (const auto& field : fields_)
      if (Value* value = packet.find_path(field))
        for_strings(*value, [&](std::string& s) { trim(field, s); });
  }
  emit(std::move(packet));
}

// ---- template ------------------------------------------------------------------------------

ComponentDescriptor Template::descriptor() {
  return {.name = "template",
          .version = "1.0.0",
          .summary = "Builds a string field from a template with {field} placeholders",
          .kind = ComponentKind::transformer,
          .params = {{.name = "template",
                      .type = ParamType::string,
                      .description = "text with {path} placeholders (e.g. \"{user.name} <{email}>\"); "
                                     "{{ and }} stand for braces; non-strings appear as JSON",
                      .required = true},
                     path_param("into", "path of the field that receives the text"),
                     {.name = "strict",
                      .type = ParamType::boolean,
                      .description = "a missing field is an error; false: it becomes empty text",
                      .default_value = false}},
          .example = {.description = R"(Builds a "Name <address>" sender line from two fields)",
                      .params = R"(template: "{user.name} <{email}>"
into: from)",
                      .input = R"({"user": {"name": "Ada"}, "email": "ada@example.org"})",
                      .output = R"({"user": {"name": "Ada"}, "email": "ada@example.org", "from": "Ada <ada@example.org>"})"}};
}

Template::Template(const Params& params)
    : into_(params.get_string("into")), strict_(params.get_bool("strict")) {
  const std::string text = params.get_string("template");
  std::string literal;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      literal += c;
      ++i;
    } else if (c == '{') {
      const auto close = text.find('}', i);
      if (close == std::string::npos)
        throw std::invalid_argument("param 'template': '{' at offset " + std::to_string(i) +
                                    " is not closed (write {{ for a brace)");
      std::string path = text.substr(i + 1, close - i - 1);
      if (path.empty())
        throw std::invalid_argument("param 'template': empty {} at offset " + std::to_string(i));
      if (!literal.empty()) pieces_.push_back({std::move(literal), false});
      literal.clear();
      pieces_.push_back({std::move(path), true});
      i = close;
    } else if (c == '}') {
      throw std::invalid_argument("param 'template': '}' at offset " + std::to_string(i) +
                                  " closes nothing (write }} for a brace)");
    } else {
      literal += c;
    }
  }
  if (!literal.empty()) pieces_.push_back({std::move(literal), false});
}

void Template::process(Packet& packet, Emitter& emit) {
  std::string out;
  for (const auto& piece : pieces_) {
    if (!piece.is_field) {
      out += piece.text;
    } else if (const Value* v = packet.find_path(piece.text)) {
      if (!v->is_null()) out += v->to_display_string();
    } else if (strict_) {
      throw std::runtime_error("template: field '" + piece.text + "' is missing");
    }
  }
  set_path_or_throw(packet, into_, std::move(out));
  emit(std::move(packet));
}

// ---- hash ----------------------------------------------------------------------------------

ComponentDescriptor Hash::descriptor() {
  return {.name = "hash",
          .version = "1.0.0",
          .summary = "Sets a stable id: a 128-bit xxHash (32 hex digits) of chosen fields' values",
          .kind = ComponentKind::transformer,
          .params = {{.name = "fields",
                      .type = ParamType::string_list,
                      .description = "field paths whose values are hashed, in this order; "
                                     "values equal in conditions hash alike (1 and 1.0, objects "
                                     "in any key order); absent differs from null",
                      .required = true},
                     {.name = "into",
                      .type = ParamType::string,
                      .description = "field path that receives the hex digest",
                      .default_value = "id"},
                     {.name = "meta_id",
                      .type = ParamType::boolean,
                      .description = "also set the packet's `id` metadata to the digest",
                      .default_value = false}},
          .example = {.description = "Gives each packet an id made from its e-mail address, the same for the same address",
                      .params = "fields: [email]",
                      .input = R"({"email": "ada@example.org"}
{"email": "ada@example.org"})",
                      .output = R"({"email": "ada@example.org", "id": "a29bd59d5aa0a7138857d840e2c0f6b7"}
{"email": "ada@example.org", "id": "a29bd59d5aa0a7138857d840e2c0f6b7"})"}};
}

Hash::Hash(const Params& params)
    : fields_(params.get_string_list("fields")),
      into_(params.get_string("into")),
      set_meta_id_(params.get_bool("meta_id")) {
  if (fields_.empty()) throw std::invalid_argument("param 'fields' is empty");
}

void Hash::process(Packet& packet, Emitter& emit) {
  const std::string text = plugins::key_text(packet, fields_);
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits(text.data(), text.size()));
  std::string digest = hex(canonical.digest, sizeof canonical.digest);
  if (set_meta_id_) packet.set_meta(meta::id, digest);
  set_path_or_throw(packet, into_, std::move(digest));
  emit(std::move(packet));
}

// ---- json_parse ----------------------------------------------------------------------------

ComponentDescriptor JsonParse::descriptor() {
  return {.name = "json_parse",
          .version = "1.0.0",
          .summary = "Parses a string field holding JSON text into a JSON value",
          .kind = ComponentKind::transformer,
          .params = {path_param("field", "path of the string field holding JSON"),
                     path_param("into", "path that receives the value (default: the field "
                                        "itself)",
                                false)},
          .example = {.description = "Turns a field that holds JSON text into the JSON value",
                      .params = "field: payload",
                      .input = R"({"payload": "{\"temperature\": 21.5, \"tags\": [\"a\", \"b\"]}"})",
                      .output = R"({"payload": {"temperature": 21.5, "tags": ["a", "b"]}})"}};
}

JsonParse::JsonParse(const Params& params)
    : field_(params.get_string("field")), into_(params.get_string("into", field_)) {}

void JsonParse::process(Packet& packet, Emitter& emit) {
  if (const Value* v = packet.find_path(field_)) {
    if (!v->is_string())
      throw std::runtime_error("json_parse: field '" + field_ + "' is " + v->type_name() +
                               ", not a string");
    Value parsed;
    try {
      parsed = json::parse(v->as_string());
    } catch (const json::ParseError& e) {
      throw std::runtime_error("json_parse: field '" + field_ + "': " + e.what());
    }
    set_path_or_throw(packet, into_, std::move(parsed));
  }
  emit(std::move(packet));
}

// ---- date_normalize ------------------------------------------------------------------------

ComponentDescriptor DateNormalize::descriptor() {
  return {.name = "date_normalize",
          .version = "1.0.0",
          .summary = "Rewrites date/time fields as ISO 8601 (e.g. 2024-03-01T12:00:00Z)",
          .kind = ComponentKind::transformer,
          .params = {{.name = "fields",
                      .type = ParamType::string_list,
                      .description = "paths of the fields to rewrite; numbers are Unix epoch "
                                     "seconds, or milliseconds when 10^11 or more in magnitude",
                      .required = true},
                     {.name = "formats",
                      .type = ParamType::string_list,
                      .description = "input formats tried in order (strftime-style, as in "
                                     "Howard Hinnant's date::parse: %Y %m %d %H %M %S %b %a %z "
                                     "%Ez …); a trailing literal Z means UTC; %Z reads a zone "
                                     "abbreviation (UT, UTC, GMT, Z, the US zones of RFC 5322 "
                                     "such as EST and PDT) or an IANA zone name",
                      .default_value = Array(plugins::default_date_formats.begin(), plugins::default_date_formats.end())},
                     {.name = "timezone",
                      .type = ParamType::string,
                      .description = "IANA zone of inputs without an offset (e.g. Europe/Berlin); "
                                     "a time in a DST gap is read with the offset before the gap, "
                                     "one in an overlap as the earlier instant",
                      .default_value = "UTC"},
                     {.name = "output_timezone",
                      .type = ParamType::string,
                      .description = "IANA zone the result is written in: UTC gives a Z suffix, "
                                     "others their offset (+01:00)",
                      .default_value = "UTC"}},
          .example = {.description = "Rewrites local Berlin times, RFC 5322 dates and epoch seconds as UTC ISO 8601",
                      .params = R"(fields: [when]
timezone: Europe/Berlin)",
                      .input = R"({"when": "2024-03-01 12:00:00"}
{"when": "Fri, 01 Mar 2024 12:00:00 +0000"}
{"when": 1709294400})",
                      .output = R"({"when": "2024-03-01T11:00:00Z"}
{"when": "2024-03-01T12:00:00Z"}
{"when": "2024-03-01T12:00:00Z"})"}};
}

namespace {

// Seconds below this magnitude are years before 5138; milliseconds above it are after 1973.
constexpr double epoch_milliseconds_from = 1e11;

const date::time_zone* zone_param(const Params& params, std::string_view name) {
  const std::string zone = params.get_string(name);
  try {
    return date::locate_zone(zone);
  } catch (const std::exception&) {
    throw std::invalid_argument("param '" + std::string(name) + "': unknown time zone '" + zone +
                                "'");
  }
}

}  // namespace

DateNormalize::DateNormalize(const Params& params)
    : fields_(params.get_string_list("fields")),
      formats_(params.get_string_list("formats")),
      input_zone_(zone_param(params, "timezone")),
      output_zone_(zone_param(params, "output_timezone")) {
  if (formats_.empty()) throw std::invalid_argument("param 'formats' is empty");
}

void DateNormalize::process(Packet& packet, Emitter& emit) {
  for (const auto& field : fields_) {
    Value* value = packet.find_path(field);
    if (!value || value->is_null()) continue;
    std::optional<plugins::DateTime> instant;
    try {
      if (value->is_number()) {
        const double number = value->as_double();
        const double seconds =
            std::abs(number) >= epoch_milliseconds_from ? number / 1000 : number;
        instant = plugins::DateTime(
            std::chrono::round<std::chrono::microseconds>(std::chrono::duration<double>(seconds)));
      } else if (value->is_string()) {
        instant = plugins::read_date(value->as_string(), formats_, *input_zone_);
      }
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("date_normalize: field '" + field + "' (" +
                               value->to_display_string() + "): " + e.what());
    }
    if (!instant)
      throw std::runtime_error("date_normalize: field '" + field + "' (" +
                               value->to_display_string() + ") matches none of the formats");
    *value = plugins::format_instant(*instant, output_zone_);
  }
  emit(std::move(packet));
}

// ---- extractors ----------------------------------------------------------------------------

ComponentDescriptor RegexExtract::descriptor() {
  return {.name = "regex_extract",
          .version = "1.0.0",
          .summary = "Extracts regex matches from a text field (named groups become fields)",
          .kind = ComponentKind::extractor,
          .params = {path_param("field", "path of the text field to search"),
                     {.name = "pattern",
                      .type = ParamType::string,
                      .description = "PCRE2 pattern, Unicode-aware (\\w, \\d, \\b match non-ASCII letters "
                                     "and digits); with named groups (?<name>…) each match is "
                                     "an object of them, otherwise the matched text",
                      .required = true},
                     path_param("into", "path that receives the match (or the array of matches)"),
                     {.name = "all",
                      .type = ParamType::boolean,
                      .description = "every match, as an array (possibly empty); false: the "
                                     "first match only, and `into` stays absent without one",
                      .default_value = false},
                     {.name = "caseless",
                      .type = ParamType::boolean,
                      .description = "match regardless of letter case",
                      .default_value = false}},
          .example = {.description = "Splits the first e-mail address of a text into its user and host (named groups)",
                      .params = R"(field: text
pattern: '(?<user>[\w.]+)@(?<host>[\w.-]+\w)'
into: address)",
                      .input = R"({"text": "Write to ada.l@example.org today."}
{"text": "No address here."})",
                      .output = R"({"text": "Write to ada.l@example.org today.", "address": {"user": "ada.l", "host": "example.org"}}
{"text": "No address here."})"}};
}

RegexExtract::RegexExtract(const Params& params)
    : field_(params.get_string("field")),
      into_(params.get_string("into")),
      regex_(params.get_string("pattern"), "pattern", params.get_bool("caseless")),
      all_(params.get_bool("all")) {}

void RegexExtract::process(Packet& packet, Emitter& emit) {
  const Value* text = packet.find_path(field_);
  if (text && !text->is_string())
    throw std::runtime_error("regex_extract: field '" + field_ + "' is " + text->type_name() +
                             ", not a string");
  if (text) {
    Array matches;
    regex_.for_each_match(text->as_string(), [&](const Regex::Match& m) {
      if (regex_.named_groups().empty()) {
        matches.emplace_back(m.group(0));
      } else {
        Object groups;
        for (const auto& [name, number] : regex_.named_groups())
          groups.set(name, m.has_group(number) ? Value(m.group(number)) : Value());
        matches.emplace_back(std::move(groups));
      }
      return all_;
    });
    if (all_)
      set_path_or_throw(packet, into_, std::move(matches));
    else if (!matches.empty())
      set_path_or_throw(packet, into_, std::move(matches.front()));
  }
  emit(std::move(packet));
}

PatternExtractor::PatternExtractor(const Params& params, const std::string& pattern)
    : field_(params.get_string("field")), into_(params.get_string("into")), regex_(pattern, "pattern") {}

std::vector<ParamSpec> PatternExtractor::extractor_params(std::string into_default) {
  return {path_param("field", "path of the text field to search"),
          {.name = "into",
           .type = ParamType::string,
           .description = "path that receives the array of distinct matches, in order of first "
                          "appearance",
           .default_value = std::move(into_default)}};
}

void PatternExtractor::process(Packet& packet, Emitter& emit) {
  const Value* text = packet.find_path(field_);
  if (text && !text->is_string())
    throw std::runtime_error("field '" + field_ + "' is " + text->type_name() + ", not a string");
  if (text) {
    Array found;
    regex_.for_each_match(text->as_string(), [&](const Regex::Match& m) {
      std::string_view match = m.group(0);
      // Sentence punctuation right after an address or URL is not part of it; a closing
      // bracket is, when it closes one opened inside (…/wiki/Foo_(bar)).
      auto unbalanced_close = [&](char close, char open) {
        return match.back() == close && std::count(match.begin(), match.end(), close) >
                                            std::count(match.begin(), match.end(), open);
      };
      while (!match.empty() &&
             (std::string_view(".,;:!?'\"").find(match.back()) != std::string_view::npos ||
              unbalanced_close(')', '(') || unbalanced_close(']', '[') ||
              unbalanced_close('}', '{')))
        match.remove_suffix(1);
      const Value candidate(canonical(match));
      if (std::find(found.begin(), found.end(), candidate) == found.end()) found.push_back(candidate);
      return true;
    });
    set_path_or_throw(packet, into_, std::move(found));
  }
  emit(std::move(packet));
}

ComponentDescriptor Email::descriptor() {
  return {.name = "email",
          .version = "1.0.0",
          .summary = "Extracts e-mail addresses from a text field (domains lowercased)",
          .kind = ComponentKind::extractor,
          .params = extractor_params("emails"),
          .example = {.description = "Collects the distinct e-mail addresses of a message body",
                      .params = "field: body",
                      .input = R"({"body": "Ask ada@Example.ORG or bob@example.org (cc ada@example.org)."})",
                      .output = R"({"body": "Ask ada@Example.ORG or bob@example.org (cc ada@example.org).", "emails": ["ada@example.org", "bob@example.org"]})"}};
}

// The local part is a dot-atom (RFC 5322): dots only between other characters, so `user.@x.com`
// and `.user@x.com` are no addresses; the lookbehind keeps `a..b@x.com` from giving `b@x.com`.
Email::Email(const Params& params)
    : PatternExtractor(params, R"((?<![A-Za-z0-9._%+-])[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,})") {}

std::string Email::canonical(std::string_view match) const {
  std::string address(match);
  const auto at = address.find('@');
  std::transform(address.begin() + static_cast<std::ptrdiff_t>(at), address.end(), address.begin() + static_cast<std::ptrdiff_t>(at),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return address;
}

ComponentDescriptor Url::descriptor() {
  return {.name = "url",
          .version = "1.0.0",
          .summary = "Extracts URLs (http, https, ftp, and www. addresses) from a text field",
          .kind = ComponentKind::extractor,
          .params = extractor_params("urls"),
          .example = {.description = "Collects the links of a text, www. addresses included",
                      .params = "field: text",
                      .input = R"({"text": "Docs at https://example.org/docs?page=2, mirror on www.example.com."})",
                      .output = R"({"text": "Docs at https://example.org/docs?page=2, mirror on www.example.com.", "urls": ["https://example.org/docs?page=2", "www.example.com"]})"}};
}

Url::Url(const Params& params)
    : PatternExtractor(params, R"(\b(?:(?:https?|ftp)://|www\.)[^\s<>"'`]+)") {}

// ---- address -------------------------------------------------------------------------------

namespace {

// Takes back the packet an extractor emits, so that the next one works on it.
class Passback : public Emitter {
 public:
  explicit Passback(const Emitter& outer) : outer_(outer) {}
  std::optional<Packet> packet;
  void emit(std::size_t, Packet&& emitted) override { packet = std::move(emitted); }
  std::size_t out_port_index(std::string_view) const override { return 0; }
  void deliver(Packet&&) override {}
  const std::string& node_path() const override { return outer_.node_path(); }  // the address node's

 private:
  const Emitter& outer_;
};

// The params of one of the three extractors: the same field, its own list field.
Params kind_params(const Params& params, std::string_view kind) {
  return Params(Object{{"field", params.get_string("field")}, {"into", params.get_string(kind)}});
}

}  // namespace

Phone::Phone(const Params& params)
    : PatternExtractor(params,
                       // + and a country code, then groups of digits; or a national number:
                       // an area code (bracketed or not) and two to four groups. An ISO date
                       // (2024-03-01) has the shape of the latter but is none.
                       R"((?<![\w+])(?:\+\d{1,3}[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,4}){1,4})"
                       R"(|(?!\d{4}-\d\d-\d\d\b)(?:\(\d{2,5}\) ?|\d{2,5}[ .-])\d{2,4}(?:[ .-]\d{2,4}){1,3})(?!\w))") {}

std::string Phone::canonical(std::string_view match) const {
  std::string digits;
  if (match.starts_with('+')) digits += '+';
  for (const char c : match)
    if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
  return digits;
}

ComponentDescriptor Address::descriptor() {
  return {.name = "address",
          .version = "1.0.0",
          .summary = "Extracts the contact addresses of a text field: e-mail addresses, URLs "
                     "and telephone numbers, each kind into a list field",
          .kind = ComponentKind::extractor,
          .params = {{.name = "field",
                      .type = ParamType::string,
                      .description = "path of the text field to search",
                      .required = true},
                     {.name = "kinds",
                      .type = ParamType::string_list,
                      .description = "which kinds to extract",
                      .default_value = Array{"email", "url", "phone"}},
                     {.name = "emails",
                      .type = ParamType::string,
                      .description = "path that receives the distinct e-mail addresses (domain "
                                     "lowercased), in order of appearance",
                      .default_value = "emails"},
                     {.name = "urls",
                      .type = ParamType::string,
                      .description = "path that receives the distinct URLs",
                      .default_value = "urls"},
                     {.name = "phones",
                      .type = ParamType::string,
                      .description = "path that receives the distinct telephone numbers, digits "
                                     "only (+ kept)",
                      .default_value = "phones"}},
          .example = {.description = "Collects e-mail addresses, URLs and telephone numbers of a signature, each kind into its own field",
                      .params = "field: signature",
                      .input = R"({"signature": "Ada L., +44 20 7946 0958, ada@example.org, https://example.org"})",
                      .output = R"({"signature": "Ada L., +44 20 7946 0958, ada@example.org, https://example.org", "emails": ["ada@example.org"], "urls": ["https://example.org"], "phones": ["+442079460958"]})"}};
}

Address::Address(const Params& params) {
  for (const std::string& kind : params.get_string_list("kinds")) {
    if (kind == "email")
      extractors_.push_back(std::make_unique<Email>(kind_params(params, "emails")));
    else if (kind == "url")
      extractors_.push_back(std::make_unique<Url>(kind_params(params, "urls")));
    else if (kind == "phone")
      extractors_.push_back(std::make_unique<Phone>(kind_params(params, "phones")));
    else
      throw std::invalid_argument("param 'kinds': unknown kind '" + kind + "' (email, url or phone)");
  }
}

void Address::process(Packet& packet, Emitter& emit) {
  for (const auto& extractor : extractors_) {
    Passback passback(emit);
    extractor->process(packet, passback);
    packet = std::move(*passback.packet);
  }
  emit(std::move(packet));
}

}  // namespace sluice::transform
