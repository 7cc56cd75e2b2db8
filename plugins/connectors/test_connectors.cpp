// The connectors package: each source run in the SDK's SourceHarness (its own thread, the real
// clock), each sink against real files.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <sluice/harness.hpp>

#include "dir_source.hpp"
#include "file_tail.hpp"
#include "generate.hpp"
#include "http_poll.hpp"
#include "http_test_server.hpp"
#include "plugin_test.hpp"
#include "sqlite_rows.hpp"
#include "sqlite_sink.hpp"
#include "test_certificates.hpp"

using namespace sluice;
using namespace sluice::connectors;
using namespace std::chrono_literals;

TEST_CASE("the module exports its components") { check_plugin_module({"generate", "dir_source", "file_tail", "http_poll", "sqlite_sink"}); }

namespace {

// A database file in a fresh temporary directory, removed at the end.
struct ScratchDatabase {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("sluice-sqlite-" + std::to_string(::getpid()) + "-" + std::to_string(++made));
  std::filesystem::path file = dir / "db" / "index.db";
  ScratchDatabase() { std::filesystem::remove_all(dir); }
  ~ScratchDatabase() { std::filesystem::remove_all(dir); }
  static inline int made = 0;
};


}  // namespace

TEST_CASE("sqlite_sink upserts by key: one row per key, the last packet's values") {
  ScratchDatabase db;
  auto h = ComponentHarness::of<SqliteSink>(
      {{"path", db.file.string()}, {"columns", Array{"title", "meta.n"}}, {"key", "id"}});
  h.push_json(R"({"id": "a", "title": "first", "meta": {"n": 1}})");
  h.push_json(R"({"id": "b", "title": "other", "meta": {"n": 2}})");
  h.push_json(R"({"id": "a", "title": "second", "meta": {"n": 3}})");
  h.close();
  CHECK(h.errors().empty());
  CHECK(sqlite_rows(db.file, "SELECT id, title, meta_n, doc FROM documents ORDER BY id") ==
        std::vector<std::string>{R"(a|second|3|{"id":"a","title":"second","meta":{"n":3}})",
                                 R"(b|other|2|{"id":"b","title":"other","meta":{"n":2}})"});
  CHECK(sqlite_rows(db.file, "PRAGMA journal_mode") == std::vector<std::string>{"wal"});
}

TEST_CASE("sqlite_sink indexes chosen fields with FTS5, kept in step with upserts") {
  ScratchDatabase db;
  {
    auto h = ComponentHarness::of<SqliteSink>({{"path", db.file.string()},
                                               {"table", "docs"},
                                               {"columns", Array{"title", "body"}},
                                               {"key", "url"},
                                               {"fts", Array{"title", "body"}}});
    h.push_json(R"({"url": "u1", "title": "Feeding Solr", "body": "four million documents"})");
    h.push_json(R"({"url": "u2", "title": "Lucene inside", "body": "an index of documents"})");
    h.push_json(R"({"url": "u1", "title": "Feeding SQLite", "body": "an embedded index"})");
    h.close();
    CHECK(h.errors().empty());
  }
  const std::string search = "SELECT url FROM docs WHERE row_id IN (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ";
  CHECK(sqlite_rows(db.file, search + "'index') ORDER BY url") == std::vector<std::string>{"u1", "u2"});
  CHECK(sqlite_rows(db.file, search + "'solr')").empty());  // u1's old text is gone from the index
  CHECK(sqlite_rows(db.file, search + "'sqlite')") == std::vector<std::string>{"u1"});
  // A second start on the same database finds its schema and goes on.
  auto again = ComponentHarness::of<SqliteSink>({{"path", db.file.string()},
                                                 {"table", "docs"},
                                                 {"columns", Array{"title", "body"}},
                                                 {"key", "url"},
                                                 {"fts", Array{"title", "body"}}});
  again.push_json(R"({"url": "u3", "title": "Solr again", "body": ""})");
  again.close();
  CHECK(sqlite_rows(db.file, search + "'solr')") == std::vector<std::string>{"u3"});
}

