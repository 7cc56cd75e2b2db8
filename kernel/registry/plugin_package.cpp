#include "registry/plugin_package.hpp"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <set>
#include <system_error>
#include <thread>

#include <sluice/plugin.hpp>

namespace sluice {

namespace fs = std::filesystem;

namespace {

template <class T>
bool read_at(std::string_view bytes, std::uint64_t offset, T& out) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return false;
  std::memcpy(&out, bytes.data() + offset, sizeof(T));
  return true;
}

// Whether the ELF shared library `bytes` defines `symbol` in its dynamic symbol table, the
// table dlsym() searches and `strip` keeps; "" or why the bytes are not such a library.
// Read by hand because Boost 1.74's library_info::symbols(section) reads only .symtab (gone
// after `strip`) and takes names from whichever string table comes last (often .shstrtab).
std::string find_dynamic_symbol(std::string_view bytes, std::string_view symbol, bool& found) {
  found = false;
  Elf64_Ehdr header;
  if (!read_at(bytes, 0, header) || std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0)
    return "not a shared library (no ELF header)";
  const unsigned char native_data = std::endian::native == std::endian::little ? ELFDATA2LSB
                                                                                : ELFDATA2MSB;
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != native_data)
    return "not a shared library for this machine (ELF class or byte order differs)";
  if (header.e_type != ET_DYN)
    return "not a shared library (ELF type " + std::to_string(header.e_type) + ")";
  if (header.e_shentsize != sizeof(Elf64_Shdr))
    return "truncated or corrupt ELF file (section headers)";
  for (std::uint64_t i = 0; i < header.e_shnum; ++i) {
    Elf64_Shdr table;
    if (!read_at(bytes, header.e_shoff + i * sizeof(Elf64_Shdr), table))
      return "truncated or corrupt ELF file (section headers)";
    if (table.sh_type != SHT_DYNSYM) continue;
    Elf64_Shdr names;
    if (!read_at(bytes, header.e_shoff + std::uint64_t{table.sh_link} * sizeof(Elf64_Shdr), names) ||
        names.sh_offset > bytes.size() || bytes.size() - names.sh_offset < names.sh_size)
      return "truncated or corrupt ELF file (dynamic symbol names)";
    const std::string_view text = bytes.substr(names.sh_offset, names.sh_size);
    for (std::uint64_t offset = 0; offset + sizeof(Elf64_Sym) <= table.sh_size;
         offset += sizeof(Elf64_Sym)) {
      Elf64_Sym entry;
      if (!read_at(bytes, table.sh_offset + offset, entry))
        return "truncated or corrupt ELF file (dynamic symbols)";
      if (entry.st_name >= text.size() || entry.st_shndx == SHN_UNDEF) continue;
      const std::string_view name = text.substr(entry.st_name);
      if (name.substr(0, name.find('\0')) == symbol) {
        found = true;
        return {};
      }
    }
  }
  return {};
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
  // Look for the export before dlopen: a library that is not a plugin never gets to run its
  // static constructors in the kernel.
  std::string bytes;
  {
    std::ifstream in(image, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    if (!in) {
      error = "cannot read its private copy " + image.string();
      return nullptr;
    }
    bytes = std::move(content).str();
  }
  bool exported_alias = false;
  if (std::string problem = find_dynamic_symbol(bytes, plugin_export_symbol, exported_alias);
      !problem.empty()) {
    error = std::move(problem);
    return nullptr;
  }
  if (!exported_alias) {
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

namespace {

constexpr std::string_view probe_finished = "loaded\n";

// "crashed while loading (signal 11): Segmentation fault"
std::string crashed_while_loading(int signal) {
  const char* description = ::sigdescr_np(signal);
  return "crashed while loading (signal " + std::to_string(signal) + ")" +
         (description ? std::string(": ") + description : std::string());
}

}  // namespace

PluginProbe::PluginProbe(const fs::path& program, const fs::path& path, const fs::path& image,
                         std::chrono::milliseconds timeout)
    : path_(path), timeout_(timeout), deadline_(std::chrono::steady_clock::now() + timeout) {
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0)
    throw std::system_error(errno, std::generic_category(), "cannot probe " + path.string());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, report[1], STDOUT_FILENO);
  // The kernel blocks SIGTERM/SIGINT for sigwait(), and the mask is inherited: unblock every
  // signal in the child, so that it dies of what it does, and of our SIGKILL/SIGALRM.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> args{program.string(), "plugins", "probe", "--image", image.string(),
                                "--timeout-ms", std::to_string(timeout.count()), path.string()};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int spawn_error = ::posix_spawn(&pid, program.c_str(), &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  ::close(report[1]);
  if (spawn_error != 0) {
    ::close(report[0]);
    throw std::system_error(spawn_error, std::generic_category(),
                            "cannot probe " + path.string() + " (running " + program.string() + ")");
  }
  pid_ = pid;
  report_fd_ = report[0];
}

PluginProbe::~PluginProbe() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  if (report_fd_ >= 0) ::close(report_fd_);
}

std::optional<std::string> PluginProbe::verdict() {
  // Read the report until the child closes its end (it exits) or the deadline passes.
  std::string report;
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd ready{report_fd_, POLLIN, 0};
    const int n = ::poll(&ready, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      timed_out = true;
      break;
    }
    char buffer[64];
    const ssize_t got = ::read(report_fd_, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    if (report.size() < 256) report.append(buffer, static_cast<std::size_t>(got));
  }
  if (timed_out) ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR)
      throw std::system_error(errno, std::generic_category(), "cannot probe " + path_.string());
  }
  pid_ = -1;
  // The report rather than the exit status: a package that calls exit(0) in a static
  // constructor would otherwise pass.
  if (report == probe_finished) return std::nullopt;
  if (timed_out || (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM))
    return "did not finish loading within " + std::to_string(timeout_.count()) +
           " ms (a static constructor or components() hangs)";
  if (WIFSIGNALED(status)) return crashed_while_loading(WTERMSIG(status));
  return "exited with status " + std::to_string(WEXITSTATUS(status)) + " while loading";
}

int run_plugin_probe(const fs::path& path, const fs::path& image, std::chrono::milliseconds timeout) {
  itimerval limit{};
  limit.it_value.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  limit.it_value.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
  ::setitimer(ITIMER_REAL, &limit, nullptr);  // SIGALRM's default action ends the child
  // Threads of our own while the package loads, as in the server.
  std::atomic<bool> loaded{false};
  std::vector<std::thread> others;
  for (int i = 0; i < 2; ++i)
    others.emplace_back([&loaded] {
      while (!loaded.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
  {
    std::string error;
    auto package = load_plugin_package(path, image, error);
  }  // unloads: static destructors are probed too
  loaded = true;
  for (auto& thread : others) thread.join();
  if (::write(STDOUT_FILENO, probe_finished.data(), probe_finished.size()) !=
      static_cast<ssize_t>(probe_finished.size()))
    return 1;
  ::_exit(0);  // no atexit handlers or static destructors of the kernel in the child
}

}  // namespace sluice
