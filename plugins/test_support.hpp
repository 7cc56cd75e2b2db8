// Small fixtures for the package tests: a scratch directory and a stderr capture.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

// A fresh directory under $TMPDIR, removed with everything in it at scope exit.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sluice-test-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    lines.push_back(text.substr(start, end - start));
  if (start < text.size()) lines.push_back(text.substr(start));  // an unterminated last line
  return lines;
}

// Redirects fd 2 into a temporary file for its lifetime; text() reads what was written.
class StderrCapture {
 public:
  StderrCapture() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sluice-stderr-XXXXXX").string();
    file_fd_ = ::mkstemp(pattern.data());
    if (file_fd_ < 0) throw std::runtime_error("mkstemp failed");
    path_ = pattern;
    saved_fd_ = ::dup(STDERR_FILENO);
    ::dup2(file_fd_, STDERR_FILENO);
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;
  ~StderrCapture() {
    ::dup2(saved_fd_, STDERR_FILENO);
    ::close(saved_fd_);
    ::close(file_fd_);
    ::unlink(path_.c_str());
  }
  std::string text() const { return read_file(path_); }

 private:
  std::string path_;
  int file_fd_ = -1;
  int saved_fd_ = -1;
};
