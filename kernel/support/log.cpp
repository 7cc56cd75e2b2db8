#include "support/log.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>

#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <sluice/json.hpp>
#include <sluice/log_sink.hpp>

#include "support/timestamps.hpp"

namespace sluice::log {
namespace {

// The names --log-level takes, also in the lines (spdlog's own says "warning" for warn).
std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

// 2026-12-01T14:02:03.123Z warn  message
class TextLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& out) override {
    std::string line = iso8601(message.time);
    line += ' ';
    line += level_name(message.level);
    line.resize(std::max(line.size() + 1, std::size_t{24 + 1 + 5 + 1}), ' ');  // the level in 5 columns
    line.append(message.payload.data(), message.payload.size());
    line += '\n';
    out.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<TextLineFormatter>(); }
};

// One JSON object per line; the message escaped by the SDK's writer.
class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& out) override {
    Object line;
    line.set("time", Value(iso8601(message.time)));
    line.set("level", Value(level_name(message.level)));
    line.set("message", Value(std::string_view(message.payload.data(), message.payload.size())));
    const std::string text = json::to_string(Value(std::move(line))) + "\n";
    out.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonLineFormatter>(); }
};

std::shared_ptr<spdlog::logger> make_logger() {
  auto logger = std::make_shared<spdlog::logger>("sluice", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_formatter(std::make_unique<TextLineFormatter>());
  logger->set_level(spdlog::level::info);
  logger->flush_on(spdlog::level::trace);  // stderr is unbuffered anyway: every line at once
  return logger;
}

std::shared_ptr<spdlog::logger>& instance() {
  static std::shared_ptr<spdlog::logger> logger = make_logger();
  return logger;
}

spdlog::level::level_enum spdlog_level(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return spdlog::level::debug;
    case LogLevel::info: return spdlog::level::info;
    case LogLevel::warn: return spdlog::level::warn;
    case LogLevel::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

// Components' lines (NodeLog) join this log, with its levels, timestamps and format.
void write_node_line(LogLevel level, std::string_view node_path, std::string_view message) {
  instance()->log(spdlog_level(level), "{}: {}", node_path, message);
}
bool node_level_enabled(LogLevel level) { return instance()->should_log(spdlog_level(level)); }

// In every program built on the kernel, before main(): the SDK's pointers are constant
// initialised, so they can be set from here.
const bool node_lines_joined = (set_log_sink(write_node_line, node_level_enabled), true);

}  // namespace

void configure(std::string_view level, Format format) {
  const auto parsed = spdlog::level::from_str(std::string(level));
  // from_str answers `off` for any name it does not know.
  if (parsed == spdlog::level::off && level != "off")
    throw std::invalid_argument("unknown log level '" + std::string(level) + "' (" + std::string(level_names) + ")");
  spdlog::logger& log = *instance();
  log.set_level(parsed);
  if (format == Format::json) log.set_formatter(std::make_unique<JsonLineFormatter>());
}

spdlog::logger& logger() { return *instance(); }

}  // namespace sluice::log
