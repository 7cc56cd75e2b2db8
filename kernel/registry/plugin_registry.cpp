#include "registry/plugin_registry.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <system_error>

#include "registry/crash_quarantine.hpp"
#include "registry/plugin_package.hpp"
#include "registry/file_tree_watcher.hpp"
#include "support/files.hpp"
#include "support/log.hpp"

#ifndef SLUICE_DEFAULT_PLUGIN_DIR
#error "SLUICE_DEFAULT_PLUGIN_DIR must be defined by the build (kernel/registry/meson.build)"
#endif

namespace sluice {

namespace fs = std::filesystem;

struct PluginRegistry::Snapshot {
  struct Entry {
    std::shared_ptr<const ComponentDescriptor> descriptor;  // aliases `package`
    std::shared_ptr<const PluginPackage> package;
  };
  std::map<std::string, Entry, std::less<>> components;  // by name: the first package offering it
  std::map<std::string, Entry, std::less<>> qualified;   // by "package/name": every package's
  std::vector<std::shared_ptr<const PluginPackage>> packages;  // accepted, in search order
  std::vector<PluginRejection> rejected;                       // in search order
  std::vector<PluginClash> clashes;                            // in search order

  // `files` resolved into components by name and by "package/name" (update(), step 3).
  static std::shared_ptr<const Snapshot> of(const std::map<fs::path, FileRecord>& files);
  // The component names that resolve differently in `published` than in `previous`, sorted, each once.
  static std::vector<std::string> changed_names(const Snapshot& previous, const Snapshot& published);
};

namespace {

// Absolute and without "." / ".." / trailing slash, so that one directory is one entry.
fs::path normalized_dir(const fs::path& dir) {
  std::error_code ec;
  fs::path absolute = fs::absolute(dir, ec);
  if (ec) absolute = dir;
  fs::path normal = absolute.lexically_normal();
  if (normal.has_relative_path() && normal.filename().empty()) normal = normal.parent_path();
  return normal;
}

// What is named `*.so` under a directory (down to `max_depth` directory levels).
struct FoundFiles {
  std::vector<fs::path> files;                           // regular files, or links to one; sorted
  std::vector<std::pair<fs::path, std::string>> unusable;  // anything else, with the reason
};

// Why `path`, named like a plugin, cannot be one; "" when it is a file (or a link to one).
std::string unusable_reason(const fs::path& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);  // through links
  if (ec) {
    if (ec == std::errc::too_many_symbolic_link_levels)
      return "is a loop of symbolic links (" + ec.message() + ")";
    if (fs::is_symlink(fs::symlink_status(path, ec))) {
      std::error_code read_ec;
      return "is a symbolic link to " + fs::read_symlink(path, read_ec).string() + ", which does not exist";
    }
    return "cannot be read: " + ec.message();
  }
  if (fs::is_directory(status)) return "is a directory, not a plugin file";
  if (!fs::is_regular_file(status)) return "is not a regular file";
  return "";
}

FoundFiles plugin_files(const fs::path& dir, int max_depth) {
  FoundFiles found;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return found;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_directory(type_ec) && it.depth() >= max_depth) it.disable_recursion_pending();
    if (it->path().extension() != ".so") continue;
    if (std::string reason = unusable_reason(it->path()); reason.empty())
      found.files.push_back(it->path());
    else
      found.unusable.emplace_back(it->path(), std::move(reason));
  }
  std::sort(found.files.begin(), found.files.end());
  std::sort(found.unusable.begin(), found.unusable.end());
  return found;
}

// The plugin files of every search-path directory, in search order, each with the index of its directory.
struct SearchPathFiles {
  struct Unusable {
    fs::path path;
    std::size_t order;
    std::string reason;
  };
  std::vector<std::pair<fs::path, std::size_t>> files;
  std::vector<Unusable> unusable;  // named *.so, and no file to load
};

