#include "registry/file_tree_watcher.hpp"
#include "support/log.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
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

using Clock = std::chrono::steady_clock;
using WriteTimes = std::map<fs::path, Clock::time_point>;  // a file being written → when it last was

// Drops the files that nothing happened to for write_settle_time; true when there was one.
bool forget_settled_writes(WriteTimes& writing) {
  const auto now = Clock::now();
  bool forgot = false;
  for (auto it = writing.begin(); it != writing.end();) {
    if (now - it->second >= FileTreeWatcher::write_settle_time) {
      it = writing.erase(it);
      forgot = true;
    } else {
      ++it;
    }
  }
  return forgot;
}

void report_change(const FileTreeWatcher::Callback& on_change, const WriteTimes& writing) {
  std::set<fs::path> busy;
  for (const auto& [path, when] : writing) busy.insert(path);
  try {
    on_change(busy);
  } catch (const std::exception& e) {
    // The watcher must outlive any one failed rescan; the next event retries.
    log::error("rescan after a directory change failed: {}", e.what());
  }
}

// How long to wait for events: until the oldest write in progress settles, or (-1) for ever.
int poll_timeout_ms(const WriteTimes& writing) {
  if (writing.empty()) return -1;
  auto oldest = Clock::time_point::max();
  for (const auto& [path, when] : writing) oldest = std::min(oldest, when);
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(oldest + FileTreeWatcher::write_settle_time -
                                                                  Clock::now());
  return static_cast<int>(std::max<std::int64_t>(wait.count(), 0));
}

}  // namespace

FileTreeWatcher::FileTreeWatcher(std::vector<fs::path> roots, int max_depth,
                                 std::vector<std::string> extensions, Callback on_change)
    : roots_(std::move(roots)),
      max_depth_(max_depth),
      extensions_(std::move(extensions)),
      on_change_(std::move(on_change)) {
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0)
    throw std::system_error(errno, std::generic_category(), "cannot watch directories");
  stop_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stop_fd_ < 0) {
    const int error = errno;
    ::close(inotify_fd_);
    throw std::system_error(error, std::generic_category(), "cannot watch directories");
  }
  for (const auto& root : roots_) {
    std::error_code ec;
    if (fs::is_directory(root, ec)) watch_tree(root, 0);
  }
  thread_ = std::thread([this] { run(); });
}

FileTreeWatcher::~FileTreeWatcher() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(stop_fd_, &one, sizeof one);
  thread_.join();
  ::close(stop_fd_);
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

void FileTreeWatcher::run() {
  WriteTimes writing;   // watched files modified and not yet closed
  bool changed = true;  // catch up with whatever changed while the watches were set up
  for (;;) {
    if (forget_settled_writes(writing)) changed = true;
    if (changed) {
      changed = false;
      report_change(on_change_, writing);
    }
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, poll_timeout_ms(writing)) < 0) {
      if (errno == EINTR) continue;
      log::error("directory watcher stopped: poll: {}", std::generic_category().message(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    if (read_events(writing)) changed = true;
  }
}

bool FileTreeWatcher::read_events(WriteTimes& writing) {
  alignas(inotify_event) char buffer[64 * 1024];
  bool changed = false;
  for (;;) {
    const ssize_t length = ::read(inotify_fd_, buffer, sizeof buffer);
    if (length <= 0) break;  // EAGAIN: drained
    const auto event_time = Clock::now();
    for (const char* p = buffer; p < buffer + length;) {
      const auto* event = reinterpret_cast<const inotify_event*>(p);
      p += sizeof(inotify_event) + event->len;
      if (handle_event(*event, event_time, writing)) changed = true;
    }
  }
  return changed;
}

bool FileTreeWatcher::handle_event(const inotify_event& event, Clock::time_point event_time,
                                   WriteTimes& writing) {
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
        writing.erase(link);
        changed = true;
      } else if (event.mask & (IN_CREATE | IN_MODIFY)) {
        writing[link] = event_time;
      }
    }
  }
  if (watched->second.depth < 0) return changed;  // a target's directory, not a watched tree
  if (event.mask & IN_ISDIR) {
    handle_directory_event(entry, event.mask, watched->second.depth);
    return true;
  }
  if (handle_file_event(entry, event.mask, event_time, writing)) changed = true;
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
                                        Clock::time_point event_time, WriteTimes& writing) {
  if (!has_one_of(extensions_, file)) return false;
  if (mask & written_or_gone) {
    if (mask & IN_MOVED_TO) follow_link(file);  // a link renamed into place
    writing.erase(file);
    return true;
  }
  if (mask & IN_CREATE) {
    // A symlink is complete when created; a regular file is about to be written.
    std::error_code ec;
    if (fs::is_symlink(file, ec)) {
      follow_link(file);
      return true;
    }
    writing[file] = event_time;
  } else if (mask & IN_MODIFY) {
    writing[file] = event_time;
  }
  return false;
}

}  // namespace sluice
