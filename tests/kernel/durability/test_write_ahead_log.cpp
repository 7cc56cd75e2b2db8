// The write-ahead log on real files: append and read back, group commit, rotation, deletion
// after completion, replay order, recovery from torn and damaged segments, a full disk (a
// small tmpfs) and the sync journal of the power-loss tests.
#include <doctest/doctest.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include <xxhash.h>

#include <sluice/json.hpp>

#include "durability/write_ahead_log.hpp"
#include "scratch.hpp"
#include "small_disk.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using rest_test::read_file;
using rest_test::TempDir;
using rest_test::wait_until;
using rest_test::write_file;
namespace fs = std::filesystem;

namespace {

// Packets with fields, packet meta and field meta, so the envelope round trip is checked whole.
std::vector<Packet> numbered_packets(int first, int count) {
  std::vector<Packet> packets;
  for (int n = first; n < first + count; ++n) {
    Packet packet;
    packet.set("n", n);
    packet.set("text", "packet number " + std::to_string(n) + " with \"quotes\"\nand a line break");
    packet.set_meta(meta::id, "id-" + std::to_string(n));
    packet.set_meta("text", "lang", "en");
    packets.push_back(std::move(packet));
  }
  return packets;
}

// Appends and waits for the record to be durable; returns what the log said.
WalAppend append(WriteAheadLog& log, std::string_view graph, const std::vector<Packet>& packets,
                 std::string_view node = {}, std::string_view version = {}) {
  std::promise<WalAppend> done;
  log.append_submission(graph, node, version, packets, {}, [&done](const WalAppend& result) { done.set_value(result); });
  return done.get_future().get();
}

std::uint64_t append_ok(WriteAheadLog& log, std::string_view graph, const std::vector<Packet>& packets) {
  const WalAppend result = append(log, graph, packets);
  REQUIRE(result.error == "");
  return result.id;
}

WalRecovery reopen(const fs::path& dir) {
  WalRecovery recovery;
  WriteAheadLog log({.dir = dir}, recovery);
  return recovery;
}

std::vector<std::uint64_t> ids_of(const WalRecovery& recovery) {
  std::vector<std::uint64_t> ids;
  for (const auto& submission : recovery.pending) ids.push_back(submission.id);
  return ids;
}

std::vector<fs::path> segment_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".wal") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// A log of `count` submissions of one packet each in a single segment; returns the segment's
// contents and the offset where each record starts.
struct OneSegment {
  std::string bytes;
  std::vector<std::size_t> record_starts;
};

OneSegment write_one_segment(const fs::path& dir, int count) {
  OneSegment segment;
  WalRecovery none;
  WriteAheadLog log({.dir = dir}, none);
  for (int n = 1; n <= count; ++n) {
    segment.record_starts.push_back(log.stats().bytes);
    append_ok(log, "g", numbered_packets(n, 1));
  }
  const auto files = segment_files(dir);
  REQUIRE(files.size() == 1);
  segment.bytes = read_file(files.front());
  return segment;
}

}  // namespace

TEST_CASE("a logged submission comes back after a reopen with its graph, node, graph version and packets") {
  TempDir dir;
  {
    WalRecovery recovery;
    WriteAheadLog log({.dir = dir.path}, recovery);
    CHECK(recovery.pending.empty());
    const WalAppend first = append(log, "enrich", numbered_packets(1, 3), "parse", "0123456789abcdef");
    CHECK(first.error == "");
    CHECK(first.id > 0);
    CHECK(log.stats().pending == 1);
    CHECK(log.stats().records_written == 1);
  }
  const WalRecovery recovery = reopen(dir.path);
  REQUIRE(recovery.pending.size() == 1);
  const LoggedSubmission& submission = recovery.pending.front();
  CHECK(submission.graph == "enrich");
  CHECK(submission.node == "parse");
  CHECK(submission.version == "0123456789abcdef");
  const auto expected = numbered_packets(1, 3);
  REQUIRE(submission.packets.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) CHECK(submission.packets[i] == expected[i]);
  CHECK(recovery.torn == 0);
  CHECK(recovery.corrupt == 0);
}

