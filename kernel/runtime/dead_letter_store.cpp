#include "runtime/dead_letter_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <sluice/json.hpp>

#include "runtime/packet_bytes.hpp"
#include "support/files.hpp"
#include "support/log.hpp"

namespace sluice {

namespace {

std::size_t letter_bytes(const DeadLetter& letter) {
  return packet_bytes(letter.packet) + letter.node.capacity() + letter.error.capacity();
}

std::string add_record(const DeadLetter& letter) {
  std::string line;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(letter.when.time_since_epoch()).count();
  json::write(Object{{"add", letter.id}, {"node", letter.node}, {"error", letter.error}, {"when", ms}}, line);
  line.pop_back();  // the closing brace: the packet follows as it is written
  line += ",\"packet\":";
  json::write_envelope(letter.packet, line);
  line += "}\n";
  return line;
}

std::string remove_record(const std::vector<std::uint64_t>& ids) {
  Array list;
  for (auto id : ids) list.push_back(id);
  std::string line;
  json::write(Object{{"remove", std::move(list)}}, line);
  line += '\n';
  return line;
}

// A key of a journal record; a line that lacks it is damaged (and skipped, as a torn one is).
Value& field(Value& record, std::string_view key) {
  Value* value = record.is_object() ? record.get(key) : nullptr;
  if (!value) throw std::runtime_error("no '" + std::string(key) + "'");
  return *value;
}

}  // namespace

DeadLetterStore::DeadLetterStore(std::size_t capacity, std::size_t capacity_bytes, std::filesystem::path journal)
    : capacity_(capacity), capacity_bytes_(capacity_bytes), journal_(std::move(journal)) {
  if (journal_.empty()) return;
  std::lock_guard lock(mutex_);
  load();
  compact_locked();  // also opens the journal for appending
}

DeadLetterStore::~DeadLetterStore() {
  if (journal_fd_ >= 0) ::close(journal_fd_);
}

void DeadLetterStore::load() {
  std::ifstream in(journal_, std::ios::binary);
  if (!in) return;  // none yet
  std::string line;
  std::size_t line_number = 0, unreadable = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty()) continue;
    try {
      Value record = json::parse(line);
      if (record.is_object() && record.get("remove")) {
        std::vector<std::uint64_t> removed;
        for (const auto& id : field(record, "remove").as_array()) removed.push_back(static_cast<std::uint64_t>(id.as_int()));
        std::erase_if(letters_, [&](const DeadLetter& l) {
          return std::find(removed.begin(), removed.end(), l.id) != removed.end();
        });
        continue;
      }
      DeadLetter letter{static_cast<std::uint64_t>(field(record, "add").as_int()), field(record, "node").as_string(),
                        field(record, "error").as_string(),
                        std::chrono::system_clock::time_point(std::chrono::milliseconds(field(record, "when").as_int())),
                        json::envelope_to_packet(std::move(field(record, "packet")))};
      std::erase_if(letters_, [&](const DeadLetter& l) { return l.id == letter.id; });  // a put_back
      next_id_ = std::max(next_id_, letter.id + 1);
      letters_.push_back(std::move(letter));
    } catch (const std::exception& e) {
      // A torn last line after a crash, or a damaged one: the others are still good.
      ++unreadable;
      log::warn("dead letters {}:{}: skipped an unreadable record ({})", journal_.string(), line_number, e.what());
    }
  }
  std::sort(letters_.begin(), letters_.end(), [](const DeadLetter& a, const DeadLetter& b) { return a.id < b.id; });
  bytes_ = 0;
  for (const auto& l : letters_) bytes_ += letter_bytes(l);
  std::string ignored;
  evict_locked(ignored);
  if (!letters_.empty() || unreadable)
    log::info("dead letters {}: {} loaded, {} unreadable record(s) skipped", journal_.string(), letters_.size(),
              unreadable);
}

