#include "file_tail.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sluice::connectors {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t read_size = 64 * 1024;  // one read, and at most one stream, at a time

bool is_glob(std::string_view text) { return text.find_first_of("*?[") != std::string_view::npos; }

bool is_within(const fs::path& path, const fs::path& dir) {
  const auto [end, ignored] = std::mismatch(dir.begin(), dir.end(), path.begin(), path.end());
  return end == dir.end();
}

}  // namespace

// How far a file is acked: its streams in the order they were sent, each with the offset that
// is safe to resume from once it and every stream before it are done.
struct FileTail::Progress {
  std::string path;
  std::uint64_t acked = 0;
  std::uint64_t next_stream = 0;
  std::map<std::uint64_t, std::pair<std::uint64_t, bool>> streams;  // stream -> (resume offset, done)
  bool closed = false;  // no longer followed: forgotten once its streams are done
};

struct FileTail::OpenFile {
  std::string path;
  int fd = -1;
  std::uint64_t read_offset = 0;    // the next byte to read
  std::string partial;              // a line read so far without its newline
  std::uint64_t partial_start = 0;  // where it starts in the file
  bool skipping = false;            // inside a line longer than max_line_bytes, until its newline
  std::uint64_t skip_start = 0;     // where that line starts
  std::shared_ptr<Progress> progress;
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
  // Where a restart may resume: before any line not sent whole yet.
  std::uint64_t resume_offset() const {
    if (!partial.empty()) return partial_start;
    return skipping ? skip_start : read_offset;
  }
};

ComponentDescriptor FileTail::descriptor() {
  return {.name = "file_tail",
          .version = "1.0.0",
          .summary = "Follows growing files through rotation, a packet per line (a source)",
          .kind = ComponentKind::source,
          .outputs = {{"out", "one packet per line (without its newline) or per chunk read, in `data`; filename, offset meta"}},
          .params = {{.name = "path",
                      .type = ParamType::string,
                      .description = "the file to follow, or a glob in its file name (logs/*.log), inside the server's "
                                     "data directory or an --allow-path",
                      .required = true,
                      .file_path = true},
                     {.name = "start",
                      .type = ParamType::string,
                      .description = "where to begin in a file already there when the node starts and never read "
                                     "before (files that appear later are read from their beginning)",
                      .default_value = "end",
                      .allowed = {"beginning", "end"}},
                     {.name = "mode",
                      .type = ParamType::string,
                      .description = "lines: a packet per line; chunks: a packet per read (up to 64 KiB), raw",
                      .default_value = "lines",
                      .allowed = {"lines", "chunks"}},
                     {.name = "max_line_bytes",
                      .type = ParamType::integer,
                      .description = "a longer line goes to the error port (its first max_line_bytes bytes) and is "
                                     "skipped to its newline",
                      .default_value = 1024 * 1024,
                      .minimum = 1}},
          .capabilities = {"fs_read"},
          .example = {.description = "Follows the application logs from their current end, through rotation",
                      .params = "path: logs/*.log"}};
}

FileTail::FileTail(const Params& params)
    : start_at_end_(params.get_string("start") == "end"),
      chunks_(params.get_string("mode") == "chunks"),
      max_line_bytes_(static_cast<std::size_t>(params.get_int("max_line_bytes"))) {
  const fs::path path = params.get_string("path");
  directory_ = path.parent_path();
  pattern_ = path.filename().string();
  if (pattern_.empty()) throw std::invalid_argument("param 'path': " + path.string() + " names no file");
  if (is_glob(directory_.string()))
    throw std::invalid_argument("param 'path': a glob may only be in the file name, not in " + directory_.string());
  if (!fs::is_directory(directory_))
    throw std::invalid_argument("param 'path': the directory " + directory_.string() + " does not exist");
}

FileTail::~FileTail() = default;

void FileTail::load_offsets() {
  std::ifstream in(offsets_file_);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    FileId id;
    Saved saved;
    if (!(fields >> id.device >> id.inode >> saved.offset)) continue;
    fields.get();  // the space before the path
    std::getline(fields, saved.path);
    saved_[id] = std::move(saved);
  }
}

void FileTail::save_offsets() {
  if (offsets_file_.empty()) return;
  // A new file renamed over the old: a crash leaves one or the other whole.
  const fs::path written = offsets_file_.string() + ".new";
  {
    std::ofstream out(written, std::ios::trunc);
    for (const auto& [id, progress] : progress_)
      out << id.device << ' ' << id.inode << ' ' << progress->acked << ' ' << progress->path << '\n';
  }
  std::error_code failed;
  fs::rename(written, offsets_file_, failed);
}