// As POST /v1/graphs/{g}/packets makes them: an id of their own, the same route, method and
// processing time; one packet with field meta, one whose method differs.
std::vector<Packet> rest_packets(int count) {
  std::vector<Packet> packets;
  for (int n = 1; n <= count; ++n) {
    Packet packet;
    packet.set("n", n);
    packet.set_meta(meta::id, "5eed0001-" + std::to_string(n));
    packet.set_meta(meta::route, "/v1/graphs/shared-route/packets");
    packet.set_meta(meta::requestmethod, n == 3 ? "PUT" : "POST");
    packet.set_meta(meta::processingtime, "2026-12-02T06:00:00.000Z");
    if (n == 2) packet.set_meta("n", "unit", "count");
    packets.push_back(std::move(packet));
  }
  return packets;
}

// The one segment a fresh log in `dir` holds after `packets` were appended as one submission.
std::string logged_once(const fs::path& dir, const std::vector<Packet>& packets) {
  {
    WalRecovery recovery;
    WriteAheadLog log({.dir = dir}, recovery);
    append_ok(log, "g", packets);
  }
  return read_file(segment_files(dir).front());
}

std::size_t occurrences(std::string_view text, std::string_view part) {
  std::size_t found = 0;
  for (auto at = text.find(part); at != std::string_view::npos; at = text.find(part, at + 1)) ++found;
  return found;
}

TEST_CASE("meta that every packet shares is written once per record and comes back on every packet") {
  TempDir dir;
  const auto packets = rest_packets(50);
  const std::string segment = logged_once(dir.path, packets);
  auto count = [&](std::string_view text) { return occurrences(segment, text); };
  // Once shared, once in the packet with field meta (written whole).
  CHECK(count("shared-route") == 2);
  CHECK(count("2026-12-02T06:00:00.000Z") == 2);
  CHECK(count("\"POST\"") == 49);  // the method is not shared: packet 3's differs
  CHECK(count("5eed0001-") == 50);

  const WalRecovery recovery = reopen(dir.path);
  REQUIRE(recovery.pending.size() == 1);
  const auto& replayed = recovery.pending.front().packets;
  REQUIRE(replayed.size() == packets.size());
  for (std::size_t i = 0; i < packets.size(); ++i) CHECK(replayed[i] == packets[i]);
  // The shared entries come back after a packet's own: here, where the method is not shared,
  // it moves before the route.
  CHECK(json::to_string(Value(replayed[0].meta())) ==
        R"({"id":"5eed0001-1","requestmethod":"POST","route":"/v1/graphs/shared-route/packets",)"
        R"("processingtime":"2026-12-02T06:00:00.000Z"})");
}


