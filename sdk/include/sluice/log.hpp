// sluice/log.hpp — a component's lines in the server's log, each naming its node.
//
//   ctx.log().warn("cannot connect to " + address + ", retrying");   // in run() or produce()
//   emit.log().info("rotated " + path);                              // in process() or flush()
//
//   2026-12-01T14:02:03.123Z warn  enrich/lookup: cannot connect to db:5432, retrying
//
// In a kernel (`sluice serve`, `run`, `host`) a line goes to the kernel's log: its level filter
// (--log-level), UTC timestamps, text or JSON lines (--log-format json), one write per line, so
// lines of several nodes and threads never interleave. Elsewhere (a component's own tests)
// each line goes to stderr as "LEVEL NODE: message", also with one write.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace sluice {

enum class LogLevel { debug, info, warn, error };

class NodeLog {
 public:
  explicit NodeLog(std::string node_path) : node_path_(std::move(node_path)) {}

  void debug(std::string_view message) const { write(LogLevel::debug, message); }
  void info(std::string_view message) const { write(LogLevel::info, message); }
  void warn(std::string_view message) const { write(LogLevel::warn, message); }
  void error(std::string_view message) const { write(LogLevel::error, message); }
  void write(LogLevel level, std::string_view message) const;
  // False when the log drops lines of `level`: spares building a costly message.
  bool enabled(LogLevel level) const;

  const std::string& node_path() const { return node_path_; }

 private:
  std::string node_path_;  // "graph/node"
};

}  // namespace sluice
