#include "registry/plugin_package.hpp"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <optional>
#include <set>
#include <system_error>
#include <thread>

#include <sluice/descriptor_rules.hpp>
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
std::string find_dynamic_symbol(std::string_view bytes, std::string_view symbol, std::optional<Elf64_Sym>& found) {
  found.reset();
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
        found = entry;
        return {};
      }
    }
  }
  return {};
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

// The bytes a defined data symbol holds in the file (its section's contents), or nullopt when
// they are not in the file (.bss) or the file is cut short. The file is `find_dynamic_symbol`'s.
std::optional<std::string_view> symbol_contents(std::string_view bytes, const Elf64_Sym& symbol) {
  Elf64_Ehdr header;
  if (!read_at(bytes, 0, header)) return std::nullopt;
  for (std::uint64_t i = 0; i < header.e_shnum; ++i) {
    Elf64_Shdr section;
    if (!read_at(bytes, header.e_shoff + i * sizeof(Elf64_Shdr), section)) return std::nullopt;
    if (section.sh_type == SHT_NOBITS || symbol.st_value < section.sh_addr ||
        symbol.st_value - section.sh_addr >= section.sh_size)
      continue;
    const std::uint64_t offset = section.sh_offset + (symbol.st_value - section.sh_addr);
    if (offset > bytes.size() || bytes.size() - offset < symbol.st_size) return std::nullopt;
    return bytes.substr(offset, symbol.st_size);
  }
  return std::nullopt;
}

// Why a plugin of SDK ABI version `abi_version` (not the kernel's) is refused.
std::string other_sdk_abi(std::uint32_t abi_version) {
  return "built for SDK ABI version " + std::to_string(abi_version) +
         ", but this kernel uses SDK ABI version " + std::to_string(sdk_abi_version) +
         "; rebuild it against this sluice SDK";
}

// Why a plugin's AbiFingerprint (read from its file) does not match the kernel's, or "".
std::string fingerprint_mismatch(std::string_view stored) {
  AbiFingerprint theirs{};
  if (stored.size() < sizeof theirs.abi_version) return "its ABI fingerprint is cut short";
  std::memcpy(&theirs.abi_version, stored.data(), sizeof theirs.abi_version);
  if (theirs.abi_version != sdk_abi_version) return other_sdk_abi(theirs.abi_version);
  if (stored.size() != sizeof theirs) return "its ABI fingerprint has the wrong size";
  std::memcpy(&theirs, stored.data(), sizeof theirs);
  const AbiFingerprint& ours = abi_fingerprint;
  static constexpr const char* compilers[] = {"another compiler", "GCC", "Clang"};
  auto compiler = [](const AbiFingerprint& f) {
    return std::string(compilers[f.compiler < 3 ? f.compiler : 0]) + " " + std::to_string(f.compiler_major);
  };
  std::vector<std::string> differences;
  auto differ = [&](bool different, std::string what) {
    if (different) differences.push_back(std::move(what));
  };
  differ(theirs.compiler != ours.compiler || theirs.compiler_major != ours.compiler_major,
         "compiler " + compiler(theirs) + " (kernel: " + compiler(ours) + ")");
  differ(theirs.libstdcxx_release != ours.libstdcxx_release,
         "libstdc++ release " + std::to_string(theirs.libstdcxx_release) + " (kernel: " +
             std::to_string(ours.libstdcxx_release) + ")");
  differ(theirs.cxx11_string_abi != ours.cxx11_string_abi,
         "_GLIBCXX_USE_CXX11_ABI=" + std::to_string(theirs.cxx11_string_abi) + " (kernel: " +
             std::to_string(ours.cxx11_string_abi) + ")");
  differ(theirs.debug_containers != ours.debug_containers,
         std::string(theirs.debug_containers ? "with" : "without") + " _GLIBCXX_DEBUG (kernel: " +
             (ours.debug_containers ? "with" : "without") + ")");
  const std::pair<const char*, std::uint32_t AbiFingerprint::*> layouts[] = {
      {"sizeof(std::string)", &AbiFingerprint::sizeof_string},
      {"sizeof(std::vector)", &AbiFingerprint::sizeof_vector},
      {"sizeof(std::function)", &AbiFingerprint::sizeof_function},
      {"sizeof(Value)", &AbiFingerprint::sizeof_value},
      {"alignof(Value)", &AbiFingerprint::alignof_value},
      {"sizeof(Packet)", &AbiFingerprint::sizeof_packet},
      {"sizeof(ComponentDescriptor)", &AbiFingerprint::sizeof_descriptor}};
  for (const auto& [name, field] : layouts)
    differ(theirs.*field != ours.*field, std::string(name) + " " + std::to_string(theirs.*field) +
                                             " (kernel: " + std::to_string(ours.*field) + ")");
  if (differences.empty()) return {};
  return "built with another toolchain than this kernel: " + join(differences, ", ") +
         "; rebuild it with the kernel's compiler and standard-library settings (docs/first-component.md)";
}

