// PluginRegistry — discovers, validates and loads component plugin packages, and keeps them
// current while the kernel runs.
//
//   PluginRegistry registry(PluginRegistry::search_path(cli_dirs, bundled_dir));  // scans once
//   registry.on_change([&](const std::vector<std::string>& changed) { redeploy_users_of(changed); });
//   registry.watch(control_loop);                                     // hot drop-in from now on
//   std::shared_ptr<const ComponentDescriptor> upper = registry.find("upper");
//
// It owns: the list of plugin files found in the search path (directories and their
// subdirectories, a few levels deep), one loaded PluginPackage per accepted file, the reasons
// for every rejected file, and the component name → descriptor map. A file that is not a
// plugin, cannot be loaded, was built for another SDK ABI, declares an invalid descriptor, or
// crashes while loading (each new file is first loaded by a probe, a child process of its own)
// is rejected with a reason; the kernel keeps running. So is a directory, a loop of symbolic
// links or a dangling link named `*.so`. A link is followed, and its target watched.
//
// The result is a function of the files alone, so a restart sees what the running kernel saw:
// files are ordered by search-path directory, then by path, and for a component name the first
// file wins. A later package that repeats a name loses only that name (a clash, listed by
// clashes()); every component of every package is also found as "package/name". A file is reloaded when it changes on disk (size, mtime or inode, then content
// hash) and retried the same way after a rejection, so a half-copied file is picked up once the
// copy is complete.
//
// Thread-safe: readers take an immutable snapshot under a short lock; (re)scans are serialised.
// A descriptor returned by find() keeps its package's library loaded while it is held, also
// after the file was replaced or removed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/component.hpp>
#include <sluice/value.hpp>

#include "registry/component_catalog.hpp"
#include "registry/plugin_image_cache.hpp"

namespace sluice {

struct PluginPackage;
class ControlLoop;
class FileTreeWatcher;

struct PluginPackageInfo {
  std::string name;
  std::string version;
  std::string description;
  std::filesystem::path path;           // the file in the plugin directory
  std::vector<std::string> components;  // in the package's own order
};

struct PluginRejection {
  std::filesystem::path path;
  std::string reason;  // one sentence, e.g. "crashed while loading (signal 11): Segmentation fault"
};

// A component name a package offers but another package, earlier in search order, keeps.
struct PluginClash {
  std::filesystem::path path;  // the file of the package that lost the name
  std::string package;
  std::string component;        // the name as looked up: "name", or "package/name"
  std::filesystem::path provided_by;

  std::string explanation() const {
    const std::string head = "'" + component + "' of package " + package + " (" + path.string() +
                             ") is provided by " + provided_by.string() + ", earlier in search order; ";
    if (component.find('/') != std::string::npos) return head + "two packages have the name " + package;
    return head + "name it as '" + package + "/" + component + "' to use this one";
  }
};

struct PluginRegistryOptions {
  // Where the private copies of plugin files are kept; empty: PluginImageCache::default_dir().
  std::filesystem::path cache_dir;
  // How long a package may take to load in the probe child before it is rejected.
  std::chrono::milliseconds probe_timeout{10000};
  // The sluice binary, run as `sluice plugins probe …` to probe each new file (PluginProbe);
  // empty: this process's own executable, which is right for the sluice command itself.
  std::filesystem::path probe_program;
  // Log every file added, replaced, removed or rejected (with path, package, version and
  // reason) as scans find them, the first scan included: what `sluice serve` wants, and not
  // the one-shot commands, whose output is their own.
  bool log_changes = false;
  // Scan in the constructor. `sluice serve` says false and calls rescan() once its port is
  // open, so that a slow plugin delays readiness, not the port.
  bool scan_at_start = true;
};

class PluginRegistry final : public ComponentCatalog {
 public:
  using ChangeListener = std::function<void(const std::vector<std::string>& changed_components)>;

  // Directories below a search-path directory that are scanned and watched (the build tree
  // keeps plugins in plugins/<package>/lib<package>.so).
  static constexpr int max_depth = 3;

  // `--plugins` directories first, then $SLUICE_PLUGIN_PATH (colon-separated), then
  // `default_dir` (the bundled plugins: the build tree's or installed_dir(); empty: none);
  // duplicates removed, first position kept.
  static std::vector<std::filesystem::path> search_path(const std::vector<std::string>& cli_dirs,
                                                        const std::filesystem::path& default_dir);
  // Where `meson install` puts the bundled plugins: <prefix>/<libdir>/sluice/plugins.
  static std::filesystem::path installed_dir();

