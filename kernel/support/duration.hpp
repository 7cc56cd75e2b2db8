// A length of time as people write it: "500ms", "5s", "1m", or a bare number of seconds
// ("2.5"). The command line's timeouts, the REST API's ?timeout= and a graph node's `timeout:`
// all read durations with it, so the three syntaxes cannot drift apart.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace sluice {

// nullopt when unreadable or negative.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace sluice
