// FileTreeWatcher — inotify over directory trees, on its own thread: the plugin directories
// (`.so` files) and the graphs directory (`.yaml`/`.yml` files).
//
//   FileTreeWatcher watcher(dirs, 3, {".so"}, [&](const std::set<std::filesystem::path>& busy) {
//     rescan_all_except(busy);  // on the watcher thread
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
#include <string>
#include <thread>
#include <vector>

struct inotify_event;

namespace sluice {

class FileTreeWatcher {
 public:
  using Callback = std::function<void(const std::set<std::filesystem::path>& being_written)>;

  static constexpr std::chrono::milliseconds write_settle_time{2000};

  // Sets up the watches and starts the thread; throws std::system_error when inotify is not
  // available.
  FileTreeWatcher(std::vector<std::filesystem::path> roots, int max_depth,
                  std::vector<std::string> extensions, Callback on_change);
  ~FileTreeWatcher();  // stops and joins the thread
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
  void run();
  // The steps of run(), on the thread. `writing`: the files being written, with when they last were.
  // Each returns true when what it read may have changed a file or the tree (a report is due).
  using Clock = std::chrono::steady_clock;
  using WriteTimes = std::map<std::filesystem::path, Clock::time_point>;
  bool read_events(WriteTimes& writing);  // until none is left
  bool handle_event(const inotify_event& event, Clock::time_point event_time, WriteTimes& writing);
  // An event about `dir`, a subdirectory of a watched tree (which handle_event() counts as a change).
  void handle_directory_event(const std::filesystem::path& dir, std::uint32_t mask, int parent_depth);
  bool handle_file_event(const std::filesystem::path& file, std::uint32_t mask,
                         Clock::time_point event_time, WriteTimes& writing);

  std::vector<std::filesystem::path> roots_;
  int max_depth_;
  std::vector<std::string> extensions_;
  Callback on_change_;
  int inotify_fd_ = -1;
  int stop_fd_ = -1;  // eventfd that wakes the thread to stop
  // By watch descriptor. Filled by the constructor, then touched only by the thread.
  std::map<int, Watched> watches_;
  // A link target → the watched links that point at it (resolved when each link was seen).
  std::map<std::filesystem::path, std::set<std::filesystem::path>> link_targets_;
  std::thread thread_;
};

}  // namespace sluice