// A file reachable from two directories (one nested in the other) counts once, for the first.
SearchPathFiles search_path_files(const std::vector<fs::path>& directories, int max_depth) {
  SearchPathFiles found;
  std::set<fs::path> seen;
  for (std::size_t order = 0; order < directories.size(); ++order) {
    FoundFiles in_dir = plugin_files(directories[order], max_depth);
    for (auto& file : in_dir.files)
      if (seen.insert(file).second) found.files.emplace_back(std::move(file), order);
    for (auto& [path, reason] : in_dir.unusable)
      if (seen.insert(path).second) found.unusable.push_back({path, order, std::move(reason)});
  }
  return found;
}

void tell_listeners(const std::vector<PluginRegistry::ChangeListener>& listeners,
                    const std::vector<std::string>& changed_components) {
  for (const auto& listener : listeners) {
    try {
      listener(changed_components);
    } catch (const std::exception& e) {
      // One failing listener must not keep the others from learning about the change.
      log::error("plugin change listener failed: {}", e.what());
    }
  }
}

}  // namespace

fs::path PluginRegistry::installed_dir() { return SLUICE_DEFAULT_PLUGIN_DIR; }

std::vector<fs::path> PluginRegistry::search_path(const std::vector<std::string>& cli_dirs,
                                                  const fs::path& default_dir) {
  std::vector<std::string> dirs(cli_dirs);
  if (const char* env = std::getenv("SLUICE_PLUGIN_PATH")) {
    std::string_view rest = env;
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      dirs.emplace_back(rest.substr(0, colon));
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    }
  }
  dirs.push_back(default_dir.string());

  std::vector<fs::path> path;
  for (const auto& dir : dirs) {
    if (dir.empty()) continue;  // "a::b" or a trailing colon
    fs::path normal = normalized_dir(dir);
    if (std::find(path.begin(), path.end(), normal) == path.end()) path.push_back(std::move(normal));
  }
  return path;
}

PluginRegistry::PluginRegistry(std::vector<fs::path> directories, PluginRegistryOptions options)
    : options_(std::move(options)),
      cache_(options_.cache_dir.empty() ? PluginImageCache::default_dir() : options_.cache_dir),
      snapshot_(std::make_shared<const Snapshot>()) {
  for (const auto& dir : directories) {
    fs::path normal = normalized_dir(dir);
    if (std::find(directories_.begin(), directories_.end(), normal) == directories_.end())
      directories_.push_back(std::move(normal));
  }
  if (options_.scan_at_start) rescan();
}

PluginRegistry::~PluginRegistry() {
  // The watcher's handler calls into this object: stop it before any member goes away.
  const std::lock_guard lock(watch_mutex_);
  watcher_.reset();
}

void PluginRegistry::rescan() {
  const std::lock_guard lock(scan_mutex_);
  rescan_locked({});
}

void PluginRegistry::watch(ControlLoop& loop) {
  const std::lock_guard lock(watch_mutex_);
  if (watcher_) return;
  watcher_ = std::make_unique<FileTreeWatcher>(
      loop, directories_, max_depth, std::vector<std::string>{".so"},
      [this](const std::set<fs::path>& being_written) {
        const std::lock_guard scan_lock(scan_mutex_);
        rescan_locked(being_written);
      });
}

void PluginRegistry::rescan_locked(const std::set<fs::path>& being_written) {
  update(being_written);
  // After the update, when the snapshot it replaced and the leases of rejected files are gone.
  prune_cache();
}

// update()'s new files_, as it is being built from the old one.
struct PluginRegistry::NextFiles {
  // A new or changed file: probed, then loaded.
  struct Candidate {
    fs::path path;
    FileRecord record;
    ImageLease image;
    std::unique_ptr<PluginProbe> probe;
  };

  explicit NextFiles(const std::map<fs::path, FileRecord>& files) : previous(files) {}

  const std::map<fs::path, FileRecord>& previous;  // files_
  std::map<fs::path, FileRecord> records;
  bool changed = false;  // whether any record is news
  std::vector<Candidate> candidates;

  // Takes `record` as what became of the file at `path`.
  void settle(const fs::path& path, FileRecord record) {
    // A retried failure that fails the same way again is no news.
    const auto old = previous.find(path);
    if (old == previous.end() || !old->second.retry || !record.retry ||
        old->second.rejection != record.rejection)
      changed = true;
    records.emplace(path, std::move(record));
  }

