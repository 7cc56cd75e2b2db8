#include "dir_source.hpp"

#include <fcntl.h>
#include <magic.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace sluice::connectors {

namespace fs = std::filesystem;

namespace {

// A file's identity in the ledger: the same path with other contents is a new file.
std::string ledger_entry(const fs::path& file, std::int64_t mtime_ns, std::uintmax_t size) {
  return file.string() + '|' + std::to_string(mtime_ns) + '|' + std::to_string(size);
}

std::int64_t mtime_ns(const fs::path& file) {
  const auto modified = std::chrono::file_clock::to_sys(fs::last_write_time(file));  // the Unix epoch
  return std::chrono::duration_cast<std::chrono::nanoseconds>(modified.time_since_epoch()).count();
}

std::string read_whole(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

ComponentDescriptor DirSource::descriptor() {
  return {.name = "dir_source",
          .version = "1.0.0",
          .summary = "Sends every file of a directory tree, then each new one (a source)",
          .kind = ComponentKind::source,
          .outputs = {{"out", "one packet per file: its bytes in `data`; filename, mimetype, contentlength, mtime meta"}},
          .params = {{.name = "path",
                      .type = ParamType::string,
                      .description = "directory to crawl and watch, inside the server's data directory or an --allow-path",
                      .required = true,
                      .file_path = true},
                     {.name = "recursive",
                      .type = ParamType::boolean,
                      .description = "also the directories below it",
                      .default_value = true},
                     {.name = "watch",
                      .type = ParamType::boolean,
                      .description = "after the crawl, send files as they are written (inotify); false: stop after the crawl",
                      .default_value = true},
                     {.name = "after",
                      .type = ParamType::string,
                      .description = "what to do with a file once its stream is done",
                      .default_value = "keep",
                      .allowed = {"keep", "delete", "move"}},
                     {.name = "move_to",
                      .type = ParamType::string,
                      .description = "with after: move, the directory files are moved into",
                      .file_path = true}},
          .capabilities = {"fs_read", "fs_write"},
          .example = {.description = "Sends each file that lands in the data directory's inbox/ and moves it to done/ once its stream is through",
                      .params = R"(path: inbox
after: move
move_to: done)"}};
}

DirSource::DirSource(const Params& params)
    : root_(params.get_string("path")),
      recursive_(params.get_bool("recursive")),
      watch_(params.get_bool("watch")),
      after_(params.get_string("after")) {
  if (!fs::is_directory(root_)) throw std::invalid_argument("param 'path': " + root_.string() + " is not a directory");
  if (after_ == "move") {
    if (!params.has("move_to")) throw std::invalid_argument("param 'move_to' is required with after: move");
    move_to_ = params.get_string("move_to");
    fs::create_directories(move_to_);
  }
}

void DirSource::done_with(const std::string& entry, const fs::path& file) {
  std::lock_guard lock(mutex_);
  in_flight_.erase(entry);
  done_.insert(entry);
  // One line per finished file, one write(2): in the kernel before the next file is acked.
  if (!ledger_file_.empty()) {
    std::ofstream ledger(ledger_file_, std::ios::app);
    ledger << entry << '\n';
  }
  std::error_code ignored;
  if (after_ == "delete") fs::remove(file, ignored);
  if (after_ == "move") fs::rename(file, move_to_ / file.filename(), ignored);
}

void DirSource::send_file(SourceContext& ctx, const fs::path& file, void* magic) {
  std::error_code failed;
  if (!fs::is_regular_file(file, failed)) return;
  const auto size = fs::file_size(file, failed);
  if (failed) return;
  const std::int64_t mtime = mtime_ns(file);
  const std::string entry = ledger_entry(file, mtime, size);
  {
    std::lock_guard lock(mutex_);
    if (done_.count(entry) || !in_flight_.insert(entry).second) return;
  }
  Packet packet;
  std::string data;
  try {
    data = read_whole(file);
  } catch (const std::exception& e) {
    ctx.log().error(e.what());
    std::lock_guard lock(mutex_);
    in_flight_.erase(entry);
    return;
  }
  const char* type = magic_buffer(static_cast<magic_t>(magic), data.data(), data.size());
  packet.set_bytes("data", std::move(data));
  packet.set_meta(meta::filename, file.string());
  packet.set_meta(meta::mimetype, type ? type : "application/octet-stream");
  packet.set_meta(meta::contentlength, static_cast<std::int64_t>(size));
  packet.set_meta("mtime", mtime / 1000000000);
  packet.set_meta(meta::id, entry);
  std::vector<Packet> one;
  one.push_back(std::move(packet));
  if (!ctx.send(std::move(one), [this, entry, file](const StreamOutcome&) { done_with(entry, file); })) {
    std::lock_guard lock(mutex_);
    in_flight_.erase(entry);
  }
}

void DirSource::produce(SourceContext& ctx) {
  if (!ctx.state_dir().empty()) {
    ledger_file_ = fs::path(ctx.state_dir()) / "ledger";
    std::ifstream ledger(ledger_file_);
    std::lock_guard lock(mutex_);
    for (std::string line; std::getline(ledger, line);) done_.insert(line);
  }
  std::unique_ptr<std::remove_pointer_t<magic_t>, decltype(&magic_close)> magic(magic_open(MAGIC_MIME_TYPE), &magic_close);
  if (!magic || magic_load(magic.get(), nullptr) != 0)
    throw std::runtime_error("libmagic: cannot load its database");

  // Watches first, then the crawl: a file written during the crawl is seen by one or both
  // (the ledger and the in-flight set send it once).
  const int inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify < 0) throw std::runtime_error("inotify_init1 failed");
  std::map<int, fs::path> watched;
  auto watch_dir = [&](const fs::path& dir) {
    if (!watch_) return;
    const int wd = inotify_add_watch(inotify, dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR);
    if (wd >= 0) watched[wd] = dir;
  };
  auto crawl = [&](const fs::path& dir) {
    watch_dir(dir);
    std::error_code failed;
    for (fs::recursive_directory_iterator it(dir, failed), end; it != end && !ctx.stopping(); it.increment(failed)) {
      if (failed) break;
      if (it->is_directory()) {
        if (!recursive_) it.disable_recursion_pending();
        else watch_dir(it->path());
        continue;
      }
      send_file(ctx, it->path(), magic.get());
    }
  };
  crawl(root_);
  char buffer[16 * 1024] __attribute__((aligned(alignof(inotify_event))));
  while (watch_ && !ctx.stopping()) {
    pollfd waiting{inotify, POLLIN, 0};
    if (::poll(&waiting, 1, 100) <= 0) continue;  // wakes to notice stopping()
    const ssize_t n = ::read(inotify, buffer, sizeof buffer);
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      auto dir = watched.find(event->wd);
      if (dir == watched.end() || event->len == 0) continue;
      const fs::path path = dir->second / event->name;
      if (event->mask & IN_ISDIR) {
        if (recursive_ && (event->mask & (IN_CREATE | IN_MOVED_TO))) crawl(path);
      } else if (event->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) {
        send_file(ctx, path, magic.get());
      }
    }
  }
  ::close(inotify);
}

}  // namespace sluice::connectors
