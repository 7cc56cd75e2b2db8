// What the durable-ingest tests share: a graph that appends every packet to a JSON-lines file,
// counting what that file holds, and waiting for a server to be ready.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include <sluice/json.hpp>

#include "http_client.hpp"
#include "scratch.hpp"
#include "server_process.hpp"

namespace rest_test {

// Graph `ingest`: one jsonl_file node writing each packet's fields to `output` (inside the
// server's data root, var/data/ beside the graphs).
inline std::string sink_graph(const std::filesystem::path& output) {
  return "name: ingest\n"
         "description: appends every packet posted to a JSON-lines file\n"
         "nodes:\n"
         "  out: { component: jsonl_file, params: { path: " +
         output.string() + " } }\n";
}

// How often each key appears in the sink's file. A line the kill cut inside its write(2) is
// dropped by the sink when the next server reopens the file (AppendFile::drop_torn_tail); one
// that got through would be counted in `damaged` rather than fail the parse.
inline std::map<std::string, int> count_keys(const std::filesystem::path& output, std::size_t* damaged = nullptr) {
  std::map<std::string, int> seen;
  const std::string text = read_file(output);
  std::size_t begin = 0, end;
  while ((end = text.find('\n', begin)) != std::string::npos) {  // a line still being written has no '\n' yet
    const std::string_view line = std::string_view(text).substr(begin, end - begin);
    begin = end + 1;
    try {
      ++seen[sluice::json::parse(line).as_object().find("key")->as_string()];
    } catch (const std::exception&) {
      if (damaged) ++*damaged;
    }
  }
  return seen;
}

inline bool ready(const ServerProcess& server) {
  try {
    return http(server.port(), "GET", "/readyz").status == 200;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace rest_test
