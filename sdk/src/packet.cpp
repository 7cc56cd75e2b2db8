#include "sluice/packet.hpp"

namespace sluice {

namespace detail {  // value.cpp
bool split_value_path(std::string_view path, std::vector<std::string>& keys);
const Value* find_field_path(const Object& fields, std::string_view path);
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
const Value* Packet::find_path(std::string_view path) const {
  return detail::find_field_path(fields_, path);
}

Value* Packet::find_path(std::string_view path) {
  return const_cast<Value*>(static_cast<const Packet*>(this)->find_path(path));
}

bool Packet::set_path(std::string_view path, Value value) {
  std::vector<std::string> keys;
  if (!detail::split_value_path(path, keys)) return false;
  Value* at = &fields_[keys.front()];
  for (std::size_t i = 1; i < keys.size(); ++i) {
    if (at->is_null()) *at = Object();
    if (!at->is_object()) return false;
    at = &at->as_object()[keys[i]];
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

void Packet::merge(const Packet& other) {
  for (const auto& [name, value] : other.fields_) fields_.set(name, value);
  for (const auto& [name, value] : other.meta_) meta_.set(name, value);
  for (const auto& [field, names] : other.field_meta_) {
    if (!names.is_object()) continue;
    for (const auto& [name, value] : names.as_object()) set_meta(field, name, value);
  }
}

}  // namespace sluice
