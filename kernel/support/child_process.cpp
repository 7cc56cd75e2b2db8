#include "support/child_process.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <system_error>
#include <thread>

extern char** environ;

namespace sluice {

ChildProcess::ChildProcess(const std::vector<std::string>& args,
                           const std::vector<std::pair<int, int>>& descriptors) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  int highest = STDERR_FILENO;
  for (const auto& [ours, theirs] : descriptors) {
    posix_spawn_file_actions_adddup2(&actions, ours, theirs);
    highest = std::max(highest, theirs);
  }
  posix_spawn_file_actions_addclosefrom_np(&actions, highest + 1);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int error = ::posix_spawn(&pid, args.at(0).c_str(), &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) throw std::system_error(error, std::generic_category(), "cannot run " + args.at(0));
  pid_ = pid;
}

ChildProcess::~ChildProcess() {
  if (!running()) return;
  kill();
  wait();
}

void ChildProcess::kill() {
  if (running()) ::kill(pid_, SIGKILL);
}

int ChildProcess::wait() {
  if (!running()) return status_;
  while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return status_;
}

bool ChildProcess::wait_for(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (running()) {
    const pid_t ended = ::waitpid(pid_, &status_, WNOHANG);
    if (ended == pid_ || (ended < 0 && errno != EINTR)) pid_ = -1;
    else if (std::chrono::steady_clock::now() >= deadline) return false;
    else std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (!WIFSIGNALED(status)) return "ended (status " + std::to_string(status) + ")";
  const int signal = WTERMSIG(status);
  const char* name = ::sigabbrev_np(signal);
  const char* description = ::sigdescr_np(signal);
  return "was killed by signal " + (name ? "SIG" + std::string(name) : std::to_string(signal)) +
         (description ? std::string(" (") + description + ")" : std::string());
}

}  // namespace sluice
