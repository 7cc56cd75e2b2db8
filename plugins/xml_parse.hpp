// Parsing XML with pugixml for the packages that read it (adapters, documents).
#pragma once

#include <pugixml.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sluice::plugins {

// Parses `text` into `document` (pugixml reads the encoding the XML declares); throws
// "<what> line N: <reason>" when it is not well-formed.
inline void load_xml(pugi::xml_document& document, std::string_view text, std::string_view what) {
  const auto parsed = document.load_buffer(text.data(), text.size(), pugi::parse_default);
  if (!parsed) {
    // Report the line, which people can find, rather than the byte offset.
    const auto offset = static_cast<std::size_t>(parsed.offset);
    const auto line = 1 + std::count(text.begin(), text.begin() + std::min(offset, text.size()), '\n');
    throw std::runtime_error(std::string(what) + " line " + std::to_string(line) + ": " + parsed.description());
  }
}

}  // namespace sluice::plugins