TEST_CASE("shared meta is found whatever the order of a packet's meta, and an entry one packet lacks is not shared") {
  TempDir dir;
  auto packets = rest_packets(6);
  // Packet 4 has its entries in another order; packet 5 has no processing time.
  Packet reordered;
  reordered.set("n", 4);
  for (std::string_view key : {meta::processingtime, meta::route, meta::id, meta::requestmethod})
    reordered.set_meta(key, *packets[3].meta().find(key));
  packets[3] = std::move(reordered);
  packets[4].meta().erase(meta::processingtime);
  const std::string segment = logged_once(dir.path, packets);
  auto count = [&](std::string_view text) { return occurrences(segment, text); };
  CHECK(count("shared-route") == 2);  // shared, and in packet 2 (written whole)
  CHECK(count("2026-12-02T06:00:00.000Z") == 5);  // in every packet that has it

  const WalRecovery recovery = reopen(dir.path);
  REQUIRE(recovery.pending.size() == 1);
  const auto& replayed = recovery.pending.front().packets;
  REQUIRE(replayed.size() == packets.size());
  for (std::size_t i = 0; i < packets.size(); ++i) {
    CAPTURE(i);
    CHECK(replayed[i].fields() == packets[i].fields());
    CHECK(replayed[i].field_meta() == packets[i].field_meta());
    REQUIRE(replayed[i].meta().size() == packets[i].meta().size());
    for (const auto& [key, value] : packets[i].meta()) {
      CAPTURE(key);
      REQUIRE(replayed[i].meta().find(key));
      CHECK(*replayed[i].meta().find(key) == value);
    }
  }
}
TEST_CASE("the JSON text a packet was read from is copied into the record as it is, and reads back as its fields") {
  TempDir dir;
  // As the ingress passes them: each packet's NDJSON line, odd spacing and a \r kept.
  const std::vector<std::string_view> lines = {R"({ "n" :1, "text":"a \u00e9 b" })", "{\"n\":2,\"n\":3}\r"};
  std::vector<Packet> packets;
  for (const auto line : lines) packets.push_back(json::to_packet(json::parse(line)));
  packets[0].set_meta(meta::id, "x-1");
  packets[1].set_meta(meta::id, "x-2");
  {
    WalRecovery recovery;
    WriteAheadLog log({.dir = dir.path}, recovery);
    std::promise<WalAppend> done;
    log.append_submission("g", "", "", packets, {lines.begin(), lines.end()},
                          [&done](const WalAppend& result) { done.set_value(result); });
    REQUIRE(done.get_future().get().error == "");
  }
  const std::string segment = read_file(segment_files(dir.path).front());
  CHECK(segment.find(lines[0]) != std::string::npos);
  CHECK(segment.find(lines[1]) != std::string::npos);
  const WalRecovery recovery = reopen(dir.path);
  REQUIRE(recovery.pending.size() == 1);
  REQUIRE(recovery.pending.front().packets.size() == 2);
  CHECK(recovery.pending.front().packets[0] == packets[0]);
  CHECK(recovery.pending.front().packets[1] == packets[1]);
  CHECK(recovery.pending.front().packets[1].get("n")->as_int() == 3);
}

TEST_CASE("submission records of the earlier forms (whole envelopes; shared meta, no version) are still read") {
  for (const char type : {'\x01', '\x03'}) {
    CAPTURE(static_cast<int>(type));
    TempDir dir;
    fs::create_directories(dir.path);
    const auto packets = numbered_packets(1, 2);
    std::string body;
    body += type;                                // 1: every packet whole; 3: shared meta first
    body.append("\x07\0\0\0\0\0\0\0", 8);      // id 7
    body.append("\x01\0\0\0g", 5);              // graph "g"
    body.append("\0\0\0\0", 4);                 // node ""
    if (type == '\x03') body.append("\x02\0\0\0{}", 6);  // shared meta: none
    for (const auto& packet : packets) body += json::to_envelope(packet) + "\n";
    std::string record = "SWAL";
    for (int i = 0; i < 4; ++i) record += static_cast<char>((body.size() >> (8 * i)) & 0xff);
    const std::uint64_t checksum = XXH3_64bits(body.data(), body.size());
    for (int i = 0; i < 8; ++i) record += static_cast<char>((checksum >> (8 * i)) & 0xff);
    write_file(dir.path / "00000000000000000001.wal", record + body);

    const WalRecovery recovery = reopen(dir.path);
    CHECK(recovery.corrupt == 0);
    REQUIRE(recovery.pending.size() == 1);
    CHECK(recovery.pending.front().id == 7);
    REQUIRE(recovery.pending.front().packets.size() == 2);
    CHECK(recovery.pending.front().packets[0] == packets[0]);
    CHECK(recovery.pending.front().packets[1] == packets[1]);
    CHECK(recovery.pending.front().version.empty());
  }
}

