#include "registry/plugin_image_cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "support/files.hpp"

namespace sluice {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int error) { return std::generic_category().message(error); }


// Whether `path` still names the file open as `fd` (and its size, when it does): a prune in
// another process may delete a copy between an open and a lock.
bool names_open_file(const fs::path& path, int fd, std::uint64_t* size = nullptr) {
  struct stat open_file {}, named {};
  if (::fstat(fd, &open_file) != 0 || ::lstat(path.c_str(), &named) != 0 || open_file.st_ino != named.st_ino ||
      open_file.st_dev != named.st_dev)
    return false;
  if (size) *size = static_cast<std::uint64_t>(open_file.st_size);
  return true;
}

// A shared lock on `image`, if the path still names the file that was locked; -1 when it is
// not there.
int lock_shared(const fs::path& image) {
  const int fd = ::open(image.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  while (::flock(fd, LOCK_SH) != 0 && errno == EINTR) {
  }
  if (!names_open_file(image, fd)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// `<32 hex digits>.so`: a copy this cache wrote (nothing else in the directory is pruned).
bool is_image_name(std::string_view name) {
  return name.size() == 35 && name.ends_with(".so") &&
         std::all_of(name.begin(), name.begin() + 32, [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

ImageLease& ImageLease::operator=(ImageLease&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

ImageLease::~ImageLease() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

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

ImageLease PluginImageCache::store(std::string_view bytes) const {
  ensure_private_dir();
  const fs::path image = dir_ / (content_hash(bytes) + ".so");
  // Pruned by another process between writing (or finding) and locking: write it again. Two
  // rounds lost to prunes in a row would need prunes timed to the microsecond.
  for (int attempt = 0; attempt < 3; ++attempt) {
    // A complete copy is already there: copies are renamed into place, so existence with the
    // right size means it is whole (a same-user process wrote it from the same bytes).
    struct stat st {};
    if (::stat(image.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || static_cast<std::size_t>(st.st_size) != bytes.size())
      write_copy(image, bytes);
    if (const int fd = lock_shared(image); fd >= 0) return ImageLease(image, fd);
  }
  throw std::runtime_error("cannot hold " + image.string() + " in the plugin cache: it keeps being deleted");
}

void PluginImageCache::write_copy(const fs::path& image, std::string_view bytes) const {
  try {
    replace_file(image, bytes, 0600);  // several kernels may share the cache directory
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string("plugin cache: ") + e.what());
  }
}

PluginImageCache::PruneReport PluginImageCache::prune() const {
  PruneReport report;
  DIR* dir = ::opendir(dir_.c_str());
  if (!dir) return report;
  const auto now = std::chrono::system_clock::now();
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    const fs::path file = dir_ / entry->d_name;
    if (name.starts_with('.') && name.ends_with(".tmp")) {
      // A writer renames its temporary within milliseconds; an old one's writer died.
      struct stat st {};
      if (::lstat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          now - std::chrono::system_clock::from_time_t(st.st_mtime) > std::chrono::hours(1) &&
          ::unlink(file.c_str()) == 0) {
        ++report.files;
        report.bytes += static_cast<std::uint64_t>(st.st_size);
      }
      continue;
    }
    if (!is_image_name(name)) continue;
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    // Held by a lease somewhere: in use. Else, locked here, no store() can lease it until the
    // unlink, and one that opened it meanwhile sees the inode gone and writes a new copy.
    std::uint64_t size = 0;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && names_open_file(file, fd, &size) && ::unlink(file.c_str()) == 0) {
      ++report.files;
      report.bytes += size;
    }
    ::close(fd);
  }
  ::closedir(dir);
  return report;
}

}  // namespace sluice
