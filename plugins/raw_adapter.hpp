// The base of the adapters (raw packets → structured packets), shared by the adapters and
// documents packages: a raw packet carries its bytes in a field (`data`; base64 with field
// meta `encoding: base64` when they are not UTF-8, Packet::set_bytes) and its type in the
// `mimetype` meta. An adapter converts the packets of its mimetypes, passes every other one
// to its `unmatched` port, and gives its children the raw packet's metadata.
//
// A packet without a mimetype is structured already: the ingress parses JSON and NDJSON bodies
// itself (over REST, from the editor's Send panel, each line of `sluice run`). The adapters of
// JSON (whose mimetypes include application/json or application/x-ndjson) then have nothing
// left to do and pass it on to `out` unchanged, so a graph that starts with json_adapter works
// the same whether its input arrives raw or parsed; the other adapters leave it unmatched.
#pragma once

#include <unicode/ucnv.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/component.hpp>
#include <sluice/text.hpp>

namespace sluice::plugins {

namespace raw_adapter_detail {

// `text` in `charset`, as UTF-8 (ICU's converters: every charset of the IANA registry).
inline std::string to_utf8(std::string_view text, const std::string& charset) {
  UErrorCode status = U_ZERO_ERROR;
  const auto length = static_cast<int32_t>(text.size());
  const int32_t needed = ucnv_convert("UTF-8", charset.c_str(), nullptr, 0, text.data(), length, &status);
  if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status))
    throw std::runtime_error("charset '" + charset + "': " +
                             (status == U_FILE_ACCESS_ERROR ? "unknown" : u_errorName(status)));
  std::string out(static_cast<std::size_t>(needed), '\0');
  status = U_ZERO_ERROR;
  ucnv_convert("UTF-8", charset.c_str(), out.data(), needed, text.data(), length, &status);
  if (U_FAILURE(status) && status != U_STRING_NOT_TERMINATED_WARNING)
    throw std::runtime_error("charset '" + charset + "': " + u_errorName(status));
  return out;
}

}  // namespace raw_adapter_detail

// A JSON value as a packet: an object's fields; std::runtime_error naming `where` otherwise.
inline Packet object_packet(Value&& value, const std::string& where) {
  if (!value.is_object()) throw std::runtime_error(where + " is " + value.type_name() + ", not an object");
  return Packet(std::move(value.as_object()));
}

// What every adapter shares: the mimetype check, reading the raw bytes, meta on children,
// the ports.
class Adapter : public Component {
 public:
  void process(Packet& packet, Emitter& emit) override;

 protected:
  explicit Adapter(const Params& params);
  // A descriptor with the common ports and params (`mimetypes` defaulting to `mimetypes`,
  // `field`) after the adapter's own params.
  static ComponentDescriptor adapter_descriptor(std::string name, std::string summary,
                                                std::vector<std::string> mimetypes,
                                                std::vector<ParamSpec> own, ComponentExample example);
  // Turns the raw text into children; throws (before anything is emitted) when it cannot.
  virtual std::vector<Packet> convert(std::string_view text) = 0;
  // False: text in the charset the mimetype names (`; charset=iso-8859-1`) is decoded to UTF-8
  // before convert. XML declares its encoding itself, and its parser reads that.
  virtual bool decodes_itself() const { return false; }

 private:
  bool accepts(const Packet& packet) const;
  bool accepts_type(const std::string& type) const;
  std::vector<std::string> mimetypes_;
  FieldPath field_;
};


inline Adapter::Adapter(const Params& params)
    : mimetypes_(params.get_string_list("mimetypes")), field_(params.get_string("field")) {
  for (auto& m : mimetypes_) m = text::media_type(m);
}

inline ComponentDescriptor Adapter::adapter_descriptor(std::string name, std::string summary,
                                                std::vector<std::string> mimetypes,
                                                std::vector<ParamSpec> own, ComponentExample example) {
  Array defaults;
  for (auto& m : mimetypes) defaults.push_back(std::move(m));
  own.push_back({.name = "mimetypes",
                 .type = ParamType::string_list,
                 .description = "packets whose `mimetype` meta is one of these are converted "
                                "(`type/*` matches a whole type; parameters are ignored, but a "
                                "charset other than UTF-8 is decoded first, except by "
                                "xml_adapter); others go to unmatched",
                 .default_value = std::move(defaults)});
  own.push_back({.name = "field",
                 .type = ParamType::string,
                 .description = "field holding the raw text",
                 .default_value = "data"});
  return {.name = std::move(name),
          .version = "1.0.0",
          .summary = std::move(summary),
          .kind = ComponentKind::adapter,
          .outputs = {{"out", "structured packets, with the raw packet's metadata"},
                      {"unmatched", "packets of another (or no) mimetype, unchanged"}},
          .params = std::move(own),
          .example = std::move(example)};
}

inline bool Adapter::accepts(const Packet& packet) const {
  const Value* mimetype = packet.get_meta(meta::mimetype);
  return mimetype && mimetype->is_string() && accepts_type(text::media_type(mimetype->as_string()));
}

inline bool Adapter::accepts_type(const std::string& type) const {
  return std::any_of(mimetypes_.begin(), mimetypes_.end(), [&](const std::string& pattern) {
    if (pattern == "*/*" || pattern == type) return true;
    return pattern.size() > 2 && pattern.ends_with("/*") &&
           type.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
  });
}

inline void Adapter::process(Packet& packet, Emitter& emit) {
  if (!packet.has_meta(meta::mimetype) && (accepts_type("application/json") || accepts_type("application/x-ndjson"))) {
    emit("out", std::move(packet));  // parsed by the ingress (above)
    return;
  }
  if (!accepts(packet)) {
    emit("unmatched", std::move(packet));
    return;
  }
  // Bytes that are not UTF-8 (a Latin-1 body, say) arrive base64-encoded (Packet::set_bytes).
  std::string decoded;
  std::string_view text;
  if (packet.has_meta(field_.text(), meta::encoding)) {
    text = packet.bytes(field_.text(), decoded);
  } else {
    const Value* raw = packet.find_path(field_);
    if (!raw) throw std::runtime_error("field '" + field_.text() + "' is missing");
    if (!raw->is_string())
      throw std::runtime_error("field '" + field_.text() + "' is " + raw->type_name() + ", not text");
    text = raw->as_string();
  }
  const std::string charset =
      decodes_itself() ? std::string() : text::media_type_parameter(packet.get_meta(meta::mimetype)->as_string(), "charset");
  std::vector<Packet> children =
      charset.empty() || charset == "utf-8" || charset == "utf8" || charset == "us-ascii"
          ? convert(text)
          : convert(raw_adapter_detail::to_utf8(text, charset));
  for (std::size_t i = 0; i < children.size(); ++i) {
    if (i + 1 < children.size())
      children[i].meta() = packet.meta();
    else
      children[i].meta() = std::move(packet.meta());
    emit(std::move(children[i]));
  }
}

}  // namespace sluice::plugins
