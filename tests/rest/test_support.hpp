// Shared by the REST test files: the client, the server process, graphs made of the fixture
// components (tests/rest/fixture_plugin).
#pragma once

#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <sys/types.h>

#include <sluice/json.hpp>

#include "http_client.hpp"
#include "server_process.hpp"

namespace rest_test {

// pass (copies meta into field `meta`) → collect (hands results back)
inline const std::string echo_graph = R"(name: echo
description: marks packets and hands them back
nodes:
  pass: { component: rest_pass }
  out: { component: rest_collect }
pipeline: [pass, out]
)";

// A slow step in the middle: timeouts, overload, draining.
inline std::string slow_graph(const std::string& name, int ms) {
  return "name: " + name + "\nnodes:\n  slow: { component: rest_slow, params: { ms: " + std::to_string(ms) +
         " } }\n  out: { component: rest_collect }\npipeline: [slow, out]\n";
}

// Packets with fail: true throw in `check` and become dead letters.
inline const std::string failing_graph = R"(name: failing
nodes:
  check: { component: rest_fail }
  out: { component: rest_collect }
pipeline: [check, out]
)";

inline const Headers json_type = {{"Content-Type", "application/json"}};

// GET /v1/streams/{id}'s status ("pending", "done", "failed"), or "" when it is not found.
inline std::string stream_status(std::uint16_t port, const std::string& stream) {
  const auto r = http(port, "GET", "/v1/streams/" + stream);
  if (r.status != 200) return "";
  const sluice::Value document = r.json();
  const sluice::Value* status = document.get("status");
  return status && status->is_string() ? status->as_string() : "";
}

// A memory figure of a process from /proc/PID/status, in bytes: "VmRSS" (resident now) or
// "VmHWM" (its peak).
inline std::size_t process_memory_bytes(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1)) * 1024;
  return 0;
}

}  // namespace rest_test
