// Where a JSON text simdjson refused is wrong, and why: the line, column and byte offset of
// ParseError. Private to the SDK; runs only on the error path.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <string_view>

namespace sluice::json {

// Throws ParseError for `text`, which simdjson refused with `code`; offsets and line are
// those of `text` within a larger input (an NDJSON line) when given.
[[noreturn]] void throw_parse_error(std::string_view text, simdjson::error_code code, std::size_t base_offset = 0,
                                    std::size_t base_line = 0);

}  // namespace sluice::json