  // A file named like a plugin that is no file to load.
  void settle_unusable(SearchPathFiles::Unusable& file) {
    FileRecord record;
    record.order = file.order;
    record.rejection = std::move(file.reason);
    // Looked at again at every rescan (a link may be fixed without an event here).
    record.retry = true;
    settle(file.path, std::move(record));
  }

  // The candidate's probe's verdict and, when it passed, the package loaded here.
  void settle_probed(Candidate& candidate) {
    FileRecord& record = candidate.record;
    try {
      if (auto failure = candidate.probe->verdict()) {
        record.rejection = std::move(*failure);
      } else if (auto package = load_plugin_package(candidate.path, candidate.image.path(), record.rejection)) {
        crash_quarantine::remember(package->image, candidate.path, package->name);
        // Held for as long as the package is: by the registry, and by every graph running it.
        package->image_lease = std::move(candidate.image);
        record.package = std::move(package);
      }
    } catch (const std::exception& e) {
      record.rejection = e.what();
      record.retry = true;
    }
    settle(candidate.path, std::move(record));
  }
};

void PluginRegistry::update(const std::set<fs::path>& being_written) {
  // 1. The files there now, in search order; a file reachable from two directories (one
  //    nested in the other) counts once, for the first.
  SearchPathFiles found = search_path_files(directories_, max_depth);

  // 2. Bring each file's record up to date. What is new or changed is probed — all probes at
  //    once, so one package that hangs costs the probe timeout once, not once per file —
  //    and then loaded here.
  NextFiles next{files_};
  for (const auto& [path, order] : found.files) update_record_locked(path, order, being_written, next);
  for (auto& file : found.unusable) next.settle_unusable(file);
  for (auto& candidate : next.candidates) next.settle_probed(candidate);
  for (const auto& [path, record] : files_)
    if (next.records.count(path) == 0) next.changed = true;  // removed
  if (options_.log_changes) log_changes(next.records);
  files_ = std::move(next.records);
  if (!next.changed) return;

  // 3. Resolve component names in search order: the first package that offers a name keeps
  //    it; a later package that repeats it loses only that name (its other components stay,
  //    and every component stays reachable as "package/name"). Rejecting the later package as
  //    a whole would let one user plugin take down a bundled package with dozens of names.
  const std::shared_ptr<const Snapshot> snapshot = Snapshot::of(files_);

  // 4. Publish, then tell listeners which names now resolve differently (added, removed, or
  //    served by another package or build).
  std::shared_ptr<const Snapshot> previous;
  std::vector<ChangeListener> listeners;
  {
    const std::lock_guard lock(state_mutex_);
    previous = std::exchange(snapshot_, snapshot);
    ++generation_;
    listeners = listeners_;
  }
  const std::vector<std::string> affected = Snapshot::changed_names(*previous, *snapshot);
  if (affected.empty()) return;
  tell_listeners(listeners, affected);
}

