// PluginImageCache — the private copies of plugin files that the kernel actually loads.
//
//   PluginImageCache cache(PluginImageCache::default_dir());
//   std::string bytes = read_file("plugins/libtextkit.so");
//   ImageLease image = cache.store(bytes);   // <dir>/<xxh3-128 of bytes>.so, held in use
//   load(image.path());                      // keep `image` for as long as the library is used
//   cache.prune();                           // deletes the copies no process holds
//
// The kernel never dlopens a file in a plugin directory: a user who `cp`s a new build over a
// loaded file rewrites pages the process has mapped (SIGBUS), and dlopen of a path that is
// already loaded returns the old image. Copies are named by content hash, written to a temporary
// name and renamed into place, so a copy is never seen half-written and never changes once
// there. The directory must be private (owned by this user, not writable by others): anyone
// who can write to it can make this process run their code.
//
// Several processes share the directory (servers, `sluice run`, the probes, the isolation
// hosts), so "in use" is what every one of them holds: a lease is a shared flock on the copy,
// and prune() deletes only a copy it can lock exclusively. A copy pruned between being found
// and being locked is noticed (its inode is no longer the path's) and written again.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

namespace sluice {

// A cached image held in use (a shared lock on it): no prune() in any process deletes it
// while the lease lives. Move-only.
class ImageLease {
 public:
  ImageLease() = default;
  ImageLease(std::filesystem::path path, int locked_fd) : path_(std::move(path)), fd_(locked_fd) {}
  ImageLease(ImageLease&& other) noexcept : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}
  ImageLease& operator=(ImageLease&& other) noexcept;
  ImageLease(const ImageLease&) = delete;
  ImageLease& operator=(const ImageLease&) = delete;
  ~ImageLease();

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

class PluginImageCache {
 public:
  explicit PluginImageCache(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // $XDG_CACHE_HOME/sluice/plugins when XDG_CACHE_HOME is set (and absolute), else
  // /tmp/sluice-plugin-cache-<uid>.
  static std::filesystem::path default_dir();

  // Content hash of `bytes` as 32 hex digits (XXH3-128).
  static std::string content_hash(std::string_view bytes);

  // The private copy of `bytes`, written first if it is not there yet, leased. Creates the
  // directory (mode 0700) on first use. Throws std::runtime_error naming the directory when
  // it cannot be used (not private, not writable, disk full).
  ImageLease store(std::string_view bytes) const;

  struct PruneReport {
    std::size_t files = 0;
    std::uint64_t bytes = 0;
  };
  // Deletes every copy no process holds a lease on, and temporary files left by a writer that
  // died an hour or more ago. Never throws: a copy it cannot look at is left alone.
  PruneReport prune() const;

  const std::filesystem::path& dir() const { return dir_; }

 private:
  void ensure_private_dir() const;
  // Writes `bytes` to a temporary file and renames it to `image`.
  void write_copy(const std::filesystem::path& image, std::string_view bytes) const;

  std::filesystem::path dir_;
};

}  // namespace sluice
