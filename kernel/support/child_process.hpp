// ChildProcess — a helper process of the kernel (a plugin probe, a component host), always
// started by exec (posix_spawn), never as a fork of the multi-threaded kernel: POSIX allows a
// forked child of a threaded process only async-signal-safe calls, and helpers load plugins.
//
//   ChildProcess child({"/proc/self/exe", "plugins", "probe", …}, {{pipe_end, STDOUT_FILENO}});
//   …
//   const int status = child.wait();            // waitpid's status
//   log(describe_exit(status));                  // "was killed by signal SIGSEGV (Segmentation fault)"
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace sluice {

class ChildProcess {
 public:
  // Runs args[0] with `args`. `descriptors` maps a descriptor of the caller's to the number it
  // gets in the child; the child has those and its standard ones (which it shares with the
  // kernel unless mapped), no other descriptor of the kernel's (its listening socket, its
  // log), and every signal unblocked and at its default action (the kernel blocks SIGTERM
  // for sigwait, and masks are inherited). Throws std::system_error naming args[0].
  ChildProcess(const std::vector<std::string>& args, const std::vector<std::pair<int, int>>& descriptors);
  ~ChildProcess();  // kills and reaps a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  void kill();  // SIGKILL; wait() reaps it
  // Waits for the child to end and returns its waitpid status (repeatable: the first status).
  int wait();
  // Waits at most `limit` for the child to end; true once it has (and is reaped).
  bool wait_for(std::chrono::milliseconds limit);

 private:
  int pid_ = -1;
  int status_ = 0;
};

// How a child ended, as the end of a sentence: "exited with status 3", "was killed by signal
// SIGSEGV (Segmentation fault)".
std::string describe_exit(int status);

}  // namespace sluice