TEST_CASE("sqlite_sink commits a batch when it is full or when batch_ms have passed") {
  ScratchDatabase db;
  auto h = ComponentHarness::of<SqliteSink>(
      {{"path", db.file.string()}, {"batch_size", 2}, {"batch_ms", 1000}, {"columns", Array{"n"}}});
  h.push_json(R"({"n": 1})");
  CHECK(sqlite_rows(db.file, "SELECT count(*) FROM documents") == std::vector<std::string>{"0"});
  h.push_json(R"({"n": 2})");  // the batch is full
  h.push_json(R"({"n": 3})");
  CHECK(sqlite_rows(db.file, "SELECT count(*) FROM documents") == std::vector<std::string>{"2"});
  h.advance(std::chrono::milliseconds(1000));
  CHECK(sqlite_rows(db.file, "SELECT group_concat(n) FROM documents") == std::vector<std::string>{"1,2,3"});
  h.close();
}

TEST_CASE("sqlite_sink sends a packet it cannot write to the error port, and writes the rest of its batch") {
  ScratchDatabase db;
  auto h = ComponentHarness::of<SqliteSink>({{"path", db.file.string()}, {"key", "id"}});
  h.push_json(R"({"id": "a"})");
  h.push_json(R"({"no_id": true})");  // the key column is NOT NULL
  h.push_json(R"({"id": "c"})");
  h.close();
  REQUIRE(h.errors().size() == 1);
  CHECK(h.errors()[0].has("no_id"));
  CHECK(h.errors()[0].get_meta("error")->as_string().find("NOT NULL constraint failed: documents.id") !=
        std::string::npos);
  CHECK(sqlite_rows(db.file, "SELECT id FROM documents ORDER BY id") == std::vector<std::string>{"a", "c"});
}