void FileTail::acked(const std::shared_ptr<Progress>& progress, std::uint64_t stream) {
  std::lock_guard lock(mutex_);
  progress->streams[stream].second = true;
  bool advanced = false;
  while (!progress->streams.empty() && progress->streams.begin()->second.second) {
    progress->acked = progress->streams.begin()->second.first;
    progress->streams.erase(progress->streams.begin());
    advanced = true;
  }
  if (progress->closed && progress->streams.empty()) {
    std::erase_if(progress_, [&](const auto& entry) { return entry.second == progress; });
    advanced = true;
  }
  if (advanced) save_offsets();
}

bool FileTail::send(SourceContext& ctx, OpenFile& file, std::vector<Packet>&& packets, std::uint64_t resume) {
  std::uint64_t stream;
  {
    std::lock_guard lock(mutex_);
    stream = file.progress->next_stream++;
    file.progress->streams[stream] = {resume, false};
  }
  // Nothing to send (a line still partial, the end of a skipped one, a truncation): the offset
  // moves once the streams before it are done.
  if (packets.empty()) {
    acked(file.progress, stream);
    return true;
  }
  if (ctx.send(std::move(packets), [this, progress = file.progress, stream](const StreamOutcome&) {
        acked(progress, stream);
      }))
    return true;
  std::lock_guard lock(mutex_);  // stopping: never sent, so never acked
  file.progress->streams.erase(stream);
  return false;
}

void FileTail::send_lines(SourceContext& ctx, OpenFile& file, std::string_view bytes) {
  std::vector<Packet> packets;
  std::uint64_t at = file.read_offset - bytes.size();  // the file offset of bytes[0]
  auto line_packet = [&](std::string line, std::uint64_t start) {
    Packet packet;
    if (line.size() > max_line_bytes_) {
      line.resize(max_line_bytes_);
      packet.set_meta(meta::error, ctx.node_path() + ": the line at offset " + std::to_string(start) + " of " +
                                       file.path + " is longer than max_line_bytes (" +
                                       std::to_string(max_line_bytes_) + "); skipped to its end");
    }
    packet.set_bytes("data", std::move(line));
    packet.set_meta(meta::filename, file.path);
    packet.set_meta("offset", static_cast<std::int64_t>(start));
    packets.push_back(std::move(packet));
  };
  while (!bytes.empty()) {
    const std::size_t newline = bytes.find('\n');
    const std::string_view piece = bytes.substr(0, newline);
    if (file.skipping) {
      if (newline != std::string_view::npos) file.skipping = false;
    } else {
      if (file.partial.empty()) file.partial_start = at;
      file.partial.append(piece);
      if (newline != std::string_view::npos || file.partial.size() > max_line_bytes_) {
        if (newline == std::string_view::npos) {  // too long already: the rest is skipped
          file.skipping = true;
          file.skip_start = file.partial_start;
        }
        line_packet(std::exchange(file.partial, {}), file.partial_start);
      }
    }
    if (newline == std::string_view::npos) break;
    at += newline + 1;
    bytes.remove_prefix(newline + 1);
  }
  send(ctx, file, std::move(packets), file.resume_offset());
}

void FileTail::read_new(SourceContext& ctx, OpenFile& file) {
  struct stat status{};
  if (::fstat(file.fd, &status) != 0) return;
  if (static_cast<std::uint64_t>(status.st_size) < file.read_offset) {
    // Truncated in place (copytruncate): what it holds now is new.
    file.read_offset = 0;
    file.partial.clear();
    file.skipping = false;
    if (!send(ctx, file, {}, 0)) return;
  }
  std::string buffer(read_size, '\0');
  while (!ctx.stopping()) {
    const ssize_t n = ::pread(file.fd, buffer.data(), buffer.size(), static_cast<off_t>(file.read_offset));
    if (n <= 0) return;
    file.read_offset += static_cast<std::uint64_t>(n);
    const std::string_view bytes(buffer.data(), static_cast<std::size_t>(n));
    if (!chunks_) {
      send_lines(ctx, file, bytes);
      continue;
    }
    Packet packet;
    packet.set_bytes("data", std::string(bytes));
    packet.set_meta(meta::filename, file.path);
    packet.set_meta("offset", static_cast<std::int64_t>(file.read_offset - bytes.size()));
    std::vector<Packet> one;
    one.push_back(std::move(packet));
    if (!send(ctx, file, std::move(one), file.read_offset)) return;
  }
}