void PluginRegistry::update_record_locked(const fs::path& path, std::size_t order,
                                          const std::set<fs::path>& being_written, NextFiles& next) const {
  const auto old = files_.find(path);
  if (being_written.count(path) != 0) {
    // A copy in progress: keep what was there (if anything) until the write finishes.
    if (old != files_.end()) next.records.emplace(path, old->second);
    return;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;  // removed since it was listed
  FileRecord record;
  record.order = order;
  record.device = static_cast<std::uint64_t>(st.st_dev);
  record.inode = static_cast<std::uint64_t>(st.st_ino);
  record.size = static_cast<std::uint64_t>(st.st_size);
  record.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  if (old != files_.end() && !old->second.retry && old->second.device == record.device &&
      old->second.inode == record.inode && old->second.size == record.size &&
      old->second.mtime_ns == record.mtime_ns) {
    next.records.emplace(path, old->second);
    return;
  }
  try {
    const std::string bytes = read_file(path);
    record.content_hash = PluginImageCache::content_hash(bytes);
    if (old != files_.end() && !old->second.retry && old->second.content_hash == record.content_hash) {
      // Touched, or copied again with the same bytes: the same outcome as before.
      record.package = old->second.package;
      record.rejection = old->second.rejection;
      next.records.emplace(path, std::move(record));
      return;
    }
    if (auto crashed = crash_quarantine::reason(cache_.dir(), record.content_hash)) {
      // Looked at again on every rescan: `sluice plugins release` may lift it at any time.
      record.rejection = std::move(*crashed);
      record.retry = true;
    } else {
      ImageLease image = cache_.store(bytes);
      const fs::path probe_program =
          options_.probe_program.empty() ? fs::path("/proc/self/exe") : options_.probe_program;
      auto probe = std::make_unique<PluginProbe>(probe_program, path, image.path(), options_.probe_timeout);
      next.candidates.push_back({path, std::move(record), std::move(image), std::move(probe)});
      return;
    }
  } catch (const std::exception& e) {
    record.rejection = e.what();
    record.retry = true;
  }
  next.settle(path, std::move(record));
}

std::shared_ptr<const PluginRegistry::Snapshot> PluginRegistry::Snapshot::of(
    const std::map<fs::path, FileRecord>& files) {
  std::vector<const std::pair<const fs::path, FileRecord>*> ordered;
  for (const auto& entry : files) ordered.push_back(&entry);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](auto* a, auto* b) { return a->second.order < b->second.order; });
  auto snapshot = std::make_shared<Snapshot>();
  for (const auto* entry : ordered) {
    const auto& [path, record] = *entry;
    if (!record.package) {
      snapshot->rejected.push_back({path, record.rejection});
      continue;
    }
    snapshot->packages.push_back(record.package);
    for (const auto& descriptor : record.package->components) {
      const Entry offered{std::shared_ptr<const ComponentDescriptor>(record.package, &descriptor),
                          record.package};
      for (auto [map, name] : {std::pair{&snapshot->components, descriptor.name},
                               std::pair{&snapshot->qualified, record.package->name + "/" + descriptor.name}})
        if (const auto [taken, added] = map->emplace(name, offered); !added)
          snapshot->clashes.push_back({path, record.package->name, name, taken->second.package->path});
    }
  }
  return snapshot;
}

std::vector<std::string> PluginRegistry::Snapshot::changed_names(const Snapshot& previous,
                                                                 const Snapshot& published) {
  // A graph may name a component either way; listeners get plain component names.
  std::vector<std::string> affected;
  for (const auto map : {&Snapshot::components, &Snapshot::qualified}) {
    const auto &before = previous.*map, &now = published.*map;
    for (const auto& [name, entry] : before)
      if (auto current = now.find(name); current == now.end() || current->second.descriptor != entry.descriptor)
        affected.push_back(entry.descriptor->name);
    for (const auto& [name, entry] : now)
      if (before.count(name) == 0) affected.push_back(entry.descriptor->name);
  }
  std::sort(affected.begin(), affected.end());
  affected.erase(std::unique(affected.begin(), affected.end()), affected.end());
  return affected;
}

namespace {

std::string package_text(const PluginPackage& package) {
  std::string components;
  for (const auto& descriptor : package.components)
    components += (components.empty() ? "" : ", ") + descriptor.name;
  return "package " + package.name + " " + package.version + ": " + components;
}

}  // namespace

void PluginRegistry::log_changes(const std::map<fs::path, FileRecord>& next) const {
  for (const auto& [path, record] : next) {
    const auto old = files_.find(path);
    const FileRecord* before = old == files_.end() ? nullptr : &old->second;
    if (record.package) {
      if (!before || !before->package)
        log::info("plugin added: {} ({})", path.string(), package_text(*record.package));
      else if (before->package != record.package)
        log::info("plugin replaced: {} (package {} {} -> {} {}); the graphs using it are redeployed", path.string(),
                  before->package->name, before->package->version, record.package->name, record.package->version);
    } else if (!before || before->package || before->rejection != record.rejection) {
      // A rejection repeated on every rescan (a retry that fails the same way) is logged once.
      log::warn("plugin rejected: {}: {}", path.string(), record.rejection);
    }
  }
  for (const auto& [path, record] : files_)
    if (next.count(path) == 0 && record.package)
      log::info("plugin removed: {} (package {} {}); graphs running it keep the loaded build until redeployed",
                path.string(), record.package->name, record.package->version);
}

