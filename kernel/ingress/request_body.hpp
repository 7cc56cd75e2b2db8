// Request bodies → packets, for POST /v1/graphs/{g}/packets.
//
//   std::vector<Packet> packets = read_packets(request, max_body, max_packets);  // throws RequestError
//
// The body is taken from the request (moved into a raw packet, or replaced by its inflated
// form).
//
// What a body becomes, by Content-Type (parameters such as charset are ignored):
//   application/json, */*+json          one object → one packet; an array → one per element
//   application/x-ndjson (also ndjson,  one packet per non-blank line; a bad line → 400 naming
//     jsonl, x-jsonlines)               it, and nothing of the request is admitted
//   none, application/x-www-form-       curl's default for --data-binary: a body that starts
//     urlencoded                        with `{` or `[` is read as NDJSON when its first line
//                                       is a whole JSON value and more follows, else as JSON;
//                                       any other body is one raw packet
//   anything else                       one raw packet: field `data` = the bytes as a string,
//                                       meta mimetype, contentlength, filename (from
//                                       Content-Disposition)
// Content-Encoding gzip or deflate is inflated first, up to `max_body` bytes (413 beyond);
// any other coding is 415. An empty body (after inflating) is no packets. More than
// `max_packets` packets is 413, found out early: NDJSON when the line after the last allowed
// one is inflated or parsed (a 63 KiB gzip body can hold 22 M tiny lines), JSON before any
// packet is built.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/packet.hpp>

#include "ingress/http_server.hpp"

namespace sluice {

// Where in `request.body` a packet's fields were read from: JSON text that parses to them.
struct TextSpan {
  std::size_t offset = 0, length = 0;
};

// With `field_texts`, an NDJSON body also tells each packet's line (one span per packet, in
// order; left empty for other bodies), so that the write-ahead log can copy the text instead
// of writing the packets out again.
std::vector<Packet> read_packets(HttpRequest& request, std::size_t max_body, std::size_t max_packets,
                                 std::vector<TextSpan>* field_texts = nullptr);

// A body of any other type as one packet: field `data` = the bytes as a string, meta mimetype
// (`content_type`, application/octet-stream when empty), contentlength and, when given,
// filename. Also `sluice run --content-type`.
Packet raw_packet(std::string body, std::string_view content_type, std::string_view filename = {});

// Inflates a gzip or zlib stream (concatenated gzip members too). Throws RequestError: 413
// when the result would pass `limit` bytes, 400 when the data is corrupt. `on_inflated` sees
// each inflated piece as it comes, and may throw to stop there.
std::string inflate_body(std::string_view compressed, std::size_t limit,
                         const std::function<void(std::string_view)>& on_inflated = {});

// The `filename` parameter of a Content-Disposition value (`filename*=UTF-8''…` preferred);
// "" when absent.
std::string content_disposition_filename(std::string_view value);

}  // namespace sluice
