// The kernel's log: levels, UTC timestamps, one write per line on stderr, as text or as JSON
// lines (spdlog underneath).
//
//   log::configure("info", log::Format::json);          // once, before threads start
//   log::info("deployed graph '{}' from its file", name);
//   log::error("{}: run() threw: {}", node_path, e.what());
//
// Text:  2026-12-01T14:02:03.123Z info  deployed graph 'default' from its file
// JSON:  {"time":"2026-12-01T14:02:03.123Z","level":"info","message":"deployed graph …"}
//
// Lines from several threads never interleave: each is formatted whole and written with one
// write under the sink's lock. Command output meant for a person at a terminal (`sluice check`
// errors, `sluice plugins` listings, usage) is not logging and goes to stdout/stderr directly.
#pragma once

#include <string_view>
#include <utility>

#include <spdlog/logger.h>

namespace sluice::log {

enum class Format { text, json };

inline constexpr std::string_view level_names = "trace, debug, info, warn, error, off";

// Throws std::invalid_argument naming the level when it is none of level_names.
void configure(std::string_view level, Format format);
spdlog::logger& logger();

template <typename... Args>
void debug(spdlog::format_string_t<Args...> format, Args&&... args) {
  logger().debug(format, std::forward<Args>(args)...);
}
template <typename... Args>
void info(spdlog::format_string_t<Args...> format, Args&&... args) {
  logger().info(format, std::forward<Args>(args)...);
}
template <typename... Args>
void warn(spdlog::format_string_t<Args...> format, Args&&... args) {
  logger().warn(format, std::forward<Args>(args)...);
}
template <typename... Args>
void error(spdlog::format_string_t<Args...> format, Args&&... args) {
  logger().error(format, std::forward<Args>(args)...);
}

}  // namespace sluice::log