void PluginRegistry::prune_cache() const {
  // The copies of packages this registry dropped and no graph runs any more (and whatever
  // other processes left behind): without it, the directory grows with every build loaded.
  const auto pruned = cache_.prune();
  if (pruned.files > 0 && options_.log_changes)
    log::info("plugin cache {}: removed {} file{} ({} bytes) no process uses", cache_.dir().string(), pruned.files,
              pruned.files == 1 ? "" : "s", pruned.bytes);
}

std::shared_ptr<const PluginRegistry::Snapshot> PluginRegistry::snapshot() const {
  const std::lock_guard lock(state_mutex_);
  return snapshot_;
}

std::shared_ptr<const ComponentDescriptor> PluginRegistry::find(std::string_view name) const {
  const auto current = snapshot();
  const auto& map = name.find('/') == std::string_view::npos ? current->components : current->qualified;
  const auto entry = map.find(name);
  return entry == map.end() ? nullptr : entry->second.descriptor;
}

std::optional<ComponentOrigin> PluginRegistry::origin(std::string_view name) const {
  const auto current = snapshot();
  const auto& map = name.find('/') == std::string_view::npos ? current->components : current->qualified;
  const auto entry = map.find(name);
  if (entry == map.end()) return std::nullopt;
  const PluginPackage& package = *entry->second.package;
  // The private copy is named by the content hash (PluginImageCache).
  return ComponentOrigin{package.path, package.image, package.name, package.version,
                         entry->second.descriptor->name, package.image.stem().string()};
}

std::vector<std::string> PluginRegistry::names() const {
  const auto current = snapshot();
  std::vector<std::string> names;
  names.reserve(current->components.size());
  for (const auto& [name, entry] : current->components) names.push_back(name);
  return names;
}

std::vector<PluginPackageInfo> PluginRegistry::packages() const {
  const auto current = snapshot();
  std::vector<PluginPackageInfo> infos;
  for (const auto& package : current->packages) {
    PluginPackageInfo info{package->name, package->version, package->description, package->path, {}};
    for (const auto& descriptor : package->components) info.components.push_back(descriptor.name);
    infos.push_back(std::move(info));
  }
  return infos;
}

std::vector<PluginRejection> PluginRegistry::rejected() const { return snapshot()->rejected; }

std::vector<PluginClash> PluginRegistry::clashes() const { return snapshot()->clashes; }

Value PluginRegistry::components_json() const {
  const auto current = snapshot();
  Array components;
  for (const auto& [name, entry] : current->components) {
    Value json = descriptor_to_json(*entry.descriptor);
    json["package"] = entry.package->name;
    components.push_back(std::move(json));
  }
  return components;
}

Value PluginRegistry::plugins_json() const {
  const auto current = snapshot();
  Array directories;
  for (const auto& dir : directories_) {
    std::error_code ec;
    directories.push_back(Object{{"path", dir.string()}, {"exists", fs::is_directory(dir, ec)}});
  }
  Array packages;
  for (const auto& package : current->packages) {
    Array names;
    for (const auto& descriptor : package->components) names.push_back(descriptor.name);
    packages.push_back(Object{{"name", package->name},
                              {"version", package->version},
                              {"description", package->description},
                              {"path", package->path.string()},
                              {"hash", package->image.stem().string()},  // the image is named by it
                              {"components", std::move(names)}});
  }
  Array rejected;
  for (const auto& rejection : current->rejected)
    rejected.push_back(Object{{"path", rejection.path.string()}, {"reason", rejection.reason}});
  Array clashes;
  for (const auto& clash : current->clashes)
    clashes.push_back(Object{{"path", clash.path.string()},
                             {"package", clash.package},
                             {"component", clash.component},
                             {"provided_by", clash.provided_by.string()},
                             {"explanation", clash.explanation()}});
  return Object{{"directories", std::move(directories)},
                {"packages", std::move(packages)},
                {"rejected", std::move(rejected)},
                {"clashes", std::move(clashes)}};
}

void PluginRegistry::on_change(ChangeListener listener) {
  const std::lock_guard lock(state_mutex_);
  listeners_.push_back(std::move(listener));
}

}  // namespace sluice