TEST_CASE("sqlite_sink refuses params that cannot make a table, naming them") {
  ScratchDatabase db;
  auto make = [&](Object params) {
    params["path"] = db.file.string();
    return ComponentHarness::of<SqliteSink>(std::move(params));
  };
  CHECK_THROWS_WITH_AS(make({{"fts", Array{"body"}}}), doctest::Contains("param 'fts': 'body' is not in 'columns'"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(make({{"table", "drop table x"}}), doctest::Contains("param 'table': 'drop table x' is not a name"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(make({{"columns", Array{"a.b", "a_b"}}}),
                       doctest::Contains("param 'columns': 'a.b' and 'a_b' are both column 'a_b'"), std::runtime_error);
}

TEST_CASE("generate makes `count` packets in batches, numbered by {seq}, then stops by itself") {
  SourceHarness h(describe<Generate>(),
                  {{"payload", Object{{"n", "{seq}"}, {"text", "packet {seq} of {{7}}"}, {"fixed", 1}}},
                   {"interval_ms", 0},
                   {"count", 7},
                   {"batch", 3}});
  REQUIRE(h.wait_finished());
  CHECK(h.error() == "");
  const auto packets = h.take_packets();
  REQUIRE(packets.size() == 7);
  CHECK(h.streams_sent() == 3);  // 3 + 3 + 1
  for (std::size_t i = 0; i < packets.size(); ++i) {
    CHECK(packets[i].get("n")->as_string() == std::to_string(i + 1));
    CHECK(packets[i].get("fixed")->as_int() == 1);
  }
  CHECK(packets[6].get("text")->as_string() == "packet 7 of {7}");
}

TEST_CASE("generate puts the UTC time in {now}") {
  SourceHarness h(describe<Generate>(), {{"payload", Object{{"at", "{now}"}}}, {"count", 1}});
  REQUIRE(h.wait_finished());
  const auto packets = h.take_packets();
  REQUIRE(packets.size() == 1);
  const std::string at = packets[0].get("at")->as_string();
  CHECK(at.size() == 24);  // 2026-01-02T03:04:05.678Z
  CHECK(at[10] == 'T');
  CHECK(at.back() == 'Z');
}

TEST_CASE("generate keeps its interval and stops at once when told, mid-wait") {
  SourceHarness h(describe<Generate>(), {{"interval_ms", 50}});
  REQUIRE(h.wait_for_packets(3));
  const auto started = std::chrono::steady_clock::now();
  const auto packets = h.take_packets();
  h.stop();
  CHECK(std::chrono::steady_clock::now() - started < 1s);
  CHECK(packets.size() >= 3);
  CHECK(h.error() == "");
}

TEST_CASE("generate is held back while its packets are not done") {
  SourceHarness h(describe<Generate>(), {{"interval_ms", 0}}, "", /*max_in_flight=*/5);
  REQUIRE(h.wait_for_packets(5));
  // Nothing is acked: the sixth send waits. Acking lets exactly the next batch of five go.
  CHECK(h.take_packets().size() == 5);
  CHECK(h.ack_all() == 5);
  REQUIRE(h.wait_for_packets(10));
  CHECK(h.take_packets().size() == 5);
}

TEST_CASE("generate refuses an unknown placeholder, naming it") {
  CHECK_THROWS_WITH_AS(SourceHarness(describe<Generate>(), {{"payload", Object{{"a", Array{"{sqe}"}}}}}),
                       doctest::Contains("param 'payload': unknown placeholder at offset 0 in \"{sqe}\""),
                       std::runtime_error);
}

namespace {

void write_text(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

std::set<std::string> filenames(const std::vector<Packet>& packets) {
  std::set<std::string> names;
  for (const auto& p : packets) names.insert(std::filesystem::path(p.get_meta("filename")->as_string()).filename());
  return names;
}

}  // namespace

TEST_CASE("dir_source sends each file of the tree with its meta, then new ones; the ledger skips acked files") {
  ScratchDatabase scratch;  // for its temporary directory
  const auto inbox = scratch.dir / "inbox";
  const auto state = scratch.dir / "state";
  std::filesystem::create_directories(state);
  write_text(inbox / "a.json", "{\"a\": 1}\n");
  write_text(inbox / "sub/b.txt", "plain text\n");
  {
    SourceHarness h(describe<DirSource>(), {{"path", inbox.string()}}, state.string());
    REQUIRE(h.wait_for_packets(2));
    auto crawled = h.take_packets();
    CHECK(filenames(crawled) == std::set<std::string>{"a.json", "b.txt"});
    for (const auto& p : crawled) {
      if (p.get_meta("filename")->as_string().ends_with("b.txt")) {
        CHECK(p.get("data")->as_string() == "plain text\n");
        CHECK(p.get_meta("mimetype")->as_string() == "text/plain");
        CHECK(p.get_meta("contentlength")->as_int() == 11);
        CHECK(p.get_meta("mtime")->as_int() > 0);
      }
    }
    // Only a.json and b.txt are done; c.txt, written now, is seen by the watch.
    CHECK(h.ack_all() == 2);
    write_text(inbox / "sub/c.txt", "new\n");
    REQUIRE(h.wait_for_packets(3));
    CHECK(filenames(h.take_packets()) == std::set<std::string>{"c.txt"});
  }  // c.txt was never acked
  SourceHarness again(describe<DirSource>(), {{"path", inbox.string()}, {"watch", false}}, state.string());
  REQUIRE(again.wait_finished());
  CHECK(filenames(again.take_packets()) == std::set<std::string>{"c.txt"});
}

TEST_CASE("dir_source deletes or moves a file once its stream is done, not before") {
  ScratchDatabase scratch;
  const auto inbox = scratch.dir / "inbox";
  write_text(inbox / "x.txt", "x\n");
  write_text(inbox / "y.txt", "y\n");
  {
    SourceHarness h(describe<DirSource>(), {{"path", inbox.string()}, {"after", "move"}, {"move_to", (scratch.dir / "done").string()}, {"watch", false}});
    REQUIRE(h.wait_finished());
    CHECK(std::filesystem::exists(inbox / "x.txt"));
    h.ack_all();
    CHECK(std::filesystem::exists(scratch.dir / "done/x.txt"));
    CHECK_FALSE(std::filesystem::exists(inbox / "x.txt"));
  }
  write_text(inbox / "z.txt", "z\n");
  SourceHarness h(describe<DirSource>(), {{"path", inbox.string()}, {"after", "delete"}, {"watch", false}});
  REQUIRE(h.wait_finished());
  h.ack_all();
  CHECK(std::filesystem::is_empty(inbox));
}

TEST_CASE("dir_source refuses a path that is no directory, and move without move_to") {
  ScratchDatabase scratch;
  CHECK_THROWS_WITH_AS(SourceHarness(describe<DirSource>(), {{"path", (scratch.dir / "none").string()}}),
                       doctest::Contains("is not a directory"), std::runtime_error);
  std::filesystem::create_directories(scratch.dir);
  CHECK_THROWS_WITH_AS(SourceHarness(describe<DirSource>(), {{"path", scratch.dir.string()}, {"after", "move"}}),
                       doctest::Contains("param 'move_to' is required with after: move"), std::runtime_error);
}

namespace {

void append_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary | std::ios::app) << text;
}

// Each packet's line, with its offset: "text@offset".
std::vector<std::string> lines_at(const std::vector<Packet>& packets) {
  std::vector<std::string> lines;
  for (const auto& p : packets) lines.push_back(p.get("data")->as_string() + "@" + std::to_string(p.get_meta("offset")->as_int()));
  return lines;
}

Object tail_params(const std::filesystem::path& path, Object more = {}) {
  Object params{{"path", path.string()}, {"start", "beginning"}};
  for (const auto& [key, value] : more) params.append_unchecked(key, value);
  return params;
}

}  // namespace

TEST_CASE("file_tail sends a packet per line with filename and offset, and holds a partial line until its newline") {
  ScratchDatabase scratch;
  const auto log = scratch.dir / "app.log";
  write_text(log, "first\nsecond\npart");
  SourceHarness h(describe<FileTail>(), tail_params(log));
  REQUIRE(h.wait_for_packets(2));
  auto packets = h.take_packets();
  CHECK(lines_at(packets) == std::vector<std::string>{"first@0", "second@6"});
  CHECK(packets[0].get_meta("filename")->as_string() == log.string());
  append_text(log, "ial\nnext\n");
  REQUIRE(h.wait_for_packets(4));
  CHECK(lines_at(h.take_packets()) == std::vector<std::string>{"partial@13", "next@21"});
}

TEST_CASE("file_tail follows a rotation by rename: the old file to its end, then the new one from its start") {
  ScratchDatabase scratch;
  const auto log = scratch.dir / "app.log";
  write_text(log, "1\n2\n");
  SourceHarness h(describe<FileTail>(), tail_params(log));
  REQUIRE(h.wait_for_packets(2));
  append_text(log, "3\nlast without newline");
  std::filesystem::rename(log, scratch.dir / "app.log.1");
  write_text(log, "4\n");
  REQUIRE(h.wait_for_packets(5));
  std::vector<std::string> lines;
  for (const auto& p : h.take_packets()) lines.push_back(p.get("data")->as_string());
  CHECK(lines == std::vector<std::string>{"1", "2", "3", "last without newline", "4"});
}

TEST_CASE("file_tail notices a file truncated in place (copytruncate) and reads it again from its start") {
  ScratchDatabase scratch;
  const auto log = scratch.dir / "app.log";
  write_text(log, "old line one\nold line two\n");
  SourceHarness h(describe<FileTail>(), tail_params(log));
  REQUIRE(h.wait_for_packets(2));
  std::filesystem::resize_file(log, 0);
  append_text(log, "new\n");
  REQUIRE(h.wait_for_packets(3));
  CHECK(lines_at(h.take_packets()) == std::vector<std::string>{"old line one@0", "old line two@13", "new@0"});
}

TEST_CASE("file_tail keeps an offset only once its stream is done: unacked lines come again after a restart") {
  ScratchDatabase scratch;
  const auto log = scratch.dir / "app.log";
  const auto state = scratch.dir / "state";
  std::filesystem::create_directories(state);
  write_text(log, "a\nb\n");
  {
    SourceHarness h(describe<FileTail>(), tail_params(log), state.string());
    REQUIRE(h.wait_for_packets(2));
  }  // never acked
  {
    SourceHarness h(describe<FileTail>(), tail_params(log), state.string());
    REQUIRE(h.wait_for_packets(2));
    CHECK(lines_at(h.take_packets()) == std::vector<std::string>{"a@0", "b@2"});
    CHECK(h.ack_all() >= 1);
    append_text(log, "c\n");
    REQUIRE(h.wait_for_packets(3));
    CHECK(lines_at(h.take_packets()) == std::vector<std::string>{"c@4"});
  }  // c never acked
  SourceHarness h(describe<FileTail>(), tail_params(log), state.string());
  REQUIRE(h.wait_for_packets(1));
  CHECK(lines_at(h.take_packets()) == std::vector<std::string>{"c@4"});
}

TEST_CASE("file_tail with start: end skips what a file never seen holds; a file that appears later is read whole") {
  ScratchDatabase scratch;
  const auto logs = scratch.dir / "logs";
  write_text(logs / "a.log", "before\n");
  write_text(logs / "other.txt", "not matched\n");
  SourceHarness h(describe<FileTail>(), {{"path", (logs / "*.log").string()}});
  // Lines appended after the node's first look come; when that is, only the first packet tells.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!h.wait_for_packets(1, 50ms) && std::chrono::steady_clock::now() < deadline) append_text(logs / "a.log", "after\n");
  std::set<std::string> lines;
  std::size_t sent = 0;
  for (const auto& p : h.take_packets()) {
    lines.insert(p.get("data")->as_string());
    ++sent;
  }
  CHECK(lines == std::set<std::string>{"after"});
  append_text(logs / "other.txt", "still not\n");
  write_text(logs / "b.log", "b1\n");
  while (!lines.count("b1") && std::chrono::steady_clock::now() < deadline + 10s && h.wait_for_packets(sent + 1))
    for (const auto& p : h.take_packets()) {
      lines.insert(p.get("data")->as_string());
      ++sent;
    }
  CHECK(lines == std::set<std::string>{"after", "b1"});
}

TEST_CASE("file_tail sends a line longer than max_line_bytes to the error port and skips to its newline") {
  ScratchDatabase scratch;
  const auto log = scratch.dir / "app.log";
  write_text(log, "0123456789ab\nok\n");
  SourceHarness h(describe<FileTail>(), tail_params(log, {{"max_line_bytes", 8}}));
  REQUIRE(h.wait_for_packets(2));
  auto packets = h.take_packets();
  CHECK(lines_at(packets) == std::vector<std::string>{"01234567@0", "ok@13"});
  REQUIRE(packets[0].get_meta("error"));
  CHECK(packets[0].get_meta("error")->as_string().find("the line at offset 0 of " + log.string() +
                                                       " is longer than max_line_bytes (8)") != std::string::npos);
  CHECK_FALSE(packets[1].get_meta("error"));
  // Still without its newline, but too long already: sent as it is, the rest skipped.
  append_text(log, "abcdefghijk");
  REQUIRE(h.wait_for_packets(3));
  CHECK(lines_at(h.take_packets()) == std::vector<std::string>{"abcdefgh@16"});
  append_text(log, "lmn\nfine\n");
  REQUIRE(h.wait_for_packets(4));
  CHECK(lines_at(h.take_packets()) == std::vector<std::string>{"fine@31"});
}

TEST_CASE("file_tail in chunks mode sends what each read gives, raw") {
  ScratchDatabase scratch;
  const auto log = scratch.dir / "data.bin";
  write_text(log, std::string("\x00\xff no lines", 11));
  SourceHarness h(describe<FileTail>(), tail_params(log, {{"mode", "chunks"}}));
  REQUIRE(h.wait_for_packets(1));
  const auto packets = h.take_packets();
  std::string scratch_bytes;
  CHECK(packets[0].bytes("data", scratch_bytes) == std::string("\x00\xff no lines", 11));
  CHECK(packets[0].get_meta("offset")->as_int() == 0);
}

TEST_CASE("file_tail refuses a glob outside the file name and a directory that does not exist") {
  ScratchDatabase scratch;
  std::filesystem::create_directories(scratch.dir);
  CHECK_THROWS_WITH_AS(SourceHarness(describe<FileTail>(), {{"path", (scratch.dir / "*/app.log").string()}}),
                       doctest::Contains("param 'path': a glob may only be in the file name"), std::runtime_error);
  CHECK_THROWS_WITH_AS(SourceHarness(describe<FileTail>(), {{"path", (scratch.dir / "none/app.log").string()}}),
                       doctest::Contains("does not exist"), std::runtime_error);
}

namespace {

Object poll_params(const std::string& url, Object more = {}) {
  Object params{{"url", url}, {"interval_ms", 20}, {"max_backoff_ms", 100}};
  for (const auto& [key, value] : more) params.append_unchecked(key, value);
  return params;
}

// Until the server has answered `count` requests in all; false on timeout.
bool wait_for_requests(HttpTestServer& server, std::size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (server.requests().size() < count) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);  // polls the condition: the server has no way to wake us
  }
  return true;
}

}  // namespace

TEST_CASE("http_poll sends a JSON body as fields with status and headers meta; an unchanged resource (304) sends nothing") {
  HttpTestServer server;
  server.serve(R"({"temperature": 21.5, "city": "Oslo"})", "application/json; charset=utf-8", "\"v1\"");
  SourceHarness h(describe<HttpPoll>(), poll_params(server.url("/weather")));
  REQUIRE(h.wait_for_packets(1));
  // Later requests ask with the ETag and get 304s: still one packet.
  REQUIRE(wait_for_requests(server, 4));
  auto packets = h.take_packets();
  REQUIRE(packets.size() == 1);
  CHECK(packets[0].get("temperature")->as_double() == 21.5);
  CHECK(packets[0].get("city")->as_string() == "Oslo");
  CHECK(packets[0].get_meta("status")->as_int() == 200);
  CHECK(packets[0].get_meta("url")->as_string() == server.url("/weather"));
  CHECK(packets[0].get_meta("mimetype")->as_string() == "application/json; charset=utf-8");
  CHECK(packets[0].get_meta("headers")->as_object().find("etag")->as_string() == "\"v1\"");
  const auto requests = server.requests();
  CHECK(requests[0].if_none_match.empty());
  CHECK(requests[3].if_none_match == "\"v1\"");
  CHECK(requests[3].target == "/weather");

  server.serve(R"([1, 2])", "application/json", "\"v2\"");
  REQUIRE(h.wait_for_packets(2));
  packets = h.take_packets();
  CHECK(*packets[0].get("data") == Value(Array{1, 2}));
}

TEST_CASE("http_poll sends a body of another type raw, base64 when it is not text; conditional: false asks plainly") {
  HttpTestServer server;
  server.serve(std::string("\x89PNG\r\n\x1a\n", 8), "image/png", "\"img\"");
  SourceHarness h(describe<HttpPoll>(), poll_params(server.url("/logo.png"), {{"conditional", false}}));
  REQUIRE(h.wait_for_packets(2));
  const auto packets = h.take_packets();
  std::string scratch;
  CHECK(packets[0].bytes("data", scratch) == std::string("\x89PNG\r\n\x1a\n", 8));
  CHECK(packets[0].get_meta("data", "encoding")->as_string() == "base64");
  CHECK(packets[0].get_meta("contentlength")->as_int() == 8);
  CHECK(server.requests()[1].if_none_match.empty());
}

TEST_CASE("http_poll: a failure is one error packet naming the node and URL, retried with backoff until the server is back") {
  std::uint16_t port;
  {
    HttpTestServer first;
    port = first.port();
  }  // gone: nothing listens on the port
  SourceHarness h(describe<HttpPoll>(), poll_params("http://127.0.0.1:" + std::to_string(port) + "/feed"));
  REQUIRE(h.wait_for_packets(1));
  auto packets = h.take_packets();
  REQUIRE(packets[0].get_meta("error"));
  const std::string error = packets[0].get_meta("error")->as_string();
  CAPTURE(error);
  CHECK(error.starts_with("harness/http_poll: GET http://127.0.0.1:" + std::to_string(port) + "/feed: "));
  CHECK(error.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);

  HttpTestServer back({500}, nullptr, port);  // back, failing once, then well
  back.serve("hello", "text/plain");
  REQUIRE(h.wait_for_packets(3));
  packets = h.take_packets();
  REQUIRE(packets.size() == 2);
  CHECK(packets[0].get_meta("error")->as_string().find("HTTP 500") != std::string::npos);
  CHECK(packets[1].get("data")->as_string() == "hello");
  CHECK_FALSE(packets[1].get_meta("error"));
}

TEST_CASE("http_poll keeps the ETag only once the body's stream is done: a restart before that gets the body again") {
  ScratchDatabase scratch;
  const auto state = scratch.dir / "state";
  std::filesystem::create_directories(state);
  HttpTestServer server;
  server.serve(R"({"n": 1})", "application/json", "\"n1\"");
  {
    SourceHarness h(describe<HttpPoll>(), poll_params(server.url()), state.string());
    REQUIRE(h.wait_for_packets(1));
  }  // never acked
  {
    SourceHarness h(describe<HttpPoll>(), poll_params(server.url()), state.string());
    REQUIRE(h.wait_for_packets(1));
    h.ack_all();
  }
  const std::size_t before = server.requests().size();
  SourceHarness h(describe<HttpPoll>(), poll_params(server.url()), state.string());
  REQUIRE(wait_for_requests(server, before + 2));
  CHECK(server.requests()[before].if_none_match == "\"n1\"");
  CHECK(h.take_packets().empty());
}

TEST_CASE("http_poll refuses a bad URL, tls for http://, and a TLS file it cannot read, naming the param") {
  CHECK_THROWS_WITH_AS(SourceHarness(describe<HttpPoll>(), {{"url", "ftp://x"}}), doctest::Contains("param 'url': "),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(SourceHarness(describe<HttpPoll>(), {{"url", "http://127.0.0.1:1/"}, {"tls", Object{}}}),
                       doctest::Contains("param 'tls' applies to https:// URLs only"), std::runtime_error);
  CHECK_THROWS_WITH_AS(
      SourceHarness(describe<HttpPoll>(), {{"url", "https://127.0.0.1:1/"}, {"tls", Object{{"ca_file", "/nonexistent/ca.pem"}}}}),
      doctest::Contains("param 'tls.ca_file': cannot read /nonexistent/ca.pem"), std::runtime_error);
  CHECK_THROWS_WITH_AS(SourceHarness(describe<HttpPoll>(), {{"url", "https://127.0.0.1:1/"}, {"tls", Object{{"ca_flie", "x"}}}}),
                       doctest::Contains("param 'tls': unknown key 'ca_flie' (did you mean 'ca_file'?)"), std::runtime_error);
}

TEST_CASE("http_poll over https: verified against the tls.ca_file CA, with a client certificate when the server asks") {
  const TestCertificates certs;
  boost::asio::ssl::context context(boost::asio::ssl::context::tls_server);
  context.use_certificate_chain_file(certs.file("server.pem"));
  context.use_private_key_file(certs.file("server.key"), boost::asio::ssl::context::pem);
  context.load_verify_file(certs.file("ca.pem"));
  context.set_verify_mode(boost::asio::ssl::verify_peer | boost::asio::ssl::verify_fail_if_no_peer_cert);
  HttpTestServer server({}, &context);
  server.serve("secret", "text/plain");
  {
    SourceHarness refused(describe<HttpPoll>(), poll_params(server.url(), {{"tls", Object{{"ca_file", certs.file("ca.pem")}}}}));
    REQUIRE(refused.wait_for_packets(1));
    const auto packets = refused.take_packets();
    REQUIRE(packets[0].get_meta("error"));
    CHECK(packets[0].get_meta("error")->as_string().find("TLS") != std::string::npos);
  }
  SourceHarness h(describe<HttpPoll>(), poll_params(server.url(), {{"tls", Object{{"ca_file", certs.file("ca.pem")},
                                                                                  {"client_cert", certs.file("client.pem")},
                                                                                  {"client_key", certs.file("client.key")}}}}));
  REQUIRE(h.wait_for_packets(1));
  CHECK(h.take_packets()[0].get("data")->as_string() == "secret");
}
