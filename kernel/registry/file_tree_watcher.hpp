// FileTreeWatcher — inotify over directory trees, read by the control loop: the plugin
// directories (`.so` files) and the graphs directory (`.yaml`/`.yml` files).
//
//   FileTreeWatcher watcher(loop, dirs, 3, {".so"}, [&](const std::set<std::filesystem::path>& busy) {
//     rescan_all_except(busy);  // a watch handler of the loop: beside its jobs and timers
//   });
//
// Calls `on_change` once right after the watches are in place (so nothing that changed while
// they were being set up is missed), then after every batch of events that may have changed a
// file ending in one of `extensions` or the directory tree. `being_written` holds those files
// that were modified and not yet closed: a copy in progress, which the caller should leave
// alone until the write is finished (IN_CLOSE_WRITE), or until nothing happened to it for
// `write_settle_time` (a writer that never closes, a hard link, a file written through mmap). Subdirectories that
// appear are watched as they come, down to `max_depth` levels below a root. Directories that do
// not exist when the watcher starts are not watched. A watched file that is a symbolic link is
// followed: the directory of its target is watched too, and a change to the target counts as
// a change to the link (a rebuilt plugin that a link points at is noticed).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/control_loop.hpp"

struct inotify_event;

namespace sluice {

class FileTreeWatcher {
 public:
  using Callback = std::function<void(const std::set<std::filesystem::path>& being_written)>;

  static constexpr std::chrono::milliseconds write_settle_time{2000};

  // Sets up the watches and hands the inotify descriptor to `loop`; throws std::system_error
  // when inotify is not available.
  FileTreeWatcher(ControlLoop& loop, std::vector<std::filesystem::path> roots, int max_depth,
                  std::vector<std::string> extensions, Callback on_change);
  ~FileTreeWatcher();  // once it returns, on_change is not running and is not called again
  FileTreeWatcher(const FileTreeWatcher&) = delete;
  FileTreeWatcher& operator=(const FileTreeWatcher&) = delete;

 private:
  struct Watched {
    std::filesystem::path dir;
    int depth;  // below its root; -1: not in a tree, watched only for link targets in it
  };

  void watch_tree(const std::filesystem::path& dir, int depth);
  // When `file` is a symbolic link with one of the extensions: watches its target's directory.
  void follow_link(const std::filesystem::path& file);
  // The loop's handler: `events` as read from inotify (nothing: the first call, or the oldest
  // write in progress may have settled). Returns when that write settles.
  std::optional<ControlLoop::Clock::time_point> on_events(std::string_view events);
  // The steps of on_events(). Each returns true when the event may have changed a file or the
  // tree (a report is due).
  bool handle_event(const inotify_event& event, ControlLoop::Clock::time_point event_time);
  // An event about `dir`, a subdirectory of a watched tree (which handle_event() counts as a change).
  void handle_directory_event(const std::filesystem::path& dir, std::uint32_t mask, int parent_depth);
  bool handle_file_event(const std::filesystem::path& file, std::uint32_t mask,
                         ControlLoop::Clock::time_point event_time);
  // Drops the files that nothing happened to for write_settle_time; true when there was one.
  bool forget_settled_writes();
  void report_change();

  std::vector<std::filesystem::path> roots_;
  int max_depth_;
  std::vector<std::string> extensions_;
  Callback on_change_;
  ControlLoop& loop_;
  int inotify_fd_ = -1;
  // What follows is filled by the constructor, then touched only by on_events(), one call at a time.
  std::map<int, Watched> watches_;  // by watch descriptor
  // A link target → the watched links that point at it (resolved when each link was seen).
  std::map<std::filesystem::path, std::set<std::filesystem::path>> link_targets_;
  // Watched files modified and not yet closed → when they last were.
  std::map<std::filesystem::path, ControlLoop::Clock::time_point> writing_;
  bool reported_ = false;  // the first report, for what changed while the watches were set up
  ControlLoop::WatchId watch_id_ = 0;
};

}  // namespace sluice