void DeadLetterStore::compact_locked() {
  if (journal_.empty()) return;
  std::string text;
  for (const auto& l : letters_) text += add_record(l);
  std::error_code ec;
  std::filesystem::create_directories(journal_.parent_path(), ec);
  try {
    replace_file(journal_, text, 0600);
  } catch (const std::runtime_error& e) {
    log::error("dead letters {}: {}; they are kept in memory only", journal_.string(), e.what());
    if (journal_fd_ >= 0) ::close(journal_fd_);
    journal_fd_ = -1;
    journal_.clear();
    return;
  }
  if (journal_fd_ >= 0) ::close(journal_fd_);
  journal_fd_ = ::open(journal_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  journal_records_ = letters_.size();
}

void DeadLetterStore::append_locked(const std::string& lines) {
  if (journal_fd_ < 0 || lines.empty()) return;
  // One write(2): in the kernel when it returns, so a kill of the process loses nothing.
  for (std::size_t off = 0; off < lines.size();) {
    const ssize_t n = ::write(journal_fd_, lines.data() + off, lines.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      log::error("dead letters {}: cannot append ({})", journal_.string(), std::strerror(errno));
      return;
    }
    off += static_cast<std::size_t>(n);
  }
  journal_records_ += static_cast<std::size_t>(std::count(lines.begin(), lines.end(), '\n'));
  // Removed letters leave their records behind: rewrite once they are most of the file.
  if (journal_records_ > 2 * letters_.size() + 1024) compact_locked();
}

void DeadLetterStore::evict_locked(std::string& journal_lines) {
  std::vector<std::uint64_t> evicted;
  // The newest letter stays even when it alone is over the byte bound.
  while (letters_.size() > capacity_ || (bytes_ > capacity_bytes_ && letters_.size() > 1)) {
    bytes_ -= letter_bytes(letters_.front());
    evicted.push_back(letters_.front().id);
    letters_.pop_front();
    ++dropped_;
  }
  if (!evicted.empty()) journal_lines += remove_record(evicted);
}

void DeadLetterStore::add(std::string node, std::string error, Packet&& packet) {
  std::lock_guard lock(mutex_);
  letters_.push_back({next_id_++, std::move(node), std::move(error),
                      std::chrono::system_clock::now(), std::move(packet)});
  bytes_ += letter_bytes(letters_.back());
  std::string lines;
  if (journal_fd_ >= 0) lines = add_record(letters_.back());
  evict_locked(lines);
  append_locked(lines);
}

std::vector<DeadLetter> DeadLetterStore::list() const {
  std::lock_guard lock(mutex_);
  std::vector<DeadLetter> out;
  out.reserve(letters_.size());
  for (const auto& l : letters_) out.push_back({l.id, l.node, l.error, l.when, l.packet.clone()});
  return out;
}

std::vector<DeadLetter> DeadLetterStore::take(const std::vector<std::uint64_t>& ids) {
  std::lock_guard lock(mutex_);
  std::vector<DeadLetter> out;
  auto wanted = [&](const DeadLetter& l) {
    return ids.empty() || std::find(ids.begin(), ids.end(), l.id) != ids.end();
  };
  std::vector<std::uint64_t> taken;
  for (auto& l : letters_)
    if (wanted(l)) {
      bytes_ -= letter_bytes(l);
      taken.push_back(l.id);
      out.push_back(std::move(l));
    }
  std::erase_if(letters_, wanted);
  if (!taken.empty()) append_locked(remove_record(taken));
  return out;
}

void DeadLetterStore::put_back(std::vector<DeadLetter>&& letters) {
  std::lock_guard lock(mutex_);
  std::string lines;
  for (auto& letter : letters) {
    bytes_ += letter_bytes(letter);
    if (journal_fd_ >= 0) lines += add_record(letter);
    letters_.push_back(std::move(letter));
  }
  std::sort(letters_.begin(), letters_.end(), [](const DeadLetter& a, const DeadLetter& b) { return a.id < b.id; });
  append_locked(lines);
}

std::size_t DeadLetterStore::size() const {
  std::lock_guard lock(mutex_);
  return letters_.size();
}

std::uint64_t DeadLetterStore::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void DeadLetterStore::discard_journal() {
  std::lock_guard lock(mutex_);
  if (journal_fd_ >= 0) ::close(journal_fd_);
  journal_fd_ = -1;
  if (!journal_.empty()) {
    std::error_code ec;
    std::filesystem::remove(journal_, ec);
  }
  journal_.clear();
}

}  // namespace sluice
