// PluginImageCache — the private copies of plugin files that the kernel actually loads.
//
//   PluginImageCache cache(PluginImageCache::default_dir());
//   std::string bytes = read_file("plugins/libtextkit.so");
//   std::filesystem::path image = cache.store(bytes);   // <dir>/<xxh3-128 of bytes>.so
//
// The kernel never dlopens a file in a plugin directory: a user who `cp`s a new build over a
// loaded file rewrites pages the process has mapped (SIGBUS), and dlopen of a path that is
// already loaded returns the old image. Copies are named by content hash, written to a temporary
// name and renamed into place, so a copy is never seen half-written and never changes once
// there. The directory must be private (owned by this user, not writable by others): anyone
// who can write to it can make this process run their code.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace sluice {

class PluginImageCache {
 public:
  explicit PluginImageCache(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // $XDG_CACHE_HOME/sluice/plugins when XDG_CACHE_HOME is set (and absolute), else
  // /tmp/sluice-plugin-cache-<uid>.
  static std::filesystem::path default_dir();

  // Content hash of `bytes` as 32 hex digits (XXH3-128).
  static std::string content_hash(std::string_view bytes);

  // The path of the private copy of `bytes`, writing it first if it is not there yet.
  // Creates the directory (mode 0700) on first use. Throws std::runtime_error naming the
  // directory when it cannot be used (not private, not writable, disk full).
  std::filesystem::path store(std::string_view bytes) const;

  const std::filesystem::path& dir() const { return dir_; }

 private:
  void ensure_private_dir() const;

  std::filesystem::path dir_;
};

}  // namespace sluice
