#include "registry/crash_quarantine.hpp"

#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <ucontext.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "registry/plugin_image_cache.hpp"
#include "support/files.hpp"

namespace sluice::crash_quarantine {

namespace fs = std::filesystem;

namespace {

constexpr std::array fatal_signals{SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

// Everything the handler reads is prepared here beforehand: it may not allocate or lock.
struct ImageNote {
  char hash[64] = {};
  char description[1024] = {};  // "<file> (package <name>)"
};
constexpr std::size_t max_notes = 256;
std::array<ImageNote, max_notes> notes;
std::atomic<std::size_t> notes_used{0};
std::mutex notes_mutex;  // writers only

char images_prefix[2048] = {};  // "<cache dir>/"
char quarantine_dir[2048] = {};
struct sigaction previous_actions[NSIG];
std::once_flag installed;

// A fixed buffer that appends without allocating.
struct Text {
  char data[3072];
  std::size_t size = 0;
  Text& operator<<(const char* s) {
    while (*s && size + 1 < sizeof data) data[size++] = *s++;
    data[size] = 0;
    return *this;
  }
  Text& operator<<(int n) {
    char digits[16];
    int count = 0;
    unsigned value = n < 0 ? 0u - static_cast<unsigned>(n) : static_cast<unsigned>(n);
    do digits[count++] = static_cast<char>('0' + value % 10);
    while ((value /= 10) != 0 && count < 15);
    if (n < 0) *this << "-";
    while (count > 0) {
      const char digit[2] = {digits[--count], 0};
      *this << digit;
    }
    return *this;
  }
};

void write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

// The content hash of the plugin image that holds `address`, or null.
const char* image_hash(void* address, char (&hash)[64]) {
  Dl_info info{};
  if (!address || ::dladdr(address, &info) == 0 || !info.dli_fname) return nullptr;
  const std::size_t prefix = std::strlen(images_prefix);
  const char* name = info.dli_fname;
  if (std::strncmp(name, images_prefix, prefix) != 0) return nullptr;
  name += prefix;
  const char* dot = std::strrchr(name, '.');
  const std::size_t length = dot ? static_cast<std::size_t>(dot - name) : std::strlen(name);
  if (length == 0 || length >= sizeof hash || std::strchr(name, '/')) return nullptr;
  std::memcpy(hash, name, length);
  hash[length] = 0;
  return hash;
}

void on_fatal_signal(int signal, siginfo_t* info, void* context) {
  void* frames[64];
  int count = 0;
  // The faulting instruction first: for a fault it is where the plugin went wrong.
  if (signal != SIGABRT && context)
    frames[count++] = reinterpret_cast<void*>(static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_RIP]);
  count += ::backtrace(frames + count, static_cast<int>(std::size(frames)) - count);
  char hash[64];
  const char* culprit = nullptr;
  for (int i = 0; i < count && !culprit; ++i) culprit = image_hash(frames[i], hash);
  if (culprit) {
    const char* description = culprit;
    const std::size_t used = std::min(notes_used.load(std::memory_order_acquire), max_notes);
    for (std::size_t i = 0; i < used; ++i)
      if (std::strcmp(notes[i].hash, culprit) == 0) description = notes[i].description;
    const char* name = ::sigabbrev_np(signal);
    const char* what = ::sigdescr_np(signal);
    Text reason;
    reason << "crashed the server (SIG" << (name ? name : "?") << ": " << (what ? what : "?")
           << ") in plugin " << description;
    ::mkdir(quarantine_dir, 0700);
    Text record_path;
    record_path << quarantine_dir << "/" << culprit;
    if (const int fd = ::open(record_path.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600); fd >= 0) {
      write_all(fd, reason.data, reason.size);
      ::fsync(fd);
      ::close(fd);
    }
    Text message;
    message << "sluice: fatal: " << reason.data
            << "; quarantined: it is not loaded again until the file changes or `sluice plugins release` "
               "is run on it\n";
    write_all(STDERR_FILENO, message.data, message.size);
  }
  (void)info;
  // Then whatever would have happened without us: the previous handler or the default action,
  // as soon as this handler returns (the signal is blocked until then). Raised again because
  // a signal sent by raise() or kill() would otherwise not recur.
  ::sigaction(signal, &previous_actions[signal], nullptr);
  ::raise(signal);
}

fs::path record_path(const fs::path& cache_dir, std::string_view content_hash) {
  return cache_dir / "quarantine" / std::string(content_hash);
}

}  // namespace

void install(const fs::path& cache_dir) {
  std::call_once(installed, [&] {
    const std::string prefix = (cache_dir / "").string();
    const std::string quarantine = (cache_dir / "quarantine").string();
    if (prefix.size() >= sizeof images_prefix || quarantine.size() >= sizeof quarantine_dir) return;
    std::memcpy(images_prefix, prefix.c_str(), prefix.size() + 1);
    std::memcpy(quarantine_dir, quarantine.c_str(), quarantine.size() + 1);
    // backtrace() loads the unwinder on its first call: not in a signal handler.
    void* warm_up[1];
    ::backtrace(warm_up, 1);
    struct sigaction action {};
    action.sa_sigaction = &on_fatal_signal;
    // On the thread's signal stack if it has one: a fiber that overflowed has none left.
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    for (int signal : fatal_signals) ::sigaction(signal, &action, &previous_actions[signal]);
  });
}

void remember(const fs::path& image, const fs::path& file, std::string_view package) {
  const std::lock_guard lock(notes_mutex);
  const std::string hash = image.stem().string();
  const std::string description = file.string() + " (package " + std::string(package) + ")";
  const std::size_t used = notes_used.load(std::memory_order_relaxed);
  std::size_t slot = used;
  for (std::size_t i = 0; i < used; ++i)
    if (hash == notes[i].hash) slot = i;
  if (slot == max_notes) return;  // the handler then names the image by its hash only
  ImageNote& note = notes[slot];
  std::snprintf(note.hash, sizeof note.hash, "%s", hash.c_str());
  std::snprintf(note.description, sizeof note.description, "%s", description.c_str());
  if (slot == used) notes_used.store(used + 1, std::memory_order_release);
}

std::optional<std::string> reason(const fs::path& cache_dir, std::string_view content_hash) {
  std::ifstream in(record_path(cache_dir, content_hash));
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return "quarantined: " + text.str() + "; replace the file with a fixed build, or run `sluice plugins release FILE`";
}

bool release(const fs::path& cache_dir, const fs::path& file) {
  const std::string bytes = read_file(file);
  std::error_code ec;
  if (!fs::remove(record_path(cache_dir, PluginImageCache::content_hash(bytes)), ec)) return false;
  fs::last_write_time(file, fs::file_time_type::clock::now(), ec);
  return true;
}

}  // namespace sluice::crash_quarantine
