#include "sluice/value.hpp"

#include <stdexcept>
#include <tuple>

#include "sluice/json.hpp"

namespace sluice {

// ---- Object --------------------------------------------------------------------------------

Object::Object(std::initializer_list<Member> members) {
  members_.reserve(members.size());
  for (const auto& m : members) set(m.first, m.second);
}

const Value* Object::find(std::string_view key) const {
  for (const auto& m : members_)
    if (m.first == key) return &m.second;
  return nullptr;
}

Value* Object::find(std::string_view key) {
  for (auto& m : members_)
    if (m.first == key) return &m.second;
  return nullptr;
}

Value& Object::set(std::string_view key, Value value) {
  if (Value* existing = find(key)) {
    *existing = std::move(value);
    return *existing;
  }
  // The key is constructed in place: no temporary string to move.
  return members_.emplace_back(std::piecewise_construct, std::forward_as_tuple(key),
                               std::forward_as_tuple(std::move(value)))
      .second;
}

Value& Object::append_unchecked(std::string key, Value value) {
  return members_.emplace_back(std::move(key), std::move(value)).second;
}

bool Object::erase(std::string_view key) {
  for (auto it = members_.begin(); it != members_.end(); ++it) {
    if (it->first == key) {
      members_.erase(it);
      return true;
    }
  }
  return false;
}

Value Object::take(std::string_view key) {
  for (auto it = members_.begin(); it != members_.end(); ++it) {
    if (it->first == key) {
      Value v = std::move(it->second);
      members_.erase(it);
      return v;
    }
  }
  return {};
}

Value& Object::operator[](std::string_view key) {
  if (Value* existing = find(key)) return *existing;
  return members_.emplace_back(std::piecewise_construct, std::forward_as_tuple(key),
                               std::forward_as_tuple())
      .second;
}

bool operator==(const Object& a, const Object& b) {
  // Key order does not matter for equality, as in JSON.
  if (a.size() != b.size()) return false;
  for (const auto& [key, value] : a) {
    const Value* other = b.find(key);
    if (!other || !(*other == value)) return false;
  }
  return true;
}

// ---- Value ---------------------------------------------------------------------------------

const char* to_string(ValueType type) {
  switch (type) {
    case ValueType::null: return "null";
    case ValueType::boolean: return "boolean";
    case ValueType::integer: return "integer";
    case ValueType::number: return "number";
    case ValueType::string: return "string";
    case ValueType::array: return "array";
    case ValueType::object: return "object";
    case ValueType::big_integer: return "integer";
  }
  return "?";
}

namespace {
[[noreturn]] void type_mismatch(const char* wanted, const Value& v) {
  throw std::runtime_error(std::string("expected ") + wanted + ", got " + v.type_name());
}
}  // namespace

bool Value::as_bool() const {
  if (!is_bool()) type_mismatch("boolean", *this);
  return std::get<bool>(data_);
}

std::int64_t Value::as_int() const {
  if (!is_int()) type_mismatch("integer", *this);
  return std::get<std::int64_t>(data_);
}

std::uint64_t Value::as_uint() const {
  if (!is_uint()) type_mismatch("integer of at least 0", *this);
  if (is_big_int()) return std::get<std::uint64_t>(data_);
  return static_cast<std::uint64_t>(std::get<std::int64_t>(data_));
}

double Value::as_double() const {
  if (is_int()) return static_cast<double>(std::get<std::int64_t>(data_));
  if (is_big_int()) return static_cast<double>(std::get<std::uint64_t>(data_));
  if (!is_double()) type_mismatch("number", *this);
  return std::get<double>(data_);
}

const std::string& Value::as_string() const {
  if (!is_string()) type_mismatch("string", *this);
  return std::get<std::string>(data_);
}
std::string& Value::as_string() {
  if (!is_string()) type_mismatch("string", *this);
  return std::get<std::string>(data_);
}
const Array& Value::as_array() const {
  if (!is_array()) type_mismatch("array", *this);
  return std::get<Array>(data_);
}
Array& Value::as_array() {
  if (!is_array()) type_mismatch("array", *this);
  return std::get<Array>(data_);
}
const Object& Value::as_object() const {
  if (!is_object()) type_mismatch("object", *this);
  return std::get<Object>(data_);
}
Object& Value::as_object() {
  if (!is_object()) type_mismatch("object", *this);
  return std::get<Object>(data_);
}

const Value* Value::get(std::string_view key) const {
  return is_object() ? std::get<Object>(data_).find(key) : nullptr;
}
Value* Value::get(std::string_view key) {
  return is_object() ? std::get<Object>(data_).find(key) : nullptr;
}

Value& Value::operator[](std::string_view key) {
  if (is_null()) data_ = Object();
  return as_object()[key];
}

const Value& Value::operator[](std::size_t index) const { return as_array().at(index); }
Value& Value::operator[](std::size_t index) { return as_array().at(index); }

namespace {

template <class V>
V* walk_steps(V* value, const FieldPath::Step* step, const FieldPath::Step* end) {
  for (; step != end; ++step) {
    if (step->is_index) {
      if (!value->is_array() || step->index >= value->as_array().size()) return nullptr;
      value = &value->as_array()[step->index];
    } else {
      value = value->get(step->key);
      if (!value) return nullptr;
    }
  }
  return value;
}

}  // namespace

const Value* Value::find_path(std::string_view path) const { return find_path(FieldPath(path)); }
Value* Value::find_path(std::string_view path) { return find_path(FieldPath(path)); }

const Value* Value::find_path(const FieldPath& path) const {
  const auto& steps = path.steps();
  return path.valid() ? walk_steps(this, steps.data(), steps.data() + steps.size()) : nullptr;
}

Value* Value::find_path(const FieldPath& path) {
  return const_cast<Value*>(static_cast<const Value*>(this)->find_path(path));
}

std::string Value::to_display_string() const {
  if (is_string()) return as_string();
  return json::to_string(*this);
}

bool operator==(const Value& a, const Value& b) {
  // 1 == 1.0, as JSON has a single number type. An integer and a big integer are never equal
  // (the kinds do not overlap), and comparing them as doubles could make them so.
  if (a.is_number() && b.is_number() && a.type() != b.type()) {
    if (a.is_double() || b.is_double()) return a.as_double() == b.as_double();
    return false;
  }
  return a.data_ == b.data_;
}

// Used by Packet's path methods, which live in packet.cpp but share the path walk.
namespace detail {
// A packet's fields are an Object, not a Value: the first step is a key looked up there, so
// that a quoted first key (`["a.b"].c`) works as it does for Packet::set_path.
const Value* find_field_path(const Object& fields, const FieldPath& path) {
  const auto& steps = path.steps();
  if (!path.valid() || steps.front().is_index) return nullptr;
  const Value* root = fields.find(steps.front().key);
  return root ? walk_steps(root, steps.data() + 1, steps.data() + steps.size()) : nullptr;
}
}  // namespace detail

}  // namespace sluice
