#include "runtime/packet_bytes.hpp"

namespace sluice {

namespace {
std::size_t value_bytes(const Value& value);

std::size_t object_bytes(const Object& object) {
  std::size_t bytes = 0;
  for (const auto& [key, member] : object) bytes += key.capacity() + value_bytes(member);
  return bytes;
}

std::size_t value_bytes(const Value& value) {
  std::size_t bytes = sizeof(Value);
  if (value.is_string()) {
    bytes += value.as_string().capacity();
  } else if (value.is_array()) {
    for (const Value& item : value.as_array()) bytes += value_bytes(item);
  } else if (value.is_object()) {
    bytes += object_bytes(value.as_object());
  }
  return bytes;
}
}  // namespace

std::size_t packet_bytes(const Packet& packet) {
  return sizeof(Packet) + object_bytes(packet.fields()) + object_bytes(packet.meta()) +
         object_bytes(packet.field_meta());
}

}  // namespace sluice