TEST_CASE("a completed submission is not pending after a reopen, and ids go on increasing") {
  TempDir dir;
  std::uint64_t done_id = 0, open_id = 0;
  {
    WalRecovery none;
    WriteAheadLog log({.dir = dir.path}, none);
    done_id = append_ok(log, "g", numbered_packets(1, 1));
    open_id = append_ok(log, "g", numbered_packets(2, 1));
    log.append_completion(done_id);
    CHECK(log.stats().pending == 1);
  }
  WalRecovery recovery;
  WriteAheadLog log({.dir = dir.path}, recovery);
  CHECK(ids_of(recovery) == std::vector<std::uint64_t>{open_id});
  CHECK(append_ok(log, "g", numbered_packets(3, 1)) > open_id);
}

TEST_CASE("a second log on the same directory is refused while the first is open") {
  TempDir dir;
  WalRecovery none;
  std::optional<WriteAheadLog> first(std::in_place, WriteAheadLogOptions{.dir = dir.path}, none);
  CHECK_THROWS_WITH_AS(reopen(dir.path), doctest::Contains("another process uses the write-ahead log in"),
                       std::system_error);
  first.reset();
  CHECK_NOTHROW(reopen(dir.path));
}

TEST_CASE("periodic policy: the answer follows the write, a sync follows within the interval") {
  TempDir dir;
  WalRecovery none;
  WriteAheadLog log({.dir = dir.path, .sync = SyncPolicy::periodic, .sync_interval = 100ms}, none);
  bool answered = false;
  log.append_submission("g", "", "", numbered_packets(1, 1), {}, [&](const WalAppend& result) {
    CHECK(result.error == "");
    answered = true;
  });
  CHECK(answered);  // on this thread, before the return
  CHECK(wait_until([&] { return log.stats().syncs >= 1; }, 5000ms));
}

TEST_CASE("every_append policy: concurrent appends share one fdatasync (group commit)") {
  TempDir dir;
  WalRecovery none;
  WriteAheadLog log({.dir = dir.path, .sync = SyncPolicy::every_append}, none);

  // The first answer runs on the sync thread; holding it there lets 100 appends pile up,
  // which the next round must cover with one sync.
  std::mutex mutex;
  std::condition_variable changed;
  bool first_answered = false, release = false;
  int answered = 0;
  const auto caller = std::this_thread::get_id();
  log.append_submission("g", "", "", numbered_packets(0, 1), {}, [&](const WalAppend& result) {
    CHECK(result.error == "");
    CHECK(std::this_thread::get_id() != caller);
    std::unique_lock lock(mutex);
    first_answered = true;
    changed.notify_all();
    changed.wait(lock, [&] { return release; });
  });
  {
    std::unique_lock lock(mutex);
    REQUIRE(changed.wait_for(lock, 10s, [&] { return first_answered; }));
  }
  CHECK(log.stats().syncs == 1);
  for (int n = 1; n <= 100; ++n)
    log.append_submission("g", "", "", numbered_packets(n, 1), {}, [&](const WalAppend& result) {
      CHECK(result.error == "");
      std::lock_guard lock(mutex);
      ++answered;
      changed.notify_all();
    });
  {
    std::unique_lock lock(mutex);
    CHECK(answered == 0);  // none is answered before its sync
    release = true;
    changed.notify_all();
    REQUIRE(changed.wait_for(lock, 10s, [&] { return answered == 100; }));
  }
  CHECK(wait_until([&] { return log.stats().syncs == 2; }, 5000ms));
  CHECK(log.stats().records_written == 101);
}

TEST_CASE("segments rotate at the size limit and replay keeps the order of logging") {
  TempDir dir;
  std::vector<std::uint64_t> logged;
  {
    WalRecovery none;
    WriteAheadLog log({.dir = dir.path, .segment_bytes = 1000}, none);
    for (int n = 0; n < 20; ++n) logged.push_back(append_ok(log, "g" + std::to_string(n), numbered_packets(n, 2)));
    CHECK(log.stats().segments >= 5);
    CHECK(log.stats().segments == segment_files(dir.path).size());
    for (std::size_t i = 0; i < logged.size(); i += 3) log.append_completion(logged[i]);
  }
  const WalRecovery recovery = reopen(dir.path);
  std::vector<std::uint64_t> expected;
  for (std::size_t i = 0; i < logged.size(); ++i)
    if (i % 3 != 0) expected.push_back(logged[i]);
  CHECK(ids_of(recovery) == expected);
  for (const auto& submission : recovery.pending) {
    const auto n = static_cast<int>(std::find(logged.begin(), logged.end(), submission.id) - logged.begin());
    CHECK(submission.graph == "g" + std::to_string(n));
    CHECK(submission.packets.size() == 2);
    CHECK(submission.packets[0] == numbered_packets(n, 1)[0]);
  }
}

