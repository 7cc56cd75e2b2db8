// POST bodies → packets (gzip, NDJSON, JSON, sniffed), the first byte choosing the
// Content-Type and Content-Encoding: packets within the limits, or a RequestError. The line
// read_packets tells for each NDJSON packet (what the write-ahead log copies) parses back to
// that very packet.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/json.hpp>

#include "ingress/request_body.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const char* const types[] = {"application/json", "application/x-ndjson", "", "text/csv", "application/json; charset=utf-8"};
  static const char* const encodings[] = {"", "gzip", "deflate", "identity"};
  sluice::HttpRequest request;
  request.method = "POST";
  request.path = "/v1/graphs/g/packets";
  if (const char* type = types[data[0] % 5]; *type) request.headers.emplace_back("content-type", type);
  if (const char* encoding = encodings[(data[0] / 5) % 4]; *encoding) request.headers.emplace_back("content-encoding", encoding);
  request.body.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    std::vector<sluice::TextSpan> texts;
    const auto packets = sluice::read_packets(request, 1 << 20, 1000, &texts);
    if (packets.size() > 1000) __builtin_trap();
    if (!texts.empty() && texts.size() != packets.size()) __builtin_trap();
    for (std::size_t i = 0; i < texts.size(); ++i) {
      const std::string_view text = std::string_view(request.body).substr(texts[i].offset, texts[i].length);
      if (text.find('\n') != std::string_view::npos) __builtin_trap();  // it goes into one log line
      if (sluice::json::to_packet(sluice::json::parse(text)) != packets[i]) __builtin_trap();
    }
  } catch (const sluice::RequestError&) {
  }
  return 0;
}
