#include "ndjson_adapter.hpp"

#include <utility>

#include <sluice/json.hpp>

namespace sluice::adapters {

ComponentDescriptor NdjsonAdapter::descriptor() {
  return adapter_descriptor("ndjson_adapter",
                            "Parses newline-delimited JSON (one packet per non-blank line) and "
                            "JSON text sequences (RFC 7464: one per record)",
                            {"application/x-ndjson", "application/jsonl", "application/json-seq"},
                            {},
                            ComponentExample{.description = "Reads JSON lines, a packet per line",
                                             .input = R"({"name": "Ada"}
{"name": "Alan"}
)",
                                             .content_type = "application/x-ndjson",
                                             .output = R"({"name": "Ada"}
{"name": "Alan"})"});
}

std::vector<Packet> NdjsonAdapter::convert(std::string_view text) {
  std::vector<Packet> children;
  // RFC 7464 (application/json-seq): every record begins with RS (0x1E) and holds one JSON
  // text, which may span lines. NDJSON never holds an RS, so the first byte tells them apart.
  constexpr char record_separator = '\x1e';
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == record_separator) {
    for (std::size_t start = first; start != std::string_view::npos;) {
      const std::size_t end = text.find(record_separator, start + 1);
      const std::string_view record =
          text.substr(start + 1, end == std::string_view::npos ? end : end - start - 1);
      start = end;
      if (record.find_first_not_of(" \t\r\n") == std::string_view::npos) continue;  // RS RS
      children.push_back(plugins::object_packet(json::parse(record), "record " + std::to_string(children.size() + 1)));
    }
    return children;
  }
  json::for_each_ndjson(text, [&](Value&& record, std::size_t line) {
    children.push_back(plugins::object_packet(std::move(record), "line " + std::to_string(line)));
  });
  return children;
}

}  // namespace sluice::adapters