TEST_CASE("segments are deleted oldest first, once every submission in them is complete") {
  TempDir dir;
  WalRecovery none;
  WriteAheadLog log({.dir = dir.path, .segment_bytes = 1000}, none);
  std::vector<std::uint64_t> ids;
  for (int n = 0; n < 12; ++n) ids.push_back(append_ok(log, "g", numbered_packets(n, 2)));
  const auto segments = segment_files(dir.path);
  REQUIRE(segments.size() >= 3);

  // The oldest submission holds its segment, and with it the later ones (which may hold
  // completion records of its neighbours).
  for (std::size_t i = 1; i < ids.size(); ++i) log.append_completion(ids[i]);
  for (const auto& file : segments) CHECK(fs::exists(file));
  CHECK(log.stats().segments == segment_files(dir.path).size());
  CHECK(log.stats().pending == 1);

  log.append_completion(ids[0]);
  CHECK(log.stats().segments == 1);  // the one being written
  CHECK(segment_files(dir.path).size() == 1);
  CHECK(log.stats().bytes == fs::file_size(segment_files(dir.path).front()));
  CHECK(log.stats().pending == 0);
}

TEST_CASE("segments left by an earlier run go once their replayed submissions complete") {
  TempDir dir;
  std::uint64_t id = 0;
  {
    WalRecovery none;
    WriteAheadLog log({.dir = dir.path}, none);
    id = append_ok(log, "g", numbered_packets(1, 1));
  }
  WalRecovery recovery;
  WriteAheadLog log({.dir = dir.path}, recovery);
  REQUIRE(ids_of(recovery) == std::vector<std::uint64_t>{id});
  CHECK(segment_files(dir.path).size() == 2);
  log.append_completion(id);
  CHECK(segment_files(dir.path).size() == 1);
}

TEST_CASE("at max_bytes appends are refused as full until completions free segments") {
  TempDir dir;
  WalRecovery none;
  WriteAheadLog log({.dir = dir.path, .segment_bytes = 1000, .max_bytes = 3000}, none);
  std::vector<std::uint64_t> ids;
  WalAppend refused;
  for (int n = 0; n < 100; ++n) {
    const WalAppend result = append(log, "g", numbered_packets(n, 1));
    if (!result.error.empty()) {
      refused = result;
      break;
    }
    ids.push_back(result.id);
  }
  CHECK(refused.full);
  CHECK(refused.error.find("limit of 3000 bytes") != std::string::npos);
  CHECK(log.stats().bytes <= 3000);
  for (const auto id : ids) log.append_completion(id);
  CHECK(append(log, "g", numbered_packets(0, 1)).error == "");
}

TEST_CASE("a torn last record, cut at every byte offset, is dropped and the rest recovered") {
  TempDir source;
  const OneSegment segment = write_one_segment(source.path, 3);
  const std::size_t last = segment.record_starts.back();
  for (std::size_t cut = last; cut < segment.bytes.size(); ++cut) {
    CAPTURE(cut);
    TempDir dir;
    const fs::path file = dir.path / "00000000000000000001.wal";
    write_file(file, std::string_view(segment.bytes).substr(0, cut));
    const WalRecovery recovery = reopen(dir.path);
    CHECK(recovery.pending.size() == 2);
    CHECK(recovery.torn == (cut > last ? 1u : 0u));
    CHECK(recovery.corrupt == 0);
    if (cut > last) {
      REQUIRE(recovery.warnings.size() == 1);
      CHECK(recovery.warnings.front().find("torn tail") != std::string::npos);
    }
    // The tail was cut off the file: the next start finds a clean log.
    CHECK(fs::file_size(file) == last);
    const WalRecovery again = reopen(dir.path);
    CHECK(again.pending.size() == 2);
    CHECK(again.torn == 0);
  }
}

