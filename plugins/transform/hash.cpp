#include "hash.hpp"

#include <xxhash.h>

#include <stdexcept>

#include "fields.hpp"
#include "packet_key.hpp"

namespace sluice::transform {

namespace {

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
    : fields_(field_paths(params.get_string_list("fields"))),
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

}  // namespace sluice::transform
