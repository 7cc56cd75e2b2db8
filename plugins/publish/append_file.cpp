#include "append_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace sluice::publish {

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw std::system_error(errno, std::generic_category(), what + " '" + path + "'");
}

// Holds a flock(2) for one scope: shared by writers appending, exclusive for the work that
// must see the file with no append in progress (dropping a torn tail, the header, rotation).
class FileLock {
 public:
  enum Mode { shared = LOCK_SH, exclusive = LOCK_EX };
  FileLock(int fd, const std::string& path, Mode mode = exclusive) : fd_(fd) {
    while (::flock(fd_, mode) != 0)
      if (errno != EINTR) fail("cannot lock", path);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock() { ::flock(fd_, LOCK_UN); }

 private:
  int fd_;
};

}  // namespace

FsyncPolicy parse_fsync_policy(std::string_view text) {
  if (text == "never") return FsyncPolicy::never;
  if (text == "always") return FsyncPolicy::always;
  if (text == "interval") return FsyncPolicy::interval;
  throw std::invalid_argument("param 'fsync': must be never, always or interval, got '" +
                              std::string(text) + "'");
}

AppendFile::AppendFile(Options options) : options_(std::move(options)) {
  // Nothing is created yet: `sluice check`, and a deploy refused for another node, construct
  // the component too and must leave no file behind. What would fail at the first append is
  // refused here: the file exists and is not writable, or the directory it would be made in
  // (its nearest existing ancestor) is not.
  namespace fs = std::filesystem;
  fs::path existing = options_.path;
  while (!existing.empty() && ::access(existing.c_str(), F_OK) != 0) existing = existing.parent_path();
  if (existing.empty()) existing = ".";
  const bool is_file = existing == fs::path(options_.path);
  std::error_code ec;
  if (is_file && fs::is_directory(existing, ec))
    throw std::runtime_error("cannot open '" + options_.path + "': it is a directory");
  if (!is_file && !fs::is_directory(existing, ec))
    throw std::runtime_error("cannot create '" + options_.path + "': '" + existing.string() + "' is not a directory");
  if (::access(existing.c_str(), W_OK) != 0) fail(is_file ? "cannot open" : "cannot create a file in", existing.string());
  last_sync_ = std::chrono::steady_clock::now();
}

void AppendFile::open_first(const NodeLog& log) {
  const auto parent = std::filesystem::path(options_.path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) throw std::system_error(ec, "cannot create directory '" + parent.string() + "'");
  open(log);
}

AppendFile::~AppendFile() { close(); }

void AppendFile::open(const NodeLog& log) {
  // Readable too: drop_torn_tail() reads the end of this inode, which the path may no longer
  // name once another writer has rotated it.
  fd_ = ::open(options_.path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("cannot open", options_.path);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail("cannot stat", options_.path);
  device_ = st.st_dev;
  inode_ = st.st_ino;
  // Every writer does this under the exclusive lock before its first line, while no append is
  // in progress: so the first one to get the lock is the only one to write the header.
  FileLock lock(fd_, options_.path);
  drop_torn_tail(log);
  if (::fstat(fd_, &st) != 0) fail("cannot stat", options_.path);
  if (st.st_size == 0 && !options_.header.empty()) write_all(options_.header);
}

void AppendFile::drop_torn_tail(const NodeLog& log) {
  // No append is in progress (we hold the exclusive lock), so a file that does not end in
  // '\n' was cut inside a write(2): a SIGKILL stops a write at a page boundary. Without this
  // the next line would be glued to the torn one and both would be unreadable.
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail("cannot stat", options_.path);
  off_t end = st.st_size;
  char block[4096];
  while (end > 0) {
    const off_t begin = end > static_cast<off_t>(sizeof block) ? end - static_cast<off_t>(sizeof block) : 0;
    const ssize_t n = ::pread(fd_, block, static_cast<std::size_t>(end - begin), begin);
    if (n != end - begin) fail("cannot read", options_.path);
    const auto* newline = static_cast<const char*>(::memrchr(block, '\n', static_cast<std::size_t>(n)));
    if (newline) {
      end = begin + (newline - block) + 1;
      break;
    }
    end = begin;
  }
  if (end == st.st_size) return;
  if (::ftruncate(fd_, end) != 0) fail("cannot drop the torn last line of", options_.path);
  log.warn(options_.path + ": dropped a torn last line (" + std::to_string(st.st_size - end) +
           " bytes) left by a crash");
}

void AppendFile::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool AppendFile::path_moved() const {
  struct stat st {};
  if (::stat(options_.path.c_str(), &st) != 0) return true;  // renamed away, not yet recreated
  return st.st_dev != device_ || st.st_ino != inode_;
}

void AppendFile::rotate(const NodeLog& log) {
  {
    FileLock lock(fd_, options_.path);
    // Another writer may have rotated while we waited for the lock: then just follow it.
    if (!path_moved()) {
      for (;; ++next_suffix_) {
        const std::string target = options_.path + "." + std::to_string(next_suffix_);
        if (::link(options_.path.c_str(), target.c_str()) == 0) break;
        if (errno != EEXIST) fail("cannot rotate to", target);
      }
      ++next_suffix_;
      if (::unlink(options_.path.c_str()) != 0) fail("cannot rotate", options_.path);
    }
  }
  close();
  open(log);
}

void AppendFile::append(std::string_view lines, const NodeLog& log) {
  if (fd_ < 0) open_first(log);
  if (options_.rotate_bytes > 0) {
    if (path_moved()) {
      close();
      open(log);
    }
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail("cannot stat", options_.path);
    const auto size = static_cast<std::uint64_t>(st.st_size);
    // A file holding no data yet is never rotated, even when one append exceeds the limit.
    if (size > options_.header.size() && size + lines.size() > options_.rotate_bytes) rotate(log);
  }
  {
    FileLock lock(fd_, options_.path, FileLock::shared);
    write_all(lines);
  }
  switch (options_.fsync) {
    case FsyncPolicy::never: break;
    case FsyncPolicy::always: sync(); break;
    case FsyncPolicy::interval:
      if (std::chrono::steady_clock::now() - last_sync_ >= options_.fsync_interval) sync();
      break;
  }
}

void AppendFile::write_all(std::string_view bytes) {
  // One write(2) normally takes everything; a short write only happens on a full disk or a
  // signal, where the rest follows (and atomicity is lost only in that failure case).
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write", options_.path);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void AppendFile::sync() {
  if (options_.fsync == FsyncPolicy::never || fd_ < 0) return;
  if (::fdatasync(fd_) != 0) fail("cannot fsync", options_.path);
  last_sync_ = std::chrono::steady_clock::now();
}

}  // namespace sluice::publish
