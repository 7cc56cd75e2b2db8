// Points in time as the REST API and the log write them: ISO 8601 in UTC with milliseconds.
#pragma once

#include <chrono>
#include <string>

namespace sluice {

// 2026-11-26T02:22:20.123Z.
std::string iso8601(std::chrono::system_clock::time_point when);

}  // namespace sluice
