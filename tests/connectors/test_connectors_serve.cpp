// Sources and sinks of the connectors package in a real `sluice serve` on a loopback port.
#include <doctest/doctest.h>

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "../durable/durable_support.hpp"
#include "../../plugins/connectors/sqlite_rows.hpp"
#include "../../plugins/http_test_server.hpp"

using namespace rest_test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::size_t line_count(const fs::path& file) {
  if (!fs::exists(file)) return 0;
  const std::string text = read_file(file);
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("generate feeds a served graph: counted, in the metrics, and the graph takes no POST") {
  TempDir dir;
  write_file(dir.path / "graphs/ticks.yaml",
             "name: ticks\n"
             "pipeline: [tick, out]\n"
             "nodes:\n"
             "  tick: {component: generate, params: {interval_ms: 5, count: 20, payload: {n: '{seq}'}}}\n"
             "  out: {component: jsonl_file, params: {path: ticks.jsonl}}\n");
  ServerProcess server(dir);
  const fs::path output = dir.path / "var/data/ticks.jsonl";
  REQUIRE_MESSAGE(wait_until([&] { return line_count(output) == 20; }, 20s), server.stderr_text());
  const std::string text = read_file(output);
  CHECK(text.starts_with("{\"n\":\"1\"}\n"));
  CHECK(text.ends_with("{\"n\":\"20\"}\n"));

  const std::string metrics = http(server.port(), "GET", "/metrics").body;
  CHECK(metrics.find("sluice_node_packets_out_total{graph=\"ticks\",node=\"tick\",component=\"generate\"} 20") !=
        std::string::npos);

  const HttpResult posted = http(server.port(), "POST", "/v1/graphs/ticks/packets", "{\"a\": 1}",
                                 {{"Content-Type", "application/json"}});
  CHECK(posted.status == 409);
  CHECK(posted.body.find("takes no posted data") != std::string::npos);
  CHECK(server.stop() == 0);
}

TEST_CASE("a source deployed over REST starts at once and stops when its graph is deleted") {
  TempDir dir;
  fs::create_directories(dir.path / "graphs");
  ServerProcess server(dir);
  const HttpResult put = http(server.port(), "PUT", "/v1/graphs/beat",
                              "name: beat\npipeline: [tick, out]\nnodes:\n"
                              "  tick: {component: generate, params: {interval_ms: 1}}\n"
                              "  out: {component: jsonl_file, params: {path: beat.jsonl}}\n",
                              {{"Content-Type", "application/yaml"}});
  REQUIRE_MESSAGE(put.status / 100 == 2, put.body);
  const fs::path output = dir.path / "var/data/beat.jsonl";
  REQUIRE(wait_until([&] { return line_count(output) >= 10; }, 20s));
  CHECK(http(server.port(), "DELETE", "/v1/graphs/beat").status / 100 == 2);
  // The DELETE returns once the source has stopped and its packets are through.
  const std::size_t after_delete = line_count(output);
  CHECK(wait_until([&] { return http(server.port(), "GET", "/healthz").status == 200; }, 5s));
  CHECK(line_count(output) == after_delete);
  CHECK(server.stop() == 0);
}

namespace {

const Headers ndjson = {{"Content-Type", "application/x-ndjson"}};

std::string search_graph(std::string_view batch_ms) {
  return "name: search\n"
         "nodes:\n"
         "  index: {component: sqlite_sink, params: {path: search.db, key: url, columns: [title, body], "
         "fts: [title, body], batch_ms: " +
         std::string(batch_ms) + "}}\n";
}


}  // namespace

TEST_CASE("a POST with ?wait=true into sqlite_sink is answered once its batch is committed and searchable") {
  TempDir dir;
  // A long batch wait: the answer must wait for the commit, not for the packet to reach the node.
  write_file(dir.path / "graphs/search.yaml", search_graph("300"));
  ServerProcess server(dir);
  REQUIRE(wait_until([&] { return ready(server); }, 20s));
  const HttpResult answer =
      http(server.port(), "POST", "/v1/graphs/search/packets?wait=true",
           "{\"url\": \"u1\", \"title\": \"Feeding Solr\", \"body\": \"four million documents\"}\n"
           "{\"url\": \"u2\", \"title\": \"Lucene\", \"body\": \"an index\"}\n",
           ndjson);
  REQUIRE_MESSAGE(answer.status == 200, answer.body);
  const fs::path db = dir.path / "var/data/search.db";
  CHECK(sqlite_rows(db, "SELECT url FROM documents WHERE row_id IN "
                  "(SELECT rowid FROM documents_fts WHERE documents_fts MATCH 'solr OR lucene') ORDER BY url") ==
        std::vector<std::string>{"u1", "u2"});
  CHECK(server.stop() == 0);
}

TEST_CASE("kill -9 while posting into sqlite_sink: after the restart every acknowledged key has exactly one row") {
  TempDir dir;
  write_file(dir.path / "graphs/search.yaml", search_graph("20"));
  const fs::path db = dir.path / "var/data/search.db";
  std::set<std::string> acknowledged, sent;
  {
    ServerProcess server(dir);
    REQUIRE(wait_until([&] { return ready(server); }, 20s));
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::thread client([&] {
      for (int post = 0; !stop; ++post) {
        std::vector<std::string> keys;
        std::string body;
        for (int i = 0; i < 100; ++i) {
          keys.push_back("p" + std::to_string(post) + "-" + std::to_string(i));
          body += "{\"url\": \"" + keys.back() + "\", \"title\": \"t\", \"body\": \"a document of some words\"}\n";
        }
        {
          std::lock_guard lock(mutex);
          sent.insert(keys.begin(), keys.end());
        }
        int status = 0;
        try {
          status = http(server.port(), "POST", "/v1/graphs/search/packets", body, ndjson, 20s).status;
        } catch (const std::exception&) {
          return;  // the server is gone
        }
        std::lock_guard lock(mutex);
        if (status == 202) acknowledged.insert(keys.begin(), keys.end());
      }
    });
    // Mid-stream: rows are being committed while more posts are answered.
    const bool midway = wait_until(
        [&] {
          std::lock_guard lock(mutex);
          return acknowledged.size() >= 3000 && fs::exists(db) &&
                 std::stoul(sqlite_rows(db, "SELECT count(*) FROM documents").at(0)) > 0;
        },
        60s);
    server.stop(SIGKILL);
    stop = true;
    client.join();
    REQUIRE_MESSAGE(midway, server.stderr_text());
  }
  ServerProcess restarted(dir);
  std::vector<std::string> missing;
  const bool all_there = wait_until(
      [&] {
        missing.clear();
        const auto rows = sqlite_rows(db, "SELECT url FROM documents");
        const std::set<std::string> present(rows.begin(), rows.end());
        for (const auto& key : acknowledged)
          if (!present.count(key)) missing.push_back(key);
        return missing.empty();
      },
      60s);
  CHECK_MESSAGE(all_there, missing.size() << " acknowledged keys missing; " << restarted.stderr_text());
  // Replayed submissions were upserted, not added again; nothing came from nowhere.
  const auto counts = sqlite_rows(db, "SELECT count(*), count(DISTINCT url) FROM documents");
  const auto rows = std::stoul(counts.at(0).substr(0, counts[0].find('|')));
  CHECK(counts[0] == std::to_string(rows) + "|" + std::to_string(rows));
  CHECK(rows >= acknowledged.size());
  CHECK(rows <= sent.size());
  CHECK(sqlite_rows(db, "SELECT count(*) FROM documents_fts WHERE documents_fts MATCH 'words'") ==
        std::vector<std::string>{std::to_string(rows)});
  CHECK(restarted.stop() == 0);
}

namespace {

std::size_t document_rows(const fs::path& db) {
  return fs::exists(db) ? std::stoul(sqlite_rows(db, "SELECT count(*) FROM documents").at(0)) : 0;
}

// Serves `dir` until sqlite_sink has committed `rows` rows into `db`, then kill -9: mid-stream.
void kill_once_rows(const TempDir& dir, const fs::path& db, std::size_t rows) {
  ServerProcess server(dir);
  REQUIRE_MESSAGE(wait_until([&] { return document_rows(db) >= rows; }, 30s), server.stderr_text());
  server.stop(SIGKILL);
}

}  // namespace

TEST_CASE("kill -9 while dir_source feeds sqlite_sink: after the restart every file has exactly one row") {
  TempDir dir;
  const fs::path inbox = dir.path / "var/data/inbox";
  constexpr int files = 300;
  for (int i = 0; i < files; ++i) write_file(inbox / ("f" + std::to_string(i) + ".txt"), "file " + std::to_string(i));
  // Slow commits (a batch of 10 at most every 20 ms) so that the kill lands mid-stream.
  write_file(dir.path / "graphs/files.yaml",
             "name: files\npipeline: [crawl, index]\nnodes:\n"
             "  crawl: {component: dir_source, params: {path: inbox}}\n"
             "  index: {component: sqlite_sink, params: {path: files.db, key: data, batch_size: 10, batch_ms: 20}}\n");
  const fs::path db = dir.path / "var/data/files.db";
  auto rows = [&] { return document_rows(db); };
  kill_once_rows(dir, db, 20);
  const auto before_restart = rows();
  CHECK(before_restart < static_cast<unsigned long>(files));
  ServerProcess restarted(dir);
  CHECK_MESSAGE(wait_until([&] { return rows() == files; }, 60s), rows() << " rows; " << restarted.stderr_text());
  CHECK(sqlite_rows(db, "SELECT count(DISTINCT data) FROM documents") == std::vector<std::string>{std::to_string(files)});
  // Once everything is acked, the ledger names every file: another restart sends none again.
  REQUIRE(wait_until([&] { return line_count(dir.path / "var/sources/files/crawl/ledger") == files; }, 30s));
  CHECK(restarted.stop() == 0);
  ServerProcess third(dir);
  REQUIRE(wait_until([&] { return ready(third); }, 20s));
  const std::string metrics = http(third.port(), "GET", "/metrics").body;
  CHECK(metrics.find("sluice_node_packets_out_total{graph=\"files\",node=\"crawl\",component=\"dir_source\"} 0") !=
        std::string::npos);
  CHECK(third.stop() == 0);
}

namespace {

void append_lines(const fs::path& file, int from, int to) {
  std::string text;
  for (int i = from; i < to; ++i) text += "line " + std::to_string(i) + "\n";
  std::ofstream(file, std::ios::binary | std::ios::app) << text;
}

}  // namespace

TEST_CASE("kill -9 while file_tail feeds sqlite_sink: after the restart every line has exactly one row") {
  TempDir dir;
  const fs::path log = dir.path / "var/data/logs/app.log";
  fs::create_directories(log.parent_path());
  append_lines(log, 0, 100000);  // enough that the kill lands mid-file
  // The line is the key, so a line sent again after the restart is upserted, not added.
  write_file(dir.path / "graphs/tail.yaml",
             "name: tail\npipeline: [follow, index]\nnodes:\n"
             "  follow: {component: file_tail, params: {path: logs/app.log, start: beginning}}\n"
             "  index: {component: sqlite_sink, params: {path: lines.db, key: data}}\n");
  const fs::path db = dir.path / "var/data/lines.db";
  auto rows = [&] { return document_rows(db); };
  kill_once_rows(dir, db, 50);
  CHECK(rows() < 100000);
  append_lines(log, 100000, 100500);  // written while the server is down
  ServerProcess restarted(dir);
  REQUIRE_MESSAGE(wait_until([&] { return rows() == 100500; }, 60s), rows() << " rows; " << restarted.stderr_text());
  // Followed on: lines appended now come too, and the rotated file's last lines before them.
  append_lines(log, 100500, 100600);
  fs::rename(log, log.string() + ".1");
  append_lines(log, 100600, 100700);
  CHECK_MESSAGE(wait_until([&] { return rows() == 100700; }, 60s), rows() << " rows; " << restarted.stderr_text());
  CHECK(sqlite_rows(db, "SELECT count(*) FROM documents WHERE data IN ('line 0', 'line 99999', 'line 100699')") ==
        std::vector<std::string>{"3"});
  CHECK(restarted.stop() == 0);
  CHECK(fs::exists(dir.path / "var/sources/tail/follow/offsets"));
}

TEST_CASE("file_tail: a line longer than max_line_bytes reaches the wired error port, the rest goes on") {
  TempDir dir;
  const fs::path log = dir.path / "var/data/app.log";
  write_file(log, "short\n" + std::string(100, 'x') + "\nafter\n");
  write_file(dir.path / "graphs/tail.yaml",
             "name: tail\nnodes:\n"
             "  follow: {component: file_tail, params: {path: app.log, start: beginning, max_line_bytes: 10}}\n"
             "  out: {component: jsonl_file, params: {path: lines.jsonl}}\n"
             "  failed: {component: log, params: {meta: true, pretty: false}}\n"
             "edges:\n  - follow -> out\n  - follow.error -> failed\n");
  ServerProcess server(dir);
  const fs::path lines = dir.path / "var/data/lines.jsonl";
  const std::string expected_error =
      "tail/follow: the line at offset 6 of " + log.string() + " is longer than max_line_bytes (10)";
  REQUIRE_MESSAGE(wait_until([&] {
                    return line_count(lines) == 2 && server.stderr_text().find(expected_error) != std::string::npos;
                  }, 20s),
                  server.stderr_text());
  CHECK(read_file(lines) == "{\"data\":\"short\"}\n{\"data\":\"after\"}\n");
  CHECK(server.stderr_text().find("\"data\":\"xxxxxxxxxx\"") != std::string::npos);
  CHECK(server.stop() == 0);
}

TEST_CASE("http_poll in a served graph: each new body once, none again after a restart, and on after the origin was gone") {
  auto origin = std::make_unique<HttpTestServer>();
  const std::uint16_t origin_port = origin->port();
  origin->serve(R"({"v": 1})", "application/json", "\"1\"");
  TempDir dir;
  write_file(dir.path / "graphs/poll.yaml",
             "name: poll\npipeline: [poll, out]\nnodes:\n"
             "  poll: {component: http_poll, params: {url: '" + origin->url("/feed") +
                 "', interval_ms: 20, max_backoff_ms: 200}}\n"
             "  out: {component: jsonl_file, params: {path: polled.jsonl}}\n"
             "  failed: {component: log, params: {meta: true, pretty: false}}\n"
             "edges:\n  - poll.error -> failed\n");
  const fs::path output = dir.path / "var/data/polled.jsonl";
  auto asked_with = [&](const std::string& etag, std::size_t from) {
    const auto requests = origin->requests();
    return std::any_of(requests.begin() + std::min(from, requests.size()), requests.end(),
                       [&](const auto& r) { return r.if_none_match == etag; });
  };
  {
    ServerProcess server(dir);
    REQUIRE_MESSAGE(wait_until([&] { return line_count(output) == 1; }, 20s), server.stderr_text());
    origin->serve(R"({"v": 2})", "application/json", "\"2\"");
    REQUIRE(wait_until([&] { return line_count(output) == 2; }, 20s));
    REQUIRE(wait_until([&] { return asked_with("\"2\"", 0); }, 20s));
    CHECK(server.stop() == 0);
  }
  const std::size_t before_restart = origin->requests().size();
  ServerProcess restarted(dir);
  // The ETag was kept: the restarted node asks with it, gets 304s, sends nothing.
  REQUIRE_MESSAGE(wait_until([&] { return asked_with("\"2\"", before_restart + 2); }, 20s), restarted.stderr_text());
  CHECK(origin->requests()[before_restart].if_none_match == "\"2\"");
  CHECK(line_count(output) == 2);

  origin.reset();  // the origin goes away: one error packet, on the wired error port
  const std::string gone = "poll/poll: GET http://127.0.0.1:" + std::to_string(origin_port) + "/feed: ";
  REQUIRE_MESSAGE(wait_until([&] { return restarted.stderr_text().find(gone) != std::string::npos; }, 20s),
                  restarted.stderr_text());
  origin = std::make_unique<HttpTestServer>(std::deque<unsigned>{}, nullptr, origin_port);  // back on its port
  origin->serve(R"({"v": 3})", "application/json", "\"3\"");
  CHECK_MESSAGE(wait_until([&] { return line_count(output) == 3; }, 20s), restarted.stderr_text());
  CHECK(read_file(output) == "{\"v\":1}\n{\"v\":2}\n{\"v\":3}\n");
  CHECK(restarted.stop() == 0);
}
