// sluice::Packet — one record flowing through a graph: fields, packet metadata, field metadata.
//
//   sluice::Packet p;
//   p.set("title", "Hello");
//   p.append("tags", "news");                 // field becomes / stays an array
//   p.set_meta("mimetype", "text/plain");     // packet-level metadata
//   p.set_meta("title", "lang", "en");        // field-level metadata
//   if (const Value* t = p.get("title")) ...
//   for (const auto& [name, value] : p.fields()) ...
//
// The API follows Pypes' packet (get/set/add/append/remove/has/delete and the *_meta family);
// `delete` is a C++ keyword, so deleting a field is `erase`. Moving a packet never copies its
// data; `clone()` is the explicit deep copy.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/value.hpp"

namespace sluice {

// Conventional packet meta keys (from Pypes, plus `stream` and `error`).
namespace meta {
inline constexpr std::string_view id = "id";
inline constexpr std::string_view route = "route";
inline constexpr std::string_view mimetype = "mimetype";
inline constexpr std::string_view contentlength = "contentlength";
inline constexpr std::string_view processingtime = "processingtime";
inline constexpr std::string_view requestmethod = "requestmethod";
inline constexpr std::string_view filename = "filename";
inline constexpr std::string_view stream = "stream";
inline constexpr std::string_view error = "error";
inline constexpr std::string_view error_node = "error_node";
// Field metadata of a field that holds bytes as base64 (Packet::set_bytes).
inline constexpr std::string_view encoding = "encoding";
}  // namespace meta

class Packet {
 public:
  Packet() = default;
  explicit Packet(Object fields) : fields_(std::move(fields)) {}
  Packet(Packet&&) noexcept = default;
  Packet& operator=(Packet&&) noexcept = default;
  // Copying is explicit (clone) so that an accidental copy on a hot path does not compile.
  Packet(const Packet&) = delete;
  Packet& operator=(const Packet&) = delete;

  Packet clone() const;

  // --- fields -------------------------------------------------------------------------
  bool has(std::string_view field) const { return fields_.contains(field); }
  const Value* get(std::string_view field) const { return fields_.find(field); }
  Value* get(std::string_view field) { return fields_.find(field); }
  // The field's value, or `fallback` when absent.
  const Value& get_or(std::string_view field, const Value& fallback) const;
  // A field path such as `user.emails[0]` (see Value::find_path); a FieldPath when the same
  // path is looked up in every packet (the text is parsed on each call).
  const Value* find_path(std::string_view path) const;
  Value* find_path(std::string_view path);
  const Value* find_path(const FieldPath& path) const;
  Value* find_path(const FieldPath& path);
  // Sets a path of keys (no [index]), creating intermediate objects; returns false when a
  // step exists with another type (for example `a.b` where `a` is a string).
  bool set_path(std::string_view path, Value value);
  bool set_path(const FieldPath& path, Value value);
  // Replaces or inserts.
  Value& set(std::string_view field, Value value) { return fields_.set(field, std::move(value)); }
  // Inserts only when absent; returns whether it inserted.
  bool add(std::string_view field, Value value);
  // Multi-valued fields: appends to an array, turning a present scalar into [scalar, value].
  void append(std::string_view field, Value value);
  // Removes every element equal to `value` from an array field (or the field itself when it
  // is a scalar equal to `value`); returns how many were removed.
  std::size_t remove(std::string_view field, const Value& value);
  // Deletes the field and its field metadata; returns whether it was there.
  bool erase(std::string_view field);
  // Deletes the field and returns its value (null if absent).
  Value take(std::string_view field);
  // Renames a field, keeping its metadata; false when `from` is absent.
  bool rename(std::string_view from, std::string_view to);

  const Object& fields() const { return fields_; }
  Object& fields() { return fields_; }
  std::size_t size() const { return fields_.size(); }

  // --- packet metadata ----------------------------------------------------------------
  bool has_meta(std::string_view name) const { return meta_.contains(name); }
  const Value* get_meta(std::string_view name) const { return meta_.find(name); }
  void set_meta(std::string_view name, Value value) { meta_.set(name, std::move(value)); }
  bool erase_meta(std::string_view name) { return meta_.erase(name); }
  const Object& meta() const { return meta_; }
  Object& meta() { return meta_; }

  // --- field metadata -----------------------------------------------------------------
  bool has_meta(std::string_view field, std::string_view name) const;
  const Value* get_meta(std::string_view field, std::string_view name) const;
  void set_meta(std::string_view field, std::string_view name, Value value);
  bool erase_meta(std::string_view field, std::string_view name);
  // Field name → object of that field's metadata.
  const Object& field_meta() const { return field_meta_; }
  Object& field_meta() { return field_meta_; }

  // --- raw bytes ----------------------------------------------------------------------
  // A field holding bytes as they arrived (a request body, a file). JSON strings hold text
  // only, so bytes that are not valid UTF-8 are kept base64-encoded, with the field meta
  // `encoding: "base64"`; bytes() gives them back byte for byte either way, into `scratch`
  // when they had to be decoded. bytes() throws when the field is absent or not a string.
  void set_bytes(std::string_view field, std::string bytes);
  std::string_view bytes(std::string_view field, std::string& scratch) const;

  // Copies `other`'s fields over this packet's (other wins), then metadata the same way.
  void merge(const Packet& other);

  friend bool operator==(const Packet& a, const Packet& b) {
    return a.fields_ == b.fields_ && a.meta_ == b.meta_ && a.field_meta_ == b.field_meta_;
  }

 private:
  Object fields_;
  Object meta_;
  Object field_meta_;
};

}  // namespace sluice
