#include "ingress/request_body.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <utility>

#include <sluice/json.hpp>

#include "support/strings.hpp"

namespace sluice {

namespace {

enum class BodyKind { json, ndjson, json_seq, sniff, raw };

BodyKind kind_of(std::string_view media_type) {
  if (media_type == "application/json" || media_type.ends_with("+json")) return BodyKind::json;
  if (media_type == "application/x-ndjson" || media_type == "application/ndjson" ||
      media_type == "application/jsonl" || media_type == "application/x-jsonlines" ||
      media_type == "application/jsonlines")
    return BodyKind::ndjson;
  if (media_type == "application/json-seq") return BodyKind::json_seq;
  if (media_type.empty() || media_type == "application/x-www-form-urlencoded") return BodyKind::sniff;
  return BodyKind::raw;
}

// A client that did not say what it sends: JSON-looking text is taken for JSON or NDJSON.
BodyKind sniff(std::string_view body) {
  const std::string_view text = trim(body);
  if (text.empty() || (text.front() != '{' && text.front() != '[')) return BodyKind::raw;
  const auto newline = text.find('\n');
  if (newline == std::string_view::npos || trim(text.substr(newline)).empty()) return BodyKind::json;
  try {
    json::parse(text.substr(0, newline));
    return BodyKind::ndjson;  // a whole value on the first line, and more after it
  } catch (const json::ParseError&) {
    return BodyKind::json;  // pretty-printed JSON (or broken: then JSON's error is the one)
  }
}

RequestError bad_json(const json::ParseError& e, std::string_view what) {
  return RequestError(400, "invalid " + std::string(what) + ": " + e.reason(),
                      Object{{"line", e.line()}, {"column", e.column()}, {"offset", e.offset()}});
}

Packet object_packet(Value&& record, std::string_view where) {
  if (!record.is_object())
    throw RequestError(400, std::string(where) + " is a JSON " + record.type_name() +
                                ", not an object (each packet is one JSON object)");
  return json::to_packet(std::move(record));
}

// Thrown as soon as the count is known to pass the limit, before the rest is inflated or
// parsed: a small gzip body can hold tens of millions of tiny lines.
RequestError too_many_packets(std::size_t max_packets) {
  return RequestError(413, "the body holds more than " + std::to_string(max_packets) +
                               " packets, more than a graph can queue; send smaller requests");
}

std::vector<Packet> json_packets(std::string_view body, std::size_t max_packets) {
  std::vector<Value> documents;
  try {
    documents = json::parse_documents(body);
  } catch (const json::ParseError& e) {
    throw bad_json(e, "JSON");
  }
  if (documents.size() > max_packets) throw too_many_packets(max_packets);
  std::vector<Packet> packets;
  packets.reserve(documents.size());
  for (std::size_t i = 0; i < documents.size(); ++i)
    packets.push_back(object_packet(std::move(documents[i]),
                                    documents.size() == 1 ? "the body" : "element " + std::to_string(i)));
  return packets;
}

// RFC 7464: every record begins with RS (0x1E) and holds one JSON text, which may span lines.
// Records of whitespace only (two RS in a row) are skipped; record numbers count the others.
std::vector<Packet> json_seq_packets(std::string_view body, std::size_t max_packets) {
  constexpr char record_separator = '\x1e';
  std::size_t start = body.find(record_separator);
  if (!trim(body.substr(0, start)).empty())
    throw RequestError(400, "invalid JSON text sequence: the body does not begin with RS (0x1E), "
                            "which begins every record (RFC 7464)");
  std::vector<Packet> packets;
  while (start != std::string_view::npos) {
    const std::size_t end = body.find(record_separator, start + 1);
    const std::string_view text =
        trim(body.substr(start + 1, end == std::string_view::npos ? end : end - start - 1));
    start = end;
    if (text.empty()) continue;
    if (packets.size() == max_packets) throw too_many_packets(max_packets);
    const std::string where = "record " + std::to_string(packets.size() + 1);
    Value record;
    try {
      record = json::parse(text);
    } catch (const json::ParseError& e) {
      throw bad_json(e, "JSON in " + where);
    }
    packets.push_back(object_packet(std::move(record), where));
  }
  return packets;
}

std::vector<Packet> ndjson_packets(std::string_view body, std::size_t max_packets, std::vector<TextSpan>* field_texts) {
  std::vector<Packet> packets;
  // The start of line `at_line` (1-based), moved forward to each record's line in turn.
  std::size_t at_line = 1, line_start = 0;
  try {
    json::for_each_ndjson(body, [&](Value&& record, std::size_t line) {
      if (packets.size() == max_packets) throw too_many_packets(max_packets);
      if (!record.is_object())
        throw RequestError(400, "line " + std::to_string(line) + " is a JSON " + record.type_name() +
                                    ", not an object (each line is one packet)",
                           Object{{"line", line}});
      packets.push_back(json::to_packet(std::move(record)));
      if (!field_texts) return;
      for (; at_line < line; ++at_line) line_start = body.find('\n', line_start) + 1;
      const std::size_t end = std::min(body.find('\n', line_start), body.size());
      field_texts->push_back({line_start, end - line_start});
    });
  } catch (const json::ParseError& e) {
    throw bad_json(e, "NDJSON at line " + std::to_string(e.line()));
  }
  return packets;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Counts the lines that are not blank (NDJSON's packets) in text that arrives piece by piece.
class LineCounter {
 public:
  explicit LineCounter(std::size_t max_lines) : max_lines_(max_lines) {}
  void operator()(std::string_view piece) {
    for (const char c : piece) {
      if (c == '\n') {
        if (std::exchange(in_line_, false) && ++lines_ > max_lines_) throw too_many_packets(max_lines_);
      } else if (!std::isspace(static_cast<unsigned char>(c))) {
        in_line_ = true;
      }
    }
  }

 private:
  std::size_t max_lines_;
  std::size_t lines_ = 0;
  bool in_line_ = false;
};

}  // namespace

std::string inflate_body(std::string_view compressed, std::size_t limit,
                         const std::function<void(std::string_view)>& on_inflated) {
  z_stream stream{};
  // 15 window bits + 32: detect a gzip or a zlib header (HTTP's "deflate" is zlib format).
  if (inflateInit2(&stream, 15 + 32) != Z_OK) throw RequestError(500, "zlib: inflateInit2 failed");
  struct End {
    z_stream& s;
    ~End() { inflateEnd(&s); }
  } end{stream};

  std::string out;
  char chunk[64 * 1024];
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  for (;;) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk);
    stream.avail_out = sizeof chunk;
    const int status = inflate(&stream, Z_NO_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR)
      throw RequestError(400, std::string("the gzip/deflate body is corrupt: ") +
                                  (stream.msg ? stream.msg : "zlib error " + std::to_string(status)));
    const std::size_t produced = sizeof chunk - stream.avail_out;
    if (out.size() + produced > limit)
      throw RequestError(413, "inflated body larger than the limit of " + std::to_string(limit) + " bytes");
    out.append(chunk, produced);
    if (on_inflated) on_inflated(std::string_view(chunk, produced));
    if (status == Z_STREAM_END) {
      if (stream.avail_in == 0) return out;
      // Concatenated gzip members (RFC 1952 §2.2) are one body.
      if (inflateReset(&stream) != Z_OK) throw RequestError(500, "zlib: inflateReset failed");
    } else if (status == Z_BUF_ERROR || (stream.avail_in == 0 && produced == 0)) {
      throw RequestError(400, "the gzip/deflate body is truncated");
    }
  }
}

std::string content_disposition_filename(std::string_view value) {
  std::string plain, extended;
  while (!value.empty()) {
    const auto semicolon = value.find(';');
    std::string_view part = trim(value.substr(0, semicolon));
    value = semicolon == std::string_view::npos ? std::string_view() : value.substr(semicolon + 1);
    const auto equals = part.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string name = lower(trim(part.substr(0, equals)));
    std::string_view text = trim(part.substr(equals + 1));
    if (name == "filename") {
      if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
      plain.clear();
      for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;  // quoted-pair
        plain.push_back(text[i]);
      }
    } else if (name == "filename*") {
      // RFC 8187: charset'language'percent-encoded
      const auto second_quote = text.find('\'', text.find('\'') + 1);
      if (second_quote == std::string_view::npos) continue;
      extended.clear();
      for (std::size_t i = second_quote + 1; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 && hex_digit(text[i + 2]) >= 0) {
          extended.push_back(static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2])));
          i += 2;
        } else {
          extended.push_back(text[i]);
        }
      }
    }
  }
  // Only the base name: a client's path must not travel into file-writing components.
  std::string name = extended.empty() ? plain : extended;
  if (const auto slash = name.find_last_of("/\\"); slash != std::string::npos) name.erase(0, slash + 1);
  return name;
}