TEST_CASE("a flipped byte anywhere in a middle record skips that record only") {
  TempDir source;
  const OneSegment segment = write_one_segment(source.path, 5);
  const std::size_t begin = segment.record_starts[2], end = segment.record_starts[3];
  const WalRecovery intact = reopen(source.path);
  REQUIRE(intact.pending.size() == 5);
  for (std::size_t offset = begin; offset < end; ++offset) {
    CAPTURE(offset);
    TempDir dir;
    std::string damaged = segment.bytes;
    damaged[offset] = static_cast<char>(damaged[offset] ^ 0x5a);
    write_file(dir.path / "00000000000000000001.wal", damaged);
    const WalRecovery recovery = reopen(dir.path);
    CHECK(ids_of(recovery) == std::vector<std::uint64_t>{intact.pending[0].id, intact.pending[1].id,
                                                         intact.pending[3].id, intact.pending[4].id});
    CHECK(recovery.corrupt == 1);
    CHECK(recovery.torn == 0);
    REQUIRE(recovery.warnings.size() == 1);
    CHECK(recovery.warnings.front().find("offset " + std::to_string(begin)) != std::string::npos);
  }
}

TEST_CASE("random damage never crashes recovery, and whatever it returns is intact") {
  TempDir source;
  const OneSegment segment = write_one_segment(source.path, 20);
  const WalRecovery intact = reopen(source.path);
  std::mt19937 random(14);
  for (int round = 0; round < 200; ++round) {
    CAPTURE(round);
    TempDir dir;
    std::string damaged = segment.bytes;
    const int flips = 1 + static_cast<int>(random() % 8);
    for (int i = 0; i < flips; ++i) damaged[random() % damaged.size()] = static_cast<char>(random());
    write_file(dir.path / "00000000000000000001.wal", damaged);
    const WalRecovery recovery = reopen(dir.path);
    CHECK(recovery.pending.size() <= intact.pending.size());
    CHECK(recovery.pending.size() + recovery.corrupt + recovery.torn >= 1);
    for (const auto& submission : recovery.pending) {
      const auto original = std::find_if(intact.pending.begin(), intact.pending.end(),
                                         [&](const LoggedSubmission& s) { return s.id == submission.id; });
      REQUIRE(original != intact.pending.end());
      REQUIRE(submission.packets.size() == 1);
      CHECK(submission.packets[0] == original->packets[0]);
    }
  }
}

TEST_CASE("a log whose work is all complete never stays full, whatever its limit and segment size") {
  TempDir dir;
  WalRecovery none;
  // The segment size is left at its default, far above the limit.
  WriteAheadLog log({.dir = dir.path, .max_bytes = 3000}, none);
  for (int n = 0; n < 100; ++n) {
    CAPTURE(n);
    const WalAppend result = append(log, "g", numbered_packets(n, 1));
    REQUIRE(result.error == "");
    log.append_completion(result.id);
  }
  // One large submission fits once the finished segment is out of the way.
  const WalAppend big = append(log, "g", numbered_packets(0, 8));
  CHECK(big.error == "");
  CHECK(log.stats().bytes <= 3000);
}