// dlerror() names the file that was opened, i.e. the private copy; the user knows their file.
std::string with_user_path(std::string text, const fs::path& image, const fs::path& path) {
  const std::string from = image.string();
  const std::string to = path.string();
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

std::optional<std::string> read_image(const fs::path& image) {
  std::ifstream in(image, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (!in) return std::nullopt;
  return std::move(content).str();
}

// Whether the file `bytes` is a plugin for this kernel as far as can be told without running any of its
// code; false with `error` when it is not.
bool is_plugin_for_this_kernel(std::string_view bytes, std::string& error) {
  std::optional<Elf64_Sym> exported_alias;
  if (std::string problem = find_dynamic_symbol(bytes, plugin_export_symbol, exported_alias);
      !problem.empty()) {
    error = std::move(problem);
    return false;
  }
  if (!exported_alias) {
    error = "not a sluice plugin: it exports no 'sluice_plugin' alias (SLUICE_PLUGIN from "
            "<sluice/plugin.hpp> adds it)";
    return false;
  }
  // The toolchain facts, also before dlopen: a plugin built for another string ABI would fail
  // there with an undefined symbol that does not say why. Packages of older SDKs have none;
  // the version check of the export (read_export) refuses them.
  std::optional<Elf64_Sym> fingerprint;
  find_dynamic_symbol(bytes, plugin_fingerprint_symbol, fingerprint);
  if (fingerprint) {
    const auto stored = symbol_contents(bytes, *fingerprint);
    error = stored ? fingerprint_mismatch(*stored) : "its ABI fingerprint is not in the file";
    if (!error.empty()) return false;
  }
  return true;
}

// dlopen of the package's image; false with `error` when it fails.
bool open_library(PluginPackage& package, std::string& error) {
  boost::dll::fs::error_code ec;
  package.library.load(package.image, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local,
                       ec);
  if (ec) {
    // Boost.DLL keeps dlerror() unread on this path; it holds the loader's own words
    // ("undefined symbol: …"), far more useful than the error_code's.
    const char* text = ::dlerror();
    error = "cannot be loaded: " + with_user_path(text ? text : ec.message(), package.image, package.path);
    return false;
  }
  return true;
}

// The package's name, version, description and components from its PluginExport, the ABI version
// first; false with `error` when the export is not one this kernel can use.
bool read_export(PluginPackage& package, std::string& error) {
  const auto& exported = package.library.get_alias<const PluginExport>(plugin_export_symbol);
  if (exported.abi_version != sdk_abi_version) {
    error = other_sdk_abi(exported.abi_version);
    return false;
  }
  if (!exported.name || !exported.version || !exported.description || !exported.components) {
    error = "its PluginExport is incomplete (name, version, description and components are "
            "required; use SLUICE_PLUGIN)";
    return false;
  }
  package.name = exported.name;
  package.version = exported.version;
  package.description = exported.description;

  std::string failure;
  if (!exported.components(package.components, failure)) {
    error = "components() failed: " + (failure.empty() ? std::string("no reason given") : failure);
    return false;
  }
  if (package.components.empty()) {
    error = "package '" + package.name + "' declares no components";
    return false;
  }
  return true;
}

// Applies the port defaults to each descriptor and checks it; false with `error` naming every problem.
bool check_descriptors(std::vector<ComponentDescriptor>& components, std::string& error) {
  std::vector<std::string> problems;
  std::set<std::string> names;
  for (auto& descriptor : components) {
    apply_port_defaults(descriptor);
    for (auto& problem : check_descriptor(descriptor)) problems.push_back(std::move(problem));
    if (!names.insert(descriptor.name).second)
      problems.push_back("component '" + descriptor.name + "' is declared twice");
  }
  if (!problems.empty()) {
    error = "invalid descriptor: " + join(problems, "; ");
    return false;
  }
  return true;
}

std::shared_ptr<PluginPackage> load(const fs::path& path, const fs::path& image, std::string& error) {
  // Look for the export before dlopen: a library that is not a plugin never gets to run its
  // static constructors in the kernel.
  const std::optional<std::string> bytes = read_image(image);
  if (!bytes) {
    error = "cannot read its private copy " + image.string();
    return nullptr;
  }
  if (!is_plugin_for_this_kernel(*bytes, error)) return nullptr;

  auto package = std::make_shared<PluginPackage>();
  package->path = path;
  package->image = image;
  if (!open_library(*package, error) || !read_export(*package, error) ||
      !check_descriptors(package->components, error))
    return nullptr;
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
  try {
    child_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{program.string(), "plugins", "probe", "--image", image.string(),
                                 "--timeout-ms", std::to_string(timeout.count()), path.string()},
        std::vector<std::pair<int, int>>{{report[1], STDOUT_FILENO}});
  } catch (const std::system_error& e) {
    ::close(report[0]);
    ::close(report[1]);
    throw std::system_error(e.code(), "cannot probe " + path.string() + " (running " + program.string() + ")");
  }
  ::close(report[1]);
  report_fd_ = report[0];
}

PluginProbe::~PluginProbe() {
  if (report_fd_ >= 0) ::close(report_fd_);
}

std::optional<std::string> PluginProbe::verdict() {
  // Read the report until the child closes its end (it exits) or the deadline passes.
  std::string report;
  bool timed_out = false;
  for (;;) {
    // Past the deadline, what the child has already written (and its exit) still counts:
    // probes run at once and are asked in turn, so a later one is often asked only after
    // an earlier one used up the time they share, long after it finished.
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now());
    pollfd ready{report_fd_, POLLIN, 0};
    const int n = ::poll(&ready, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
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
  if (timed_out) child_->kill();
  const int status = child_->wait();
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
