// A number of bytes as people write it: 1048576, 64KiB, 16MiB, 2 G. The units are K, KB, KiB,
// M, MB, MiB, G, GB, GiB in any case, all powers of 1024, with or without a space before them.
// The command line's size options and a graph's capacity_bytes both read sizes with it, so the
// two syntaxes cannot drift apart.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace sluice {

// nullopt when `text` is not such a size or it does not fit a size_t; 0 is a size (callers that
// need at least 1 say so).
std::optional<std::size_t> parse_byte_size(std::string_view text);

}  // namespace sluice
