#include "registry/plugin_image_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace sluice {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int error) { return std::generic_category().message(error); }

// Writes all of `bytes` to `fd`; false with errno set on failure.
bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

fs::path PluginImageCache::default_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && xdg[0] == '/')
    return fs::path(xdg) / "sluice" / "plugins";
  return fs::path("/tmp") / ("sluice-plugin-cache-" + std::to_string(::geteuid()));
}

std::string PluginImageCache::content_hash(std::string_view bytes) {
  const XXH128_hash_t hash = XXH3_128bits(bytes.data(), bytes.size());
  char text[33];
  std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(hash.high64),
                static_cast<unsigned long long>(hash.low64));
  return text;
}

void PluginImageCache::ensure_private_dir() const {
  std::error_code ec;
  if (dir_.has_parent_path()) fs::create_directories(dir_.parent_path(), ec);
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST)
    throw std::runtime_error("cannot create the plugin cache directory " + dir_.string() + ": " +
                             errno_text(errno));
  // lstat, not stat: a symlink planted in /tmp by another user must not redirect the cache.
  struct stat st {};
  if (::lstat(dir_.c_str(), &st) != 0)
    throw std::runtime_error("cannot use the plugin cache directory " + dir_.string() + ": " +
                             errno_text(errno));
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 022) != 0)
    throw std::runtime_error("refusing the plugin cache directory " + dir_.string() +
                             ": it must be a directory owned by this user and writable by no one "
                             "else (anyone who can write there can make sluice run their code)");
}

fs::path PluginImageCache::store(std::string_view bytes) const {
  ensure_private_dir();
  const fs::path image = dir_ / (content_hash(bytes) + ".so");
  // A complete copy is already there: copies are renamed into place, so existence with the
  // right size means it is whole (a same-user process wrote it from the same bytes).
  struct stat st {};
  if (::stat(image.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<std::size_t>(st.st_size) == bytes.size())
    return image;

  // Unique per process and call: several kernels may share the cache directory.
  static std::atomic<unsigned> counter{0};
  const fs::path temporary = dir_ / ("." + image.filename().string() + "." +
                                     std::to_string(::getpid()) + "." +
                                     std::to_string(counter.fetch_add(1)) + ".tmp");
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    throw std::runtime_error("cannot write to the plugin cache " + temporary.string() + ": " +
                             errno_text(errno));
  const bool written = write_all(fd, bytes);
  const int write_error = errno;
  if (::close(fd) != 0 || !written) {
    ::unlink(temporary.c_str());
    throw std::runtime_error("cannot write to the plugin cache " + temporary.string() + ": " +
                             errno_text(written ? errno : write_error));
  }
  if (::rename(temporary.c_str(), image.c_str()) != 0) {
    const int rename_error = errno;
    ::unlink(temporary.c_str());
    throw std::runtime_error("cannot move " + temporary.string() + " into place: " +
                             errno_text(rename_error));
  }
  return image;
}

}  // namespace sluice
