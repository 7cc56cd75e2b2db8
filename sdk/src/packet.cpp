#include "sluice/packet.hpp"

#include <simdjson.h>

#include <array>
#include <cstdint>
#include <stdexcept>

namespace sluice {

namespace detail {  // value.cpp
const Value* find_field_path(const Object& fields, const FieldPath& path);
}  // namespace detail

Packet Packet::clone() const {
  Packet copy;
  copy.fields_ = fields_;
  copy.meta_ = meta_;
  copy.field_meta_ = field_meta_;
  return copy;
}

const Value& Packet::get_or(std::string_view field, const Value& fallback) const {
  const Value* v = fields_.find(field);
  return v ? *v : fallback;
}

// Field paths start at the fields object; `a.b` means field `a`, key `b`.
const Value* Packet::find_path(std::string_view path) const { return find_path(FieldPath(path)); }
Value* Packet::find_path(std::string_view path) { return find_path(FieldPath(path)); }
bool Packet::set_path(std::string_view path, Value value) { return set_path(FieldPath(path), std::move(value)); }

const Value* Packet::find_path(const FieldPath& path) const { return detail::find_field_path(fields_, path); }

Value* Packet::find_path(const FieldPath& path) {
  return const_cast<Value*>(static_cast<const Packet*>(this)->find_path(path));
}

bool Packet::set_path(const FieldPath& path, Value value) {
  const auto& steps = path.steps();
  if (!path.valid()) return false;
  for (const auto& step : steps)
    if (step.is_index) return false;
  Value* at = &fields_[steps.front().key];
  for (std::size_t i = 1; i < steps.size(); ++i) {
    if (at->is_null()) *at = Object();
    if (!at->is_object()) return false;
    at = &at->as_object()[steps[i].key];
  }
  *at = std::move(value);
  return true;
}

bool Packet::add(std::string_view field, Value value) {
  if (fields_.contains(field)) return false;
  fields_.append_unchecked(std::string(field), std::move(value));
  return true;
}

void Packet::append(std::string_view field, Value value) {
  Value* existing = fields_.find(field);
  if (existing && existing->is_array()) {
    existing->as_array().push_back(std::move(value));
    return;
  }
  // Not `Array{a, b}`: an initializer list holds const elements, so it would copy them.
  Array items;
  items.reserve(2);
  if (existing) items.push_back(std::move(*existing));
  items.push_back(std::move(value));
  if (existing)
    *existing = std::move(items);
  else
    fields_.append_unchecked(std::string(field), std::move(items));
}

std::size_t Packet::remove(std::string_view field, const Value& value) {
  Value* existing = fields_.find(field);
  if (!existing) return 0;
  if (!existing->is_array()) {
    if (!(*existing == value)) return 0;
    erase(field);
    return 1;
  }
  auto& items = existing->as_array();
  const auto before = items.size();
  std::erase_if(items, [&](const Value& item) { return item == value; });
  return before - items.size();
}

bool Packet::erase(std::string_view field) {
  field_meta_.erase(field);
  return fields_.erase(field);
}

Value Packet::take(std::string_view field) {
  field_meta_.erase(field);
  return fields_.take(field);
}

bool Packet::rename(std::string_view from, std::string_view to) {
  if (!fields_.contains(from)) return false;
  if (from == to) return true;
  Value value = fields_.take(from);
  fields_.set(to, std::move(value));
  if (field_meta_.contains(from)) {
    Value m = field_meta_.take(from);
    field_meta_.set(to, std::move(m));
  } else {
    field_meta_.erase(to);
  }
  return true;
}

bool Packet::has_meta(std::string_view field, std::string_view name) const {
  return get_meta(field, name) != nullptr;
}

const Value* Packet::get_meta(std::string_view field, std::string_view name) const {
  const Value* m = field_meta_.find(field);
  return m ? m->get(name) : nullptr;
}

void Packet::set_meta(std::string_view field, std::string_view name, Value value) {
  Value& m = field_meta_[field];
  if (!m.is_object()) m = Object();
  m.as_object().set(name, std::move(value));
}

bool Packet::erase_meta(std::string_view field, std::string_view name) {
  Value* m = field_meta_.find(field);
  if (!m || !m->is_object()) return false;
  const bool erased = m->as_object().erase(name);
  if (m->as_object().empty()) field_meta_.erase(field);
  return erased;
}

namespace {

constexpr char base64_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encoded(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const auto group = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                       static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += base64_digits[(group >> shift) & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t group = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) group |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += base64_digits[(group >> 18) & 63];
    out += base64_digits[(group >> 12) & 63];
    out += rest == 2 ? base64_digits[(group >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_decoded(std::string_view text, std::string_view field) {
  static const auto values = [] {
    std::array<std::int8_t, 256> table;
    table.fill(-1);
    for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(base64_digits[i])] = static_cast<std::int8_t>(i);
    return table;
  }();
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t group = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = values[static_cast<unsigned char>(c)];
    if (value < 0)
      throw std::runtime_error("field '" + std::string(field) + "' is marked base64 but holds '" +
                               std::string(1, c) + "'");
    group = group << 6 | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((group >> bits) & 0xFF);
    }
  }
  return out;
}

}  // namespace

void Packet::set_bytes(std::string_view field, std::string bytes) {
  if (simdjson::validate_utf8(bytes.data(), bytes.size())) {
    erase_meta(field, meta::encoding);
    set(field, Value(std::move(bytes)));
    return;
  }
  set(field, Value(base64_encoded(bytes)));
  set_meta(field, meta::encoding, Value("base64"));
}

std::string_view Packet::bytes(std::string_view field, std::string& scratch) const {
  const Value* value = get(field);
  if (!value) throw std::runtime_error("field '" + std::string(field) + "' is missing");
  if (!value->is_string())
    throw std::runtime_error("field '" + std::string(field) + "' is " + value->type_name() + ", not bytes");
  const Value* encoding = get_meta(field, meta::encoding);
  if (!encoding || !encoding->is_string() || encoding->as_string() != "base64") return value->as_string();
  scratch = base64_decoded(value->as_string(), field);
  return scratch;
}

void Packet::merge(const Packet& other) {
  for (const auto& [name, value] : other.fields_) fields_.set(name, value);
  for (const auto& [name, value] : other.meta_) meta_.set(name, value);
  for (const auto& [field, names] : other.field_meta_) {
    if (!names.is_object()) continue;
    for (const auto& [name, value] : names.as_object()) set_meta(field, name, value);
  }
}

}  // namespace sluice