  // Scans `directories` (unless options.scan_at_start is false; missing ones are skipped and
  // reported by plugins_json()).
  explicit PluginRegistry(std::vector<std::filesystem::path> directories,
                          PluginRegistryOptions options = {});
  ~PluginRegistry() override;  // stops watching first
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

  // Brings the registry up to date with the directories now. The watcher calls it by itself.
  void rescan();

  // Watches the directories (inotify, read by `loop`, which then rescans as a watch handler):
  // new, replaced and removed `.so` files take effect within a second. `loop` must outlive the
  // registry. Idempotent. Throws std::system_error when inotify is unavailable.
  void watch(ControlLoop& loop);

  // ComponentCatalog: `name` is a component name or "package/name".
  std::shared_ptr<const ComponentDescriptor> find(std::string_view name) const override;
  std::vector<std::string> names() const override;
  std::optional<ComponentOrigin> origin(std::string_view name) const override;

  std::vector<PluginPackageInfo> packages() const;  // accepted packages, in search order
  std::vector<PluginRejection> rejected() const;    // in search order
  std::vector<PluginClash> clashes() const;          // in search order
  const std::vector<std::filesystem::path>& directories() const { return directories_; }
  // Where the private copies of the plugin files are (and crash_quarantine's records).
  const std::filesystem::path& image_cache_dir() const { return cache_.dir(); }

  // [descriptor_to_json(d) + {"package": name}, ...] sorted by component name: GET /v1/components.
  Value components_json() const;
  // {"directories": [{path, exists}], "packages": [{name, version, description, path, hash,
  //  components: [names]}], "rejected": [{path, reason}], "clashes": [{path, package,
  //  component, provided_by, explanation}]}: GET /v1/plugins.
  Value plugins_json() const;

  // Called after every change that added, replaced or removed components, with their names
  // (sorted), on the thread that rescanned (usually the control loop's, in its watch handler).
  // Listeners run one at a time and in order of changes; they may call find() and the other
  // readers, but not rescan() or watch() (that deadlocks), so hand long work such as a
  // redeploy on (a control-loop job).
  void on_change(ChangeListener listener);

  // Incremented on every change of packages or rejections; for waiting on a change.
  std::uint64_t generation() const { return generation_.load(); }

 private:
  // One `.so` file found in the search path, as last read.
  struct FileRecord {
    std::size_t order = 0;  // index of its search-path directory
    // The file as stat() saw it when it was read; any difference means: read it again.
    std::uint64_t device = 0, inode = 0, size = 0;
    std::int64_t mtime_ns = 0;
    std::string content_hash;  // of what was read: unchanged content is not reloaded
    std::shared_ptr<const PluginPackage> package;  // null when rejected
    std::string rejection;
    // Rejected for a reason outside the file (unreadable, cache directory unusable, fork
    // failed): tried again on every rescan, not only when the file changes.
    bool retry = false;
  };
  struct Snapshot;
  struct NextFiles;  // what update() makes of files_

  std::shared_ptr<const Snapshot> snapshot() const;
  // The rescan itself: update(), then prune_cache().
  void rescan_locked(const std::set<std::filesystem::path>& being_written);
  // Brings files_ and the snapshot up to date; `being_written` are left as they are (a copy
  // in progress).
  void update(const std::set<std::filesystem::path>& being_written);
  // update() for one file found in the search path, directory `order` (scan_mutex_ held): its record
  // into `next` as it was, re-read, or to be probed (NextFiles::candidates).
  void update_record_locked(const std::filesystem::path& path, std::size_t order,
                            const std::set<std::filesystem::path>& being_written, NextFiles& next) const;
  // The log lines for going from files_ to `next` (PluginRegistryOptions::log_changes).
  void log_changes(const std::map<std::filesystem::path, FileRecord>& next) const;
  // PluginImageCache::prune, logged (PluginRegistryOptions::log_changes).
  void prune_cache() const;

  std::vector<std::filesystem::path> directories_;
  PluginRegistryOptions options_;
  PluginImageCache cache_;

  std::mutex scan_mutex_;  // serialises rescans; guards files_
  std::map<std::filesystem::path, FileRecord> files_;

  mutable std::mutex state_mutex_;  // guards snapshot_ and listeners_
  std::shared_ptr<const Snapshot> snapshot_;
  std::vector<ChangeListener> listeners_;
  std::atomic<std::uint64_t> generation_{0};

  std::mutex watch_mutex_;
  // Last member: destroyed (stopped) first, before anything its callback touches.
  std::unique_ptr<FileTreeWatcher> watcher_;
};

}  // namespace sluice
