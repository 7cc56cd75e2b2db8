#include "registry/file_tree_watcher.hpp"
#include "support/log.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <map>
#include <system_error>

namespace sluice {

namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t watch_mask = IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO |
                                     IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF |
                                     IN_ONLYDIR;

bool is_within(const fs::path& dir, const fs::path& ancestor) {
  auto [a, d] = std::mismatch(ancestor.begin(), ancestor.end(), dir.begin(), dir.end());
  return a == ancestor.end();
}

bool has_one_of(const std::vector<std::string>& extensions, const fs::path& file) {
  return std::find(extensions.begin(), extensions.end(), file.extension().string()) != extensions.end();
}

// A watched file written, moved into place, moved away or deleted: whatever a write was, it is over.
constexpr std::uint32_t written_or_gone = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE;

}  // namespace

FileTreeWatcher::FileTreeWatcher(ControlLoop& loop, std::vector<fs::path> roots, int max_depth,
                                 std::vector<std::string> extensions, Callback on_change)
    : roots_(std::move(roots)),
      max_depth_(max_depth),
      extensions_(std::move(extensions)),
      on_change_(std::move(on_change)),
      loop_(loop) {
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0)
    throw std::system_error(errno, std::generic_category(), "cannot watch directories");
  for (const auto& root : roots_) {
    std::error_code ec;
    if (fs::is_directory(root, ec)) watch_tree(root, 0);
  }
  watch_id_ = loop_.watch_readable(inotify_fd_, [this](std::string_view events) { return on_events(events); });
}

FileTreeWatcher::~FileTreeWatcher() {
  loop_.unwatch(watch_id_);
  ::close(inotify_fd_);
}

void FileTreeWatcher::watch_tree(const fs::path& dir, int depth) {
  const int wd = ::inotify_add_watch(inotify_fd_, dir.c_str(), watch_mask);
  // A directory that vanished or cannot be read is simply not watched; the scan reports what
  // it finds, and an unreadable directory holds no loadable plugin anyway.
  if (wd < 0) return;
  watches_[wd] = Watched{dir, depth};
  std::error_code ec;
  for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_symlink(type_ec))
      follow_link(it->path());
    else if (it->is_directory(type_ec) && depth < max_depth_)
      watch_tree(it->path(), depth + 1);
  }
}

void FileTreeWatcher::follow_link(const fs::path& file) {
  if (!has_one_of(extensions_, file)) return;
  std::error_code ec;
  if (!fs::is_symlink(file, ec)) return;
  const fs::path target = fs::canonical(file, ec);  // ELOOP, or dangling: the scan reports it
  if (ec) return;
  link_targets_[target].insert(file);
  const int wd = ::inotify_add_watch(inotify_fd_, target.parent_path().c_str(), watch_mask);
  if (wd >= 0) watches_.try_emplace(wd, Watched{target.parent_path(), -1});  // a tree's entry stays as it is
}

std::optional<ControlLoop::Clock::time_point> FileTreeWatcher::on_events(std::string_view events) {
  bool changed = !reported_;  // catch up with whatever changed while the watches were set up
  const auto event_time = ControlLoop::Clock::now();
  // inotify's reads hold whole events, each aligned for the next (the loop reads into
  // malloc'ed memory).
  for (const char* p = events.data(); p < events.data() + events.size();) {
    const auto* event = reinterpret_cast<const inotify_event*>(p);
    p += sizeof(inotify_event) + event->len;
    if (handle_event(*event, event_time)) changed = true;
  }
  if (forget_settled_writes()) changed = true;
  if (changed) report_change();
  if (writing_.empty()) return std::nullopt;
  auto oldest = ControlLoop::Clock::time_point::max();
  for (const auto& [path, when] : writing_) oldest = std::min(oldest, when);
  return oldest + write_settle_time;
}

bool FileTreeWatcher::forget_settled_writes() {
  const auto now = ControlLoop::Clock::now();
  bool forgot = false;
  for (auto it = writing_.begin(); it != writing_.end();) {
    if (now - it->second >= write_settle_time) {
      it = writing_.erase(it);
      forgot = true;
    } else {
      ++it;
    }
  }
  return forgot;
}

void FileTreeWatcher::report_change() {
  reported_ = true;
  std::set<fs::path> busy;
  for (const auto& [path, when] : writing_) busy.insert(path);
  try {
    on_change_(busy);
  } catch (const std::exception& e) {
    // The watcher must outlive any one failed rescan; the next event retries.
    log::error("rescan after a directory change failed: {}", e.what());
  }
}

bool FileTreeWatcher::handle_event(const inotify_event& event, ControlLoop::Clock::time_point event_time) {
  if (event.mask & IN_Q_OVERFLOW) return true;  // events were lost: a full rescan finds the truth
  const auto watched = watches_.find(event.wd);
  if (watched == watches_.end()) return false;
  if (event.mask & IN_IGNORED) {
    watches_.erase(watched);
    return false;
  }
  if (event.mask & (IN_DELETE_SELF | IN_MOVE_SELF)) return true;
  if (event.len == 0) return false;
  const fs::path entry = watched->second.dir / event.name;
  bool changed = false;
  // A link's target changed: as if the link had (the registry reads through links).
  if (const auto links = link_targets_.find(entry); links != link_targets_.end()) {
    for (const auto& link : links->second) {
      if (event.mask & written_or_gone) {
        writing_.erase(link);
        changed = true;
      } else if (event.mask & (IN_CREATE | IN_MODIFY)) {
        writing_[link] = event_time;
      }
    }
  }
  if (watched->second.depth < 0) return changed;  // a target's directory, not a watched tree
  if (event.mask & IN_ISDIR) {
    handle_directory_event(entry, event.mask, watched->second.depth);
    return true;
  }
  if (handle_file_event(entry, event.mask, event_time)) changed = true;
  return changed;
}

void FileTreeWatcher::handle_directory_event(const fs::path& dir, std::uint32_t mask, int parent_depth) {
  if (mask & IN_MOVED_FROM) {
    // Its watches would keep reporting under the old path: drop them (IN_IGNORED
    // removes the map entries); if it moved within the tree, IN_MOVED_TO re-adds it.
    for (const auto& [wd, watched] : watches_)
      if (is_within(watched.dir, dir)) ::inotify_rm_watch(inotify_fd_, wd);
  }
  if ((mask & (IN_CREATE | IN_MOVED_TO)) && parent_depth < max_depth_) watch_tree(dir, parent_depth + 1);
}

bool FileTreeWatcher::handle_file_event(const fs::path& file, std::uint32_t mask,
                                        ControlLoop::Clock::time_point event_time) {
  if (!has_one_of(extensions_, file)) return false;
  if (mask & written_or_gone) {
    if (mask & IN_MOVED_TO) follow_link(file);  // a link renamed into place
    writing_.erase(file);
    return true;
  }
  if (mask & IN_CREATE) {
    // A symlink is complete when created; a regular file is about to be written.
    std::error_code ec;
    if (fs::is_symlink(file, ec)) {
      follow_link(file);
      return true;
    }
    writing_[file] = event_time;
  } else if (mask & IN_MODIFY) {
    writing_[file] = event_time;
  }
  return false;
}

}  // namespace sluice
