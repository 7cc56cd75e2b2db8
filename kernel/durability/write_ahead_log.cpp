#include "durability/write_ahead_log.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <system_error>
#include <unordered_set>

#include <sluice/json.hpp>

#include "support/files.hpp"
#include "support/log.hpp"

namespace sluice {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view record_magic = "SWAL";
constexpr std::size_t header_size = 4 + 4 + 8;  // magic, body length, checksum
// Type 1, a submission whose every packet is a whole envelope, is what earlier versions wrote:
// still read, no longer written.
// Types 1 and 3 are written by older versions, read still.
enum RecordType : unsigned char {
  submission_record = 1,
  completion_record = 2,
  shared_meta_submission_record = 3,
  versioned_submission_record = 4,  // shared meta and the graph's version
};

void put_u32(std::string& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

void put_u64(std::string& out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

std::uint64_t get_le(std::string_view bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = bytes.size(); i-- > 0;) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

void put_string(std::string& out, std::string_view text) {
  put_u32(out, static_cast<std::uint32_t>(text.size()));
  out += text;
}

// A record is built in place: start_record() leaves room for the header, which
// finish_record() fills in once the body follows it (no copy of a body of many packets).
std::string start_record() { return std::string(header_size, '\0'); }

std::string finish_record(std::string record) {
  const std::string_view body = std::string_view(record).substr(header_size);
  std::string header(record_magic);
  put_u32(header, static_cast<std::uint32_t>(body.size()));
  put_u64(header, XXH3_64bits(body.data(), body.size()));
  record.replace(0, header_size, header);
  return record;
}

// The meta entries every packet of a submission has with one value (REST sets the route, the
// method and the processing time on each) are written once per record, not once per packet.
// The ingress sets each packet's meta in one order, so an entry is compared with the entry at
// its place in the first packet and looked up by name only where the order differs (a lookup
// per entry per packet was 5 % of logged NDJSON ingest).
class SharedMeta {
 public:
  explicit SharedMeta(const std::vector<Packet>& packets) {
    if (packets.size() < 2) return;
    first_ = &packets.front().meta();
    shared_at_.assign(first_->size(), true);
    for (std::size_t i = 1; i < packets.size(); ++i) {
      const Object& meta = packets[i].meta();
      for (std::size_t j = 0; j < shared_at_.size(); ++j) {
        if (!shared_at_[j]) continue;
        const auto& [key, value] = first_->begin()[j];
        const Value* other = j < meta.size() && meta.begin()[j].first == key ? &meta.begin()[j].second : meta.find(key);
        shared_at_[j] = other && *other == value;
      }
    }
    for (std::size_t j = 0; j < shared_at_.size(); ++j)
      if (shared_at_[j]) entries_.append_unchecked(first_->begin()[j].first, first_->begin()[j].second);
  }

  const Object& entries() const { return entries_; }

  // `{"key":value,...}` of the packet's meta entries that are not shared.
  void write_own(const Object& meta, std::string& out) const {
    out += '{';
    bool first = true;
    std::size_t j = 0;
    for (auto member = meta.begin(); member != meta.end(); ++member, ++j) {
      const bool in_place = first_ && j < shared_at_.size() && first_->begin()[j].first == member->first;
      if (in_place ? shared_at_[j] : entries_.contains(member->first)) continue;
      if (!first) out += ',';
      first = false;
      json::write(Value(member->first), out);
      out += ':';
      json::write(member->second, out);
    }
    out += '}';
  }

 private:
  const Object* first_ = nullptr;  // the first packet's meta, null below two packets
  std::vector<bool> shared_at_;    // by place in *first_
  Object entries_;
};

// A packet's envelope without the shared meta, which the reader appends after the packet's own
// entries (the ingress sets the id first, so its packets come back with their meta in order).
// Its fields are `fields_text` when given (JSON that parses to them), else written out. A
// packet with field meta is written whole: the shared entries it repeats are set again to
// the same values.
void write_compact_envelope(const Packet& packet, const SharedMeta& shared, std::string_view fields_text,
                            std::string& out) {
  if (!packet.field_meta().empty()) {
    json::write_envelope(packet, out);
    return;
  }
  out += R"({"fields":)";
  if (fields_text.empty())
    json::write_fields(packet, out);
  else
    out += fields_text;
  out += R"(,"meta":)";
  shared.write_own(packet.meta(), out);
  out += '}';
}

// The body of an intact record starting at `offset`, or nullopt (cut short, or damaged).
std::optional<std::string_view> intact_body(std::string_view data, std::size_t offset) {
  if (data.size() - offset < header_size || data.substr(offset, 4) != record_magic) return std::nullopt;
  const std::uint64_t length = get_le(data.substr(offset + 4, 4));
  if (length > data.size() - offset - header_size) return std::nullopt;
  const std::string_view body = data.substr(offset + header_size, length);
  if (XXH3_64bits(body.data(), body.size()) != get_le(data.substr(offset + 8, 8))) return std::nullopt;
  return body;
}

// Reads the fields of a body in order; any overrun throws (a bug-damaged record that still
// passed its checksum is counted as corrupt, never trusted).
struct BodyReader {
  std::string_view rest;
  std::uint64_t number(std::size_t bytes) {
    if (rest.size() < bytes) throw std::runtime_error("record body too short");
    const std::uint64_t value = get_le(rest.substr(0, bytes));
    rest.remove_prefix(bytes);
    return value;
  }
  std::string_view text() {
    const std::size_t length = number(4);
    if (rest.size() < length) throw std::runtime_error("record body too short");
    const std::string_view value = rest.substr(0, length);
    rest.remove_prefix(length);
    return value;
  }
};

[[noreturn]] void fail(const std::string& what, const fs::path& path) {
  throw std::system_error(errno, std::generic_category(), what + " " + path.string());
}

std::string errno_text(const std::string& what, const fs::path& path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

fs::path segment_path(const fs::path& dir, std::uint64_t number) {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.wal", static_cast<unsigned long long>(number));
  return dir / name;
}

// The number of a segment file name, or 0 for anything else in the directory.
std::uint64_t segment_number(const fs::path& file) {
  const std::string name = file.filename().string();
  if (name.size() != 24 || !name.ends_with(".wal")) return 0;
  std::uint64_t number = 0;
  for (std::size_t i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return 0;
    number = number * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  return number;
}

// A new file's name reaches the disk only when its directory is synced.
void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("cannot open", dir);
  const int result = ::fsync(fd);
  ::close(fd);
  if (result != 0) fail("cannot fsync", dir);
}

// The segment files in `dir`, oldest first.
std::vector<std::pair<std::uint64_t, fs::path>> segment_files(const fs::path& dir) {
  std::vector<std::pair<std::uint64_t, fs::path>> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (const std::uint64_t number = segment_number(entry.path())) files.emplace_back(number, entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// What the readable records of the segments say, in the order they were logged.
struct LoggedRecords {
  std::vector<std::pair<LoggedSubmission, std::uint64_t>> submissions;  // with their segment
  std::unordered_set<std::uint64_t> completed;
  std::uint64_t highest_id = 0;
};

// The rest of a submission record of `type` after its id.
LoggedSubmission read_submission(BodyReader& reader, std::uint64_t type, std::uint64_t id) {
  LoggedSubmission submission{.id = id, .graph = std::string(reader.text()), .node = std::string(reader.text())};
  if (type == versioned_submission_record) submission.version = std::string(reader.text());
  Object shared;
  if (type == shared_meta_submission_record || type == versioned_submission_record) {
    Value line = json::parse(reader.text());
    if (!line.is_object()) throw std::runtime_error("shared meta is not an object");
    shared = std::move(line.as_object());
  }
  json::for_each_ndjson(reader.rest, [&](Value&& envelope, std::size_t) {
    Packet packet = json::envelope_to_packet(std::move(envelope));
    for (const auto& [key, value] : shared) packet.set_meta(key, value);
    submission.packets.push_back(std::move(packet));
  });
  return submission;
}

// Adds the record of an intact `body` in `segment` to `records`; throws, adding nothing, when
// the body cannot be read.
void read_record(std::string_view body, std::uint64_t segment, LoggedRecords& records) {
  BodyReader reader{body};
  const auto type = reader.number(1);
  const std::uint64_t id = reader.number(8);
  if (type == submission_record || type == shared_meta_submission_record || type == versioned_submission_record)
    records.submissions.emplace_back(read_submission(reader, type, id), segment);
  else if (type == completion_record)
    records.completed.insert(id);
  else
    throw std::runtime_error("unknown record type " + std::to_string(type));
  records.highest_id = std::max(records.highest_id, id);
}

// The offset of the first intact record after `offset`, or npos.
std::size_t next_intact_record(std::string_view data, std::size_t offset) {
  std::size_t next = offset;
  while ((next = data.find(record_magic, next + 1)) != std::string_view::npos && !intact_body(data, next)) {
  }
  return next;
}

// The start of a warning about the record at `offset` of the segment at `path`.
std::string warning_at(const fs::path& path, std::size_t offset) {
  return path.string() + ": offset " + std::to_string(offset) + ": ";
}

void count_corrupt(WalRecovery& recovery, std::string warning) {
  ++recovery.corrupt;
  recovery.warnings.push_back(std::move(warning));
}

// Damage from `offset` to the end of a segment, with no intact record after it: in the newest
// segment a torn tail, dropped; elsewhere corrupt.
void drop_damaged_end(const fs::path& path, std::size_t offset, std::size_t segment_size, bool newest,
                      WalRecovery& recovery) {
  const std::string bytes = std::to_string(segment_size - offset);
  if (!newest) {
    count_corrupt(recovery, warning_at(path, offset) + bytes + " damaged bytes at the end skipped");
    return;
  }
  ++recovery.torn;
  recovery.warnings.push_back(warning_at(path, offset) + "torn tail of " + bytes + " bytes dropped");
  // Cut it off, so that the next start does not report it again.
  if (::truncate(path.c_str(), static_cast<off_t>(offset)) != 0) fail("cannot truncate", path);
}

// Reads the records of segment `number` at `path` into `records`, noting what is damaged in
// `recovery`.
void read_segment(std::uint64_t number, const fs::path& path, bool newest, LoggedRecords& records,
                  WalRecovery& recovery) {
  const std::string data = read_file(path);
  std::size_t offset = 0;
  while (offset < data.size()) {
    if (const auto body = intact_body(data, offset)) {
      try {
        read_record(*body, number, records);
      } catch (const std::exception& e) {
        count_corrupt(recovery, warning_at(path, offset) + "unreadable record skipped (" + e.what() + ")");
      }
      offset += header_size + body->size();
      continue;
    }
    // Damaged or cut short: go on at the next intact record, if there is one.
    const std::size_t next = next_intact_record(data, offset);
    if (next == std::string_view::npos) {
      drop_damaged_end(path, offset, data.size(), newest, recovery);
      return;
    }
    count_corrupt(recovery,
                  warning_at(path, offset) + std::to_string(next - offset) + " damaged bytes skipped");
    offset = next;
  }
}

}  // namespace

struct WriteAheadLog::Segment {
  std::uint64_t number = 0;
  fs::path path;
  int fd = -1;
  std::uint64_t size = 0;
  ~Segment() {
    if (fd >= 0) ::close(fd);
  }
};

WriteAheadLog::WriteAheadLog(WriteAheadLogOptions options, WalRecovery& recovery) : options_(std::move(options)) {
  // Finished work leaves only with its segment: several segments must fit within the limit.
  if (options_.max_bytes > 0)
    options_.segment_bytes = std::min(options_.segment_bytes, std::max<std::uint64_t>(options_.max_bytes / 4, 1));
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec) throw std::system_error(ec, "cannot create " + options_.dir.string());
  // Two processes on one log would replay and delete each other's submissions.
  const fs::path lock_file = options_.dir / "lock";
  lock_fd_ = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) fail("cannot open", lock_file);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(lock_fd_);
    throw std::system_error(error, std::generic_category(),
                            "another process uses the write-ahead log in " + options_.dir.string());
  }
  if (!options_.sync_journal.empty()) {
    sync_journal_fd_ = ::open(options_.sync_journal.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (sync_journal_fd_ < 0) fail("cannot open", options_.sync_journal);
  }
  recover(recovery);
  {
    std::lock_guard lock(mutex_);
    delete_finished_segments();
    open_new_segment();
  }
  sync_thread_ = std::thread([this] { sync_loop(); });
}

WriteAheadLog::~WriteAheadLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  sync_wanted_.notify_all();
  sync_thread_.join();
  if (sync_journal_fd_ >= 0) ::close(sync_journal_fd_);
  ::close(lock_fd_);  // and with it the lock
}

void WriteAheadLog::recover(WalRecovery& recovery) {
  const auto files = segment_files(options_.dir);
  LoggedRecords records;
  for (const auto& [number, path] : files)
    read_segment(number, path, number == files.back().first, records, recovery);

  for (const auto& [number, path] : files) {
    pending_in_segment_[number] = 0;
    segment_bytes_[number] = fs::file_size(path);
    total_bytes_ += segment_bytes_[number];
  }
  for (auto& [submission, number] : records.submissions) {
    if (records.completed.contains(submission.id)) continue;
    ++pending_in_segment_[number];
    segment_of_pending_[submission.id] = number;
    recovery.pending.push_back(std::move(submission));
  }
  next_id_ = records.highest_id + 1;
  next_segment_ = files.empty() ? 1 : files.back().first + 1;
  counters_.recovered = recovery.pending.size();
  counters_.torn = recovery.torn;
  counters_.corrupt = recovery.corrupt;
}

void WriteAheadLog::open_new_segment() {
  auto segment = std::make_shared<Segment>();
  segment->number = next_segment_++;
  segment->path = segment_path(options_.dir, segment->number);
  segment->fd = ::open(segment->path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (segment->fd < 0) fail("cannot create", segment->path);
  sync_directory(options_.dir);
  pending_in_segment_[segment->number] = 0;
  segment_bytes_[segment->number] = 0;
  current_ = std::move(segment);
}

void WriteAheadLog::move_to_new_segment() {
  if (unsynced_) left_unsynced_.push_back(current_);
  open_new_segment();
}

std::string WriteAheadLog::write_record(const std::string& record) {
  if (current_->size > 0 && current_->size + record.size() > options_.segment_bytes) {
    try {
      move_to_new_segment();
    } catch (const std::system_error& e) {
      return e.what();
    }
  }
  std::string_view rest = record;
  while (!rest.empty()) {
    const ssize_t n = ::write(current_->fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string error = errno_text("cannot write", current_->path);
      // A part of a record would read as damage: take it back.
      if (::ftruncate(current_->fd, static_cast<off_t>(current_->size)) != 0) error += " (and cannot truncate it back)";
      return error;
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  current_->size += record.size();
  segment_bytes_[current_->number] += record.size();
  total_bytes_ += record.size();
  ++counters_.records_written;
  counters_.bytes_written += record.size();
  unsynced_ = true;
  return {};
}

namespace {

// What the envelopes of packets[1..] will take, near enough, when the first took `first_bytes`:
// their field texts where given, else as much as the first.
std::size_t rest_size(const std::vector<Packet>& packets, const std::vector<std::string_view>& field_texts,
                      std::size_t first_bytes) {
  if (field_texts.size() != packets.size()) return (packets.size() - 1) * first_bytes;
  const std::size_t envelope = first_bytes > field_texts[0].size() ? first_bytes - field_texts[0].size() : 0;
  std::size_t bytes = (packets.size() - 1) * envelope;
  for (std::size_t i = 1; i < field_texts.size(); ++i) bytes += field_texts[i].size();
  return bytes;
}

}  // namespace

void WriteAheadLog::append_submission(std::string_view graph, std::string_view node, std::string_view version,
                                      const std::vector<Packet>& packets,
                                      const std::vector<std::string_view>& field_texts, OnDurable on_durable) {
  const std::uint64_t id = next_id_.fetch_add(1);
  std::string record = start_record();
  record += static_cast<char>(versioned_submission_record);
  put_u64(record, id);
  put_string(record, graph);
  put_string(record, node);
  put_string(record, version);
  const SharedMeta shared(packets);
  std::string shared_text;
  json::write(Value(shared.entries()), shared_text);
  put_string(record, shared_text);
  const bool with_texts = field_texts.size() == packets.size();
  for (std::size_t i = 0; i < packets.size(); ++i) {
    const std::size_t before = record.size();
    write_compact_envelope(packets[i], shared, with_texts ? field_texts[i] : std::string_view(), record);
    record += '\n';
    // Room for the rest, sized by the first (growing by doubling copied a bulk record twice).
    if (i == 0 && packets.size() > 1) record.reserve(record.size() + rest_size(packets, field_texts, record.size() - before));
  }
  record = finish_record(std::move(record));

  std::unique_lock lock(mutex_);
  if (!owed_completions_.empty()) write_owed_completions();
  if (!fits(record.size())) {
    lock.unlock();
    on_durable({.error = "the write-ahead log is at its limit of " + std::to_string(options_.max_bytes) + " bytes",
                .full = true});
    return;
  }
  if (std::string error = write_record(record); !error.empty()) {
    lock.unlock();
    on_durable({.error = std::move(error)});
    return;
  }
  ++pending_in_segment_[current_->number];
  segment_of_pending_[id] = current_->number;
  if (options_.sync == SyncPolicy::every_append) {
    waiting_for_sync_.push_back({id, std::move(on_durable)});
    lock.unlock();
    sync_wanted_.notify_one();
    return;
  }
  lock.unlock();
  on_durable({.id = id});
}

bool WriteAheadLog::fits(std::uint64_t bytes) {
  if (options_.max_bytes == 0 || total_bytes_ + bytes <= options_.max_bytes) return true;
  // The segment being written may hold finished work only: move on, and it can go.
  if (current_->size == 0 || pending_in_segment_[current_->number] > 0) return false;
  try {
    move_to_new_segment();
  } catch (const std::system_error&) {
    return false;
  }
  delete_finished_segments();
  return total_bytes_ + bytes <= options_.max_bytes;
}

void WriteAheadLog::append_completion(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  if (!segment_of_pending_.contains(id)) return;
  owed_completions_.push_back(id);
  write_owed_completions();
}

void WriteAheadLog::write_owed_completions() {
  std::size_t written = 0;
  for (; written < owed_completions_.size(); ++written) {
    const std::uint64_t id = owed_completions_[written];
    std::string record = start_record();
    record += static_cast<char>(completion_record);
    put_u64(record, id);
    // Not written: tried again before the next record. Should the process end first, the
    // submission is replayed at the next start: a duplicate, not a loss.
    if (!write_record(finish_record(std::move(record))).empty()) break;
    const auto found = segment_of_pending_.find(id);
    --pending_in_segment_[found->second];
    segment_of_pending_.erase(found);
  }
  owed_completions_.erase(owed_completions_.begin(), owed_completions_.begin() + static_cast<std::ptrdiff_t>(written));
  if (written > 0) delete_finished_segments();
}

bool WriteAheadLog::sync_segment(const Segment& segment, std::uint64_t size) {
  if (::fdatasync(segment.fd) != 0) return false;
  if (sync_journal_fd_ >= 0) {
    const std::string line = segment.path.filename().string() + " " + std::to_string(size) + "\n";
    // One write(2) to an O_APPEND file: lines from concurrent syncs do not mix.
    if (::write(sync_journal_fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      log::warn("cannot write the sync journal {}: {}", options_.sync_journal.string(), std::strerror(errno));
  }
  return true;
}

void WriteAheadLog::delete_finished_segments() {
  for (auto it = pending_in_segment_.begin(); it != pending_in_segment_.end();) {
    const auto [number, pending] = *it;
    if (pending > 0 || (current_ && number == current_->number)) return;
    const fs::path path = segment_path(options_.dir, number);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return;  // kept; tried again at the next completion
    total_bytes_ -= segment_bytes_[number];
    segment_bytes_.erase(number);
    it = pending_in_segment_.erase(it);
  }
}

void WriteAheadLog::sync_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    sync_wanted_.wait_for(lock, options_.sync_interval, [this] { return stopping_ || !waiting_for_sync_.empty(); });
    if (!unsynced_ && waiting_for_sync_.empty()) {
      if (stopping_) return;
      continue;
    }
    std::vector<Waiter> batch = std::move(waiting_for_sync_);
    waiting_for_sync_.clear();
    std::vector<std::shared_ptr<Segment>> segments = take_left_unsynced();
    segments.push_back(current_);
    const std::uint64_t size = current_->size;  // what this sync covers of the current segment
    unsynced_ = false;
    lock.unlock();

    const auto started = std::chrono::steady_clock::now();
    std::string error;
    std::vector<std::shared_ptr<Segment>> failed;
    for (const auto& segment : segments) {
      // A left segment no longer grows: its size is all it holds.
      if (sync_segment(*segment, segment == segments.back() ? size : segment->size)) continue;
      if (error.empty()) error = errno_text("cannot fdatasync", segment->path);
      if (segment != segments.back()) failed.push_back(segment);
    }
    const auto took = std::chrono::steady_clock::now() - started;

    lock.lock();
    if (!error.empty() && !stopping_) {  // tried again at the next round
      unsynced_ = true;
      left_unsynced_.insert(left_unsynced_.begin(), failed.begin(), failed.end());
    }
    ++counters_.syncs;  // counted before the answers, so whoever was answered sees it
    counters_.sync_nanoseconds += static_cast<std::uint64_t>(std::chrono::nanoseconds(took).count());
    const auto micros = static_cast<std::uint64_t>(std::chrono::ceil<std::chrono::microseconds>(took).count());
    ++counters_.syncs_by_latency[static_cast<std::size_t>(
        std::lower_bound(wal_sync_bucket_bounds_us.begin(), wal_sync_bucket_bounds_us.end(), micros) -
        wal_sync_bucket_bounds_us.begin())];
    lock.unlock();
    for (auto& waiter : batch) waiter.on_durable({.id = waiter.id, .error = error});
    lock.lock();
  }
}

bool WriteAheadLog::sync() {
  std::lock_guard lock(mutex_);
  bool synced = true;
  for (const auto& segment : take_left_unsynced()) synced = sync_segment(*segment, segment->size) && synced;
  return sync_segment(*current_, current_->size) && synced;
}

std::vector<std::shared_ptr<WriteAheadLog::Segment>> WriteAheadLog::take_left_unsynced() {
  std::vector<std::shared_ptr<Segment>> segments = std::move(left_unsynced_);
  left_unsynced_.clear();
  // One already deleted (all its work done) needs no sync.
  std::erase_if(segments, [this](const auto& segment) { return !pending_in_segment_.contains(segment->number); });
  return segments;
}

WalStats WriteAheadLog::stats() const {
  std::lock_guard lock(mutex_);
  WalStats stats = counters_;
  stats.bytes = total_bytes_;
  stats.segments = pending_in_segment_.size();
  stats.pending = segment_of_pending_.size();
  return stats;
}

}  // namespace sluice
