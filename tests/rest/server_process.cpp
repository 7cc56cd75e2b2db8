#include "server_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace rest_test {

namespace fs = std::filesystem;

ServerProcess::ServerProcess(const TempDir& dir, std::vector<std::string> extra_args, Until until) {
  stderr_file_ = dir.path / "server.stderr";
  std::vector<std::string> args = {SLUICE_EXE, "serve", "--listen", "127.0.0.1:0",
                                   "--graphs", (dir.path / "graphs").string()};
  auto given = [&](const char* option) {
    return std::find(extra_args.begin(), extra_args.end(), option) != extra_args.end();
  };
  if (!given("--plugins")) args.insert(args.end(), {"--plugins", REST_FIXTURE_PLUGIN_DIR});
  if (!given("--workers")) args.insert(args.end(), {"--workers", "2"});
  args.insert(args.end(), extra_args.begin(), extra_args.end());

  // Everything the child needs is prepared before fork(): after it only exec-safe calls.
  std::vector<std::string> environment;
  for (char** e = environ; *e; ++e) {
    const std::string_view entry(*e);
    if (entry.starts_with("SLUICE_PLUGIN_PATH=") || entry.starts_with("XDG_CACHE_HOME=")) continue;
    environment.emplace_back(entry);
  }
  environment.push_back("XDG_CACHE_HOME=" + (dir.path / "cache").string());
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : environment) envp.push_back(e.data());
  envp.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const int err_fd = ::open(stderr_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  ::close(err_fd);
  stdout_fd_ = pipe_fds[0];
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));

  const std::regex listening(until == Until::listening ? R"(listening on http://127\.0\.0\.1:(\d+))"
                                                       : R"(port open at http://127\.0\.0\.1:(\d+))");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::smatch match;
  while (!std::regex_search(stdout_, match, listening)) {
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error("the server did not say where it listens; stderr:\n" + stderr_text());
    read_stdout(deadline);
  }
  port_ = static_cast<std::uint16_t>(std::stoi(match[1].str()));
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

void ServerProcess::read_stdout(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  pollfd p{stdout_fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0))) <= 0) return;
  char chunk[4096];
  const ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
  if (n > 0) {
    stdout_.append(chunk, static_cast<std::size_t>(n));
  } else if (n == 0) {
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("the server exited early (status " + std::to_string(status) + "); stderr:\n" +
                               stderr_text());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // EOF while it still runs
  }
}

int ServerProcess::stop(int signal, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) throw std::logic_error("ServerProcess::stop: not running");
  ::kill(pid_, signal);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error("the server did not exit within the timeout after signal " + std::to_string(signal));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
  // Collect what it printed while stopping.
  char chunk[4096];
  ssize_t n;
  while ((n = ::read(stdout_fd_, chunk, sizeof chunk)) > 0) stdout_.append(chunk, static_cast<std::size_t>(n));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string ServerProcess::stdout_text() {
  if (pid_ > 0) read_stdout(std::chrono::steady_clock::now());
  return stdout_;
}

bool ServerProcess::wait_for_stdout(std::string_view text, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (stdout_.find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() >= deadline || pid_ <= 0) return false;
    read_stdout(deadline);
  }
  return true;
}

std::string ServerProcess::stderr_text() const { return read_file(stderr_file_); }

}  // namespace rest_test