namespace {

std::vector<Packet> padded_packet(std::size_t length) {
  Packet packet;
  packet.set("pad", std::string(length, 'x'));
  std::vector<Packet> packets;
  packets.push_back(std::move(packet));
  return packets;
}

// The pad length whose submission record is exactly one 4 KiB page, found on an ordinary
// directory (the encoding does not depend on where it is written).
std::size_t pad_for_one_page(const fs::path& scratch) {
  const std::size_t guess = 100;
  WalRecovery none;
  WriteAheadLog log({.dir = scratch}, none);
  append_ok(log, "g", padded_packet(guess));
  return guess + 4096 - log.stats().bytes;
}

// The lines of a sync journal: segment file name → every size noted, in order.
std::map<std::string, std::vector<std::uint64_t>> journal_lines(const fs::path& journal) {
  std::map<std::string, std::vector<std::uint64_t>> lines;
  std::istringstream in(read_file(journal));
  std::string name;
  std::uint64_t size;
  while (in >> name >> size) lines[name].push_back(size);
  return lines;
}

}  // namespace

TEST_CASE("a completion the full disk refused is written once there is room, before the next record") {
  TempDir dir;
  const std::size_t pad = pad_for_one_page(dir.path / "scratch");
  rest_test::SmallDisk disk(dir.path / "disk", 64 << 10);
  const fs::path wal = disk.path() / "wal";
  std::uint64_t second = 0;
  {
    WalRecovery none;
    WriteAheadLog log({.dir = wal}, none);
    const std::uint64_t first = append_ok(log, "g", padded_packet(pad));
    REQUIRE(log.stats().bytes == 4096);  // the segment's one page is full: any more needs a new one
    disk.fill();
    log.append_completion(first);
    CHECK(log.stats().pending == 1);  // its record could not be written
    const WalAppend refused = append(log, "g", numbered_packets(1, 1));
    CHECK(refused.error.find("No space left on device") != std::string::npos);
    CHECK(log.stats().bytes == 4096);  // what part of it was written is taken back
    disk.unfill();
    second = append_ok(log, "g", numbered_packets(2, 1));
    CHECK(log.stats().pending == 1);  // the owed completion was written first
  }
  CHECK(ids_of(reopen(wal)) == std::vector<std::uint64_t>{second});
}

TEST_CASE("the sync journal notes every synced segment size, never beyond what was written") {
  TempDir dir;
  const fs::path journal = dir.path / "journal";
  WalRecovery none;
  WriteAheadLog log({.dir = dir.path / "wal", .segment_bytes = 2000, .sync = SyncPolicy::every_append,
                     .sync_journal = journal},
                    none);
  for (int n = 0; n < 20; ++n) append_ok(log, "g", numbered_packets(n, 1));
  const auto lines = journal_lines(journal);
  const auto segments = segment_files(dir.path / "wal");
  REQUIRE(segments.size() > 1);  // rotated: each segment was synced before the answers it holds
  CHECK(lines.size() == segments.size());
  for (const auto& segment : segments) {
    CAPTURE(segment);
    const auto found = lines.find(segment.filename().string());
    REQUIRE(found != lines.end());
    CHECK(std::is_sorted(found->second.begin(), found->second.end()));
    CHECK(found->second.back() == fs::file_size(segment));  // every_append: all of it was synced
  }
}

TEST_CASE("periodic policy: a rotation does not sync under the append; the next round syncs every segment left") {
  TempDir dir;
  const fs::path journal = dir.path / "journal";
  WalRecovery none;
  WriteAheadLog log({.dir = dir.path / "wal", .segment_bytes = 2000, .sync_interval = std::chrono::hours(1),
                     .sync_journal = journal},
                    none);
  for (int n = 0; n < 20; ++n) append_ok(log, "g", numbered_packets(n, 1));
  const auto segments = segment_files(dir.path / "wal");
  REQUIRE(segments.size() > 1);
  // A sync at each rotation, under the log's lock, held every append for as long as it took.
  CHECK(journal_lines(journal).empty());

  REQUIRE(log.sync());
  const auto lines = journal_lines(journal);
  CHECK(lines.size() == segments.size());
  for (const auto& segment : segments) {
    CAPTURE(segment);
    const auto found = lines.find(segment.filename().string());
    REQUIRE(found != lines.end());
    CHECK(found->second.back() == fs::file_size(segment));
  }
}