Packet raw_packet(std::string body, std::string_view content_type, std::string_view filename) {
  Packet packet;
  const std::size_t length = body.size();
  packet.set_bytes("data", std::move(body));
  packet.set_meta(meta::mimetype,
                  content_type.empty() ? Value("application/octet-stream") : Value(content_type));
  packet.set_meta(meta::contentlength, Value(length));
  if (!filename.empty()) packet.set_meta(meta::filename, Value(filename));
  return packet;
}

std::vector<Packet> read_packets(HttpRequest& request, std::size_t max_body, std::size_t max_packets,
                                 std::vector<TextSpan>* field_texts) {
  const std::string_view content_type = trim(request.header("content-type").value_or(""));
  const std::string media_type = text::media_type(content_type);
  BodyKind kind = kind_of(media_type);
  const std::string encoding = lower(trim(request.header("content-encoding").value_or("")));
  if (encoding == "gzip" || encoding == "x-gzip" || encoding == "deflate") {
    // NDJSON: inflating stops at the first line beyond the packet limit.
    request.body = kind == BodyKind::ndjson ? inflate_body(request.body, max_body, LineCounter(max_packets))
                                            : inflate_body(request.body, max_body);
  } else if (!encoding.empty() && encoding != "identity") {
    throw RequestError(415, "unsupported Content-Encoding " + json_quoted(encoding),
                       Object{{"supported", Array{"gzip", "deflate", "identity"}}});
  }

  // Whatever the type: a request with nothing in it is a mistake (the caller answers 400), not
  // a packet with an empty `data`.
  if (request.body.empty()) return {};
  if (kind == BodyKind::sniff) kind = sniff(request.body);
  switch (kind) {
    case BodyKind::json: return json_packets(request.body, max_packets);
    case BodyKind::ndjson: return ndjson_packets(request.body, max_packets, field_texts);
    case BodyKind::json_seq: return json_seq_packets(request.body, max_packets);
    default: break;
  }
  std::vector<Packet> packets;
  const auto disposition = request.header("content-disposition");
  packets.push_back(raw_packet(std::move(request.body), content_type,
                               disposition ? content_disposition_filename(*disposition) : std::string()));
  return packets;
}

}  // namespace sluice
