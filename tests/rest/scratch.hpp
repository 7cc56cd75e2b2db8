// Scratch files for the tests that start real servers (REST, cluster): a temporary directory
// removed at the end, whole-file reads and writes, and waiting on a condition with a deadline.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace rest_test {

struct TempDir {
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path path;
};

void write_file(const std::filesystem::path& file, std::string_view text);
std::string read_file(const std::filesystem::path& file);

// Polls `condition` until it holds or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace rest_test
