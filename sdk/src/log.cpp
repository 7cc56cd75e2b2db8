#include "sluice/log.hpp"

#include <unistd.h>

#include <atomic>

#include "sluice/log_sink.hpp"

namespace sluice {

namespace {

// Shared by the kernel and every plugin: libsluice-sdk is one shared library in the process.
std::atomic<LogSink> installed_sink{nullptr};
std::atomic<LogFilter> installed_filter{nullptr};

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "info";
}

void write_to_stderr(LogLevel level, std::string_view node_path, std::string_view message) {
  std::string line = level_name(level);
  line += ' ';
  line += node_path;
  line += ": ";
  line += message;
  line += '\n';
  for (std::string_view rest = line; !rest.empty();) {
    const ssize_t n = ::write(STDERR_FILENO, rest.data(), rest.size());
    if (n <= 0) return;  // nowhere else to say it
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

void NodeLog::write(LogLevel level, std::string_view message) const {
  if (!enabled(level)) return;
  const LogSink sink = installed_sink.load(std::memory_order_acquire);
  (sink ? sink : write_to_stderr)(level, node_path_, message);
}

bool NodeLog::enabled(LogLevel level) const {
  const LogFilter filter = installed_filter.load(std::memory_order_acquire);
  return filter ? filter(level) : level != LogLevel::debug;
}

void set_log_sink(LogSink sink, LogFilter filter) {
  installed_sink.store(sink, std::memory_order_release);
  installed_filter.store(filter, std::memory_order_release);
}

}  // namespace sluice