void FileTail::close_file(SourceContext& ctx, OpenFile& file) {
  // Renamed away or deleted: nothing more will be written to it once it is read to its end,
  // so a last line without its newline goes as it is.
  read_new(ctx, file);
  if (!file.partial.empty() && !ctx.stopping()) send_lines(ctx, file, "\n");
  std::lock_guard lock(mutex_);
  file.progress->closed = true;
  if (file.progress->streams.empty()) {
    std::erase_if(progress_, [&](const auto& entry) { return entry.second == file.progress; });
    save_offsets();
  }
}

void FileTail::scan(SourceContext& ctx, bool first_scan) {
  std::map<FileId, std::string> found;
  auto consider = [&](const fs::path& path) {
    struct stat status{};
    if (::stat(path.c_str(), &status) != 0 || !S_ISREG(status.st_mode)) return;
    // A symlink may lead out of the directories the kernel checked the path against.
    std::error_code failed;
    if (!is_within(fs::canonical(path, failed), directory_) || failed) return;
    found.emplace(FileId{status.st_dev, status.st_ino}, path.string());
  };
  if (!is_glob(pattern_)) {
    consider(directory_ / pattern_);
  } else {
    std::error_code failed;
    for (const auto& entry : fs::directory_iterator(directory_, failed))
      if (::fnmatch(pattern_.c_str(), entry.path().filename().c_str(), FNM_PERIOD) == 0) consider(entry.path());
  }

  // Files gone from the pattern first: the old log's last lines come before the new one's.
  for (auto it = open_.begin(); it != open_.end();) {
    if (found.count(it->first)) {
      ++it;
      continue;
    }
    close_file(ctx, *it->second);
    it = open_.erase(it);
  }
  for (const auto& [id, path] : found) {
    auto& file = open_[id];
    if (file) {
      if (file->path != path) {  // renamed, still matching the pattern: the same file
        file->path = path;
        std::lock_guard lock(mutex_);
        file->progress->path = path;
      }
      continue;
    }
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      ctx.log().warn("cannot open " + path + ": " + std::strerror(errno));
      open_.erase(id);
      continue;
    }
    file = std::make_unique<OpenFile>();
    file->fd = fd;
    file->path = path;
    struct stat status{};
    ::fstat(fd, &status);
    const auto size = static_cast<std::uint64_t>(status.st_size);
    std::lock_guard lock(mutex_);
    auto& progress = progress_[id];
    if (!progress) {
      progress = std::make_shared<Progress>();
      const auto saved = saved_.find(id);
      const bool seen_path = std::any_of(saved_.begin(), saved_.end(), [&](const auto& s) { return s.second.path == path; });
      if (saved != saved_.end() && saved->second.offset <= size)
        progress->acked = saved->second.offset;
      else if (first_scan && start_at_end_ && !seen_path)
        progress->acked = size;
    }
    progress->path = path;
    progress->closed = false;
    file->progress = progress;
    file->read_offset = progress->acked;
  }
  for (auto& [id, file] : open_) {
    if (ctx.stopping()) return;
    read_new(ctx, *file);
  }
}

void FileTail::produce(SourceContext& ctx) {
  if (!ctx.state_dir().empty()) {
    offsets_file_ = fs::path(ctx.state_dir()) / "offsets";
    load_offsets();
  }
  // The watch wakes the loop at once; the timeout covers what it cannot see (a file written
  // through a hard link elsewhere) and lets it notice stopping().
  const int inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify < 0) throw std::runtime_error("inotify_init1 failed");
  if (inotify_add_watch(inotify, directory_.c_str(),
                        IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE) < 0) {
    ::close(inotify);
    throw std::runtime_error("cannot watch " + directory_.string() + ": " + std::strerror(errno));
  }
  char events[16 * 1024] __attribute__((aligned(alignof(inotify_event))));
  for (bool first_scan = true; !ctx.stopping(); first_scan = false) {
    scan(ctx, first_scan);
    pollfd waiting{inotify, POLLIN, 0};
    if (::poll(&waiting, 1, 250) > 0)
      while (::read(inotify, events, sizeof events) > 0) {
      }
  }
  ::close(inotify);
  open_.clear();
}

}  // namespace sluice::connectors
