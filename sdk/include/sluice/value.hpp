// sluice::Value — a JSON value: null, bool, int64, double, string, array, object, and uint64
// for integers above INT64_MAX (kept exact, as JSON allows).
//
//   sluice::Value v = sluice::Object{{"name", "ada"}, {"tags", sluice::Array{"a", "b"}}};
//   v["age"] = 36;                        // insert or replace, keeps insertion order
//   if (const Value* t = v.find_path("tags[1]")) std::cout << t->as_string();
//   int64_t age = v.get("age")->as_int();
//
// Objects keep their keys in insertion order and look keys up linearly: packets hold a
// handful of fields, where a flat vector beats any hash map. Moving a Value never copies.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <sluice/field_path.hpp>

namespace sluice {

class Value;

using Array = std::vector<Value>;

// An ordered map of string keys to values (JSON object). Duplicate keys are not kept:
// set() replaces.
class Object {
 public:
  using Member = std::pair<std::string, Value>;
  using iterator = std::vector<Member>::iterator;
  using const_iterator = std::vector<Member>::const_iterator;

  Object() = default;
  Object(std::initializer_list<Member> members);

  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  // Inserts or replaces; returns the stored value.
  Value& set(std::string_view key, Value value);
  // Appends without looking for an existing key: for parsers that already know keys are new.
  Value& append_unchecked(std::string key, Value value);
  // Removes the key; returns whether it was there.
  bool erase(std::string_view key);
  // Removes and returns the value (null if absent).
  Value take(std::string_view key);
  Value& operator[](std::string_view key);  // inserts null when absent

  // Defined below Value: Member must be complete where they are compiled (clang insists).
  std::size_t size() const;
  bool empty() const;
  void reserve(std::size_t n);
  void clear();
  iterator begin();
  iterator end();
  const_iterator begin() const;
  const_iterator end() const;

  friend bool operator==(const Object& a, const Object& b);

 private:
  std::vector<Member> members_;
};

// `big_integer`: an integer above INT64_MAX, up to UINT64_MAX (last, so that the others keep
// their index in the value's storage).
enum class ValueType { null, boolean, integer, number, string, array, object, big_integer };
const char* to_string(ValueType type);

class Value {
 public:
  Value() = default;
  Value(std::nullptr_t) {}
  Value(bool b) : data_(b) {}
  Value(int i) : data_(static_cast<std::int64_t>(i)) {}
  Value(unsigned i) : data_(static_cast<std::int64_t>(i)) {}
  Value(long i) : data_(static_cast<std::int64_t>(i)) {}
  Value(long long i) : data_(static_cast<std::int64_t>(i)) {}
  // Above INT64_MAX an unsigned is a big_integer: is_int() is false for it, as_uint() reads it.
  Value(unsigned long i) : Value(static_cast<unsigned long long>(i)) {}
  Value(unsigned long long i) {
    if (i <= static_cast<unsigned long long>(INT64_MAX))
      data_ = static_cast<std::int64_t>(i);
    else
      data_ = static_cast<std::uint64_t>(i);
  }
  Value(double d) : data_(d) {}
  Value(const char* s) : data_(std::string(s)) {}
  Value(std::string s) : data_(std::move(s)) {}
  Value(std::string_view s) : data_(std::string(s)) {}
  Value(Array a) : data_(std::move(a)) {}
  Value(Object o) : data_(std::move(o)) {}

  ValueType type() const { return static_cast<ValueType>(data_.index()); }
  const char* type_name() const { return to_string(type()); }
  bool is_null() const { return type() == ValueType::null; }
  bool is_bool() const { return type() == ValueType::boolean; }
  bool is_int() const { return type() == ValueType::integer; }
  bool is_double() const { return type() == ValueType::number; }
  bool is_big_int() const { return type() == ValueType::big_integer; }
  bool is_number() const { return is_int() || is_double() || is_big_int(); }
  // An integer of either kind that is not negative (what as_uint() reads).
  bool is_uint() const { return is_big_int() || (is_int() && std::get<std::int64_t>(data_) >= 0); }
  bool is_string() const { return type() == ValueType::string; }
  bool is_array() const { return type() == ValueType::array; }
  bool is_object() const { return type() == ValueType::object; }

  // Typed access; throws std::runtime_error naming both types on a mismatch.
  bool as_bool() const;
  std::int64_t as_int() const;
  std::uint64_t as_uint() const;  // is_uint()
  double as_double() const;  // any number (a big_integer rounded to the nearest double)
  const std::string& as_string() const;
  std::string& as_string();
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  // Object member access (nullptr when this is not an object or the key is absent).
  const Value* get(std::string_view key) const;
  Value* get(std::string_view key);
  // Object member, inserting null; turns a null value into an empty object first.
  Value& operator[](std::string_view key);
  // Array element; throws std::out_of_range.
  const Value& operator[](std::size_t index) const;
  Value& operator[](std::size_t index);
  Value& operator[](int index) { return (*this)[static_cast<std::size_t>(index)]; }
  const Value& operator[](int index) const { return (*this)[static_cast<std::size_t>(index)]; }

  // Path access: `a.b[2].c`; a key holding dots or brackets can be quoted: `a["x.y"]`.
  // Returns nullptr when any step is missing or of the wrong type. The text is parsed on
  // each call: a path used for many values is a FieldPath, parsed once.
  const Value* find_path(std::string_view path) const;
  Value* find_path(std::string_view path);
  const Value* find_path(const FieldPath& path) const;
  Value* find_path(const FieldPath& path);

  // The value as text for messages and conditions: strings unquoted, everything else as JSON.
  std::string to_display_string() const;

  friend bool operator==(const Value& a, const Value& b);

 private:
  std::variant<std::monostate, bool, std::int64_t, double, std::string, Array, Object, std::uint64_t> data_;
};

inline std::size_t Object::size() const { return members_.size(); }
inline bool Object::empty() const { return members_.empty(); }
inline void Object::reserve(std::size_t n) { members_.reserve(n); }
inline void Object::clear() { members_.clear(); }
inline Object::iterator Object::begin() { return members_.begin(); }
inline Object::iterator Object::end() { return members_.end(); }
inline Object::const_iterator Object::begin() const { return members_.begin(); }
inline Object::const_iterator Object::end() const { return members_.end(); }

}  // namespace sluice
