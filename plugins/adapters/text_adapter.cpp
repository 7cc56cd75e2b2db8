#include "text_adapter.hpp"

#include <utility>

namespace sluice::adapters {

ComponentDescriptor TextAdapter::descriptor() {
  return adapter_descriptor("text_adapter", "Turns plain text into one packet per line, or one "
                                            "packet for the whole text",
                            {"text/plain"},
                            {{.name = "mode",
                              .type = ParamType::string,
                              .description = "lines: one packet per line; whole: one packet",
                              .default_value = "lines",
                              .allowed = {"lines", "whole"}},
                             {.name = "into",
                              .type = ParamType::string,
                              .description = "field that receives the text",
                              .default_value = "text"},
                             {.name = "skip_empty",
                              .type = ParamType::boolean,
                              .description = "with mode lines: skip lines that are empty or "
                                             "only whitespace",
                              .default_value = true}},
                            ComponentExample{.description = "A packet per line of a text, blank lines skipped",
                                             .params = "into: line",
                                             .input = R"(first line

second line
)",
                                            .content_type = "text/plain",
                                            .output = R"({"line": "first line"}
{"line": "second line"})"});
}

TextAdapter::TextAdapter(const Params& params)
    : Adapter(params),
      lines_(params.get_string("mode") == "lines"),
      skip_empty_(params.get_bool("skip_empty")),
      into_(params.get_string("into")) {}

std::vector<Packet> TextAdapter::convert(std::string_view text) {
  std::vector<Packet> children;
  auto add = [&](std::string_view piece) {
    Packet child;
    child.set(into_, piece);
    children.push_back(std::move(child));
  };
  if (!lines_) {
    add(text);
    return children;
  }
  // A line ends at LF, CRLF, or a lone CR (classic Mac OS files, some exports).
  while (!text.empty()) {
    const std::size_t end = text.find_first_of("\r\n");
    const std::string_view piece = text.substr(0, end);
    const std::size_t ending = end == std::string_view::npos  ? 0
                               : text.substr(end, 2) == "\r\n" ? 2
                                                               : 1;
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + ending);
    if (skip_empty_ && piece.find_first_not_of(" \t\f\v") == std::string_view::npos) continue;
    add(piece);
  }
  return children;
}

}  // namespace sluice::adapters
