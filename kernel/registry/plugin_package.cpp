#include "registry/plugin_package.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <system_error>

#include <boost/dll/library_info.hpp>
#include <sluice/plugin.hpp>

namespace sluice {

namespace fs = std::filesystem;

namespace {

bool has_elf_magic(const fs::path& image) {
  std::ifstream in(image, std::ios::binary);
  char magic[4] = {};
  in.read(magic, sizeof magic);
  return in.gcount() == sizeof magic && std::memcmp(magic, "\x7f" "ELF", sizeof magic) == 0;
}

// dlerror() names the file that was opened, i.e. the private copy; the user knows their file.
std::string with_user_path(std::string text, const fs::path& image, const fs::path& path) {
  const std::string from = image.string();
  const std::string to = path.string();
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::shared_ptr<PluginPackage> load(const fs::path& path, const fs::path& image, std::string& error) {
  if (!has_elf_magic(image)) {
    error = "not a shared library (no ELF header)";
    return nullptr;
  }
  // Look for the export before dlopen: a library that is not a plugin never gets to run its
  // static constructors in the kernel.
  std::vector<std::string> aliases;
  try {
    aliases = boost::dll::library_info(image).symbols("boostdll");
  } catch (const std::exception& e) {
    error = std::string("not a readable shared library: ") + e.what();
    return nullptr;
  }
  if (std::find(aliases.begin(), aliases.end(), plugin_export_symbol) == aliases.end()) {
    error = "not a sluice plugin: it exports no 'sluice_plugin' alias (SLUICE_PLUGIN from "
            "<sluice/plugin.hpp> adds it)";
    return nullptr;
  }

  auto package = std::make_shared<PluginPackage>();
  package->path = path;
  package->image = image;
  boost::dll::fs::error_code ec;
  package->library.load(image, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local,
                        ec);
  if (ec) {
    // Boost.DLL keeps dlerror() unread on this path; it holds the loader's own words
    // ("undefined symbol: …"), far more useful than the error_code's.
    const char* text = ::dlerror();
    error = "cannot be loaded: " + with_user_path(text ? text : ec.message(), image, path);
    return nullptr;
  }

  const auto& exported = package->library.get_alias<const PluginExport>(plugin_export_symbol);
  if (exported.abi_version != sdk_abi_version) {
    error = "built for SDK ABI version " + std::to_string(exported.abi_version) +
            ", but this kernel uses SDK ABI version " + std::to_string(sdk_abi_version) +
            "; rebuild it against this sluice SDK";
    return nullptr;
  }
  if (!exported.name || !exported.version || !exported.description || !exported.components) {
    error = "its PluginExport is incomplete (name, version, description and components are "
            "required; use SLUICE_PLUGIN)";
    return nullptr;
  }
  package->name = exported.name;
  package->version = exported.version;
  package->description = exported.description;

  std::string failure;
  if (!exported.components(package->components, failure)) {
    error = "components() failed: " + (failure.empty() ? std::string("no reason given") : failure);
    return nullptr;
  }
  if (package->components.empty()) {
    error = "package '" + package->name + "' declares no components";
    return nullptr;
  }
  std::vector<std::string> problems;
  std::set<std::string> names;
  for (auto& descriptor : package->components) {
    apply_port_defaults(descriptor);
    for (auto& problem : check_descriptor(descriptor)) problems.push_back(std::move(problem));
    if (!names.insert(descriptor.name).second)
      problems.push_back("component '" + descriptor.name + "' is declared twice");
  }
  if (!problems.empty()) {
    error = "invalid descriptor: " + join(problems, "; ");
    return nullptr;
  }
  return package;
}

std::string errno_text(int error) { return std::generic_category().message(error); }

}  // namespace

std::shared_ptr<PluginPackage> load_plugin_package(const fs::path& path, const fs::path& image,
                                                   std::string& error) {
  try {
    return load(path, image, error);
  } catch (const std::exception& e) {
    error = std::string("cannot be loaded: ") + e.what();
  }
  return nullptr;
}

std::optional<std::string> probe_plugin_package(const fs::path& path, const fs::path& image,
                                                std::chrono::milliseconds timeout) {
  // The child reports "finished" through this pipe rather than its exit status: a package that
  // calls exit(0) in a static constructor would otherwise pass.
  int done[2];
  if (::pipe2(done, O_CLOEXEC) != 0)
    return "cannot be probed (pipe: " + errno_text(errno) + ")";
  // Output still buffered in stdio would be written a second time by a child that exit()s.
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int fork_error = errno;
    ::close(done[0]);
    ::close(done[1]);
    return "cannot be probed (fork: " + errno_text(fork_error) + ")";
  }
  if (pid == 0) {
    ::close(done[0]);
    // The kernel may block signals or catch SIGSEGV; the child must die of them instead.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int signal = 1; signal < NSIG; ++signal) std::signal(signal, SIG_DFL);
    itimerval limit{};
    limit.it_value.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    limit.it_value.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
    ::setitimer(ITIMER_REAL, &limit, nullptr);  // SIGALRM's default action ends the child
    {
      std::string error;
      auto package = load_plugin_package(path, image, error);
    }  // unloads: static destructors are probed too
    const char finished = 1;
    [[maybe_unused]] const ssize_t n = ::write(done[1], &finished, 1);
    ::_exit(0);  // no atexit handlers or static destructors of the kernel in the child
  }
  ::close(done[1]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      const int wait_error = errno;
      ::close(done[0]);
      return "cannot be probed (waitpid: " + errno_text(wait_error) + ")";
    }
  }
  char finished = 0;
  ssize_t got;
  do {
    got = ::read(done[0], &finished, 1);
  } while (got < 0 && errno == EINTR);
  ::close(done[0]);
  if (got == 1) return std::nullopt;
  if (WIFSIGNALED(status)) {
    const int signal = WTERMSIG(status);
    if (signal == SIGALRM)
      return "did not finish loading within " + std::to_string(timeout.count()) +
             " ms (a static constructor or components() hangs)";
    const char* description = ::sigdescr_np(signal);
    return "crashed while loading (signal " + std::to_string(signal) + ")" +
           (description ? std::string(": ") + description : std::string());
  }
  return "exited with status " + std::to_string(WEXITSTATUS(status)) + " while loading";
}

}  // namespace sluice
