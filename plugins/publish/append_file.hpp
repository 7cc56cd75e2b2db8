// AppendFile — appends whole lines to a file that several writers (one component instance per
// worker thread, or several processes) share, without ever interleaving partial lines.
//
//   AppendFile file({.path = "var/out.jsonl", .rotate_bytes = 64 << 20});
//   file.append("{\"a\":1}\n{\"a\":2}\n", emit.log());   // one write(2): lands whole
//   file.sync();                              // fdatasync, per the fsync policy
//
// Why it holds: the file is opened with O_APPEND and every append() is a single write(2), which
// the kernel applies atomically at the end of a regular file. Rotation and header writing take
// an exclusive flock(2) on the file being rotated, so that of several writers exactly one
// renames a full file and exactly one writes the header of a new one; the others notice the
// path now names another inode and reopen.
//
// A write(2) is whole only while its writer lives: a SIGKILL stops it at a page boundary and
// leaves a torn last line. Each append holds a shared flock for its write, so a writer opening
// the file under the exclusive lock knows no write is in progress, and cuts a last line without
// '\n' off before its first line would be glued to it. The packet that line held was not yet
// acknowledged, so the runtime delivers it again.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <sluice/log.hpp>

namespace sluice::publish {

enum class FsyncPolicy { never, always, interval };
FsyncPolicy parse_fsync_policy(std::string_view text);  // names as in the param tables

class AppendFile {
 public:
  struct Options {
    std::string path;
    // Rotate before an append would take the file past this size (0: never). The full file is
    // renamed to `<path>.<n>` with the smallest free n (counting on from the last rotation).
    std::uint64_t rotate_bytes = 0;
    FsyncPolicy fsync = FsyncPolicy::never;
    std::chrono::milliseconds fsync_interval{1000};
    // Written first into every new (empty) file, for example a CSV header line.
    std::string header = {};
  };

  // Creates nothing: the file and its missing parent directories are made by the first
  // append(). Throws std::system_error naming the path when it could not be written then (the
  // file, or the directory it would be made in, is not writable).
  explicit AppendFile(Options options);
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  ~AppendFile();

  // `lines` must be whole lines (ending in '\n'); they are written with one write(2). What
  // the file needed (a torn last line cut off) is said in `log`.
  void append(std::string_view lines, const NodeLog& log);
  // fdatasync unless the policy is `never`.
  void sync();

  const std::string& path() const { return options_.path; }

 private:
  void open_first(const NodeLog& log);  // the first append: makes the missing directories, then open()
  void open(const NodeLog& log);
  void drop_torn_tail(const NodeLog& log);  // under the exclusive lock: truncates after the last '\n'
  void close();
  bool path_moved() const;  // the path no longer names our inode (another writer rotated it)
  void rotate(const NodeLog& log);
  void write_all(std::string_view bytes);

  Options options_;
  int fd_ = -1;
  dev_t device_ = 0;
  ino_t inode_ = 0;
  std::uint64_t next_suffix_ = 1;
  std::chrono::steady_clock::time_point last_sync_;
};

}  // namespace sluice::publish
