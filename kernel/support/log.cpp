#include "support/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>

#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <sluice/json.hpp>

namespace sluice::log {
namespace {

// 2026-12-01T14:02:03.123Z, as the text format's pattern writes it.
std::string utc_time(spdlog::log_clock::time_point when) {
  const std::time_t seconds = spdlog::log_clock::to_time_t(when);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  const std::size_t size = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + size, sizeof text - size, ".%03dZ", static_cast<int>(millis));
  return text;
}

// One JSON object per line; the message escaped by the SDK's writer.
class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& out) override {
    Object line;
    line.set("time", Value(utc_time(message.time)));
    const auto level = spdlog::level::to_string_view(message.level);
    line.set("level", Value(std::string_view(level.data(), level.size())));
    line.set("message", Value(std::string_view(message.payload.data(), message.payload.size())));
    const std::string text = json::to_string(Value(std::move(line))) + "\n";
    out.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonLineFormatter>(); }
};

std::shared_ptr<spdlog::logger> make_logger() {
  auto logger = std::make_shared<spdlog::logger>("sluice", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_formatter(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v",
                                                                    spdlog::pattern_time_type::utc));
  logger->set_level(spdlog::level::info);
  logger->flush_on(spdlog::level::trace);  // stderr is unbuffered anyway: every line at once
  return logger;
}

std::shared_ptr<spdlog::logger>& instance() {
  static std::shared_ptr<spdlog::logger> logger = make_logger();
  return logger;
}

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
