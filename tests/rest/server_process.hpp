// The real `sluice serve` as a child process for the REST tests.
//
//   TempDir dir;
//   write_file(dir.path / "graphs/echo.yaml", echo_graph);
//   ServerProcess server(dir, {"--max-body", "1000"});   // port 0, fixture plugins, 2 workers
//   http(server.port(), "GET", "/healthz");
//   CHECK(server.stop() == 0);                            // SIGTERM, waits for the exit
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "scratch.hpp"

namespace rest_test {

class ServerProcess {
 public:
  // What the constructor waits for: the port open (the plugins and graphs still loading), or
  // the server listening with its graphs deployed.
  enum class Until { port_open, listening };
  // Serves `dir`/graphs on 127.0.0.1 port 0 with the fixture plugins and 2 workers, unless
  // `extra_args` give --plugins or --workers; the plugin cache and the server's stderr are
  // kept in `dir`.
  ServerProcess(const TempDir& dir, std::vector<std::string> extra_args = {}, Until until = Until::listening);
  ~ServerProcess();  // SIGKILL when still running
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Sends `signal` and waits (up to `timeout`) for the exit; returns the exit status, or
  // 128 + the signal that killed it. Throws when it does not exit in time.
  int stop(int signal = SIGTERM, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  std::string stdout_text();  // everything printed so far
  // Whether stdout says `text` within `timeout`.
  bool wait_for_stdout(std::string_view text, std::chrono::milliseconds timeout);
  std::string stderr_text() const;

 private:
  void read_stdout(std::chrono::steady_clock::time_point deadline);

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string stdout_;
  std::filesystem::path stderr_file_;
  std::uint16_t port_ = 0;
};

}  // namespace rest_test
