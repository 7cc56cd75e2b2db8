// The postgres package in a real `sluice serve` on a loopback port, against a real PostgreSQL 15
// started by each case (plugins/postgres/postgres_server.hpp): REST → postgres_sink → SELECT, a server restart
// and a kill -9 of sluice mid-stream, and postgres_query's cursor across a kill -9.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

#include "../durable/durable_support.hpp"
#include "../../plugins/postgres/postgres_server.hpp"

using namespace rest_test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const Headers ndjson = {{"Content-Type", "application/x-ndjson"}};

// Graph `docs`: postgres_sink into `documents` (one row per url, title and body searchable),
// the password from the server's environment; failed rows as envelopes in failed.jsonl.
std::string docs_graph(const PostgresServer& server, int batch_ms) {
  ::setenv("SLUICE_TEST_PG_PASSWORD", PostgresServer::password, 1);  // the child server inherits it
  return "name: docs\n"
         "nodes:\n"
         "  index:\n"
         "    component: postgres_sink\n"
         "    params: {host: 127.0.0.1, port: " + std::to_string(server.port()) +
         ", dbname: postgres, user: postgres, password: '${env:SLUICE_TEST_PG_PASSWORD}', table: documents, "
         "columns: [url, title, body, n], key: url, fulltext: {title: A, body: B}, batch_ms: " + std::to_string(batch_ms) +
         "}\n"
         "  failed: {component: jsonl_file, params: {path: failed.jsonl, format: envelope}}\n"
         "edges:\n"
         "  - index.error -> failed\n";
}

void create_documents(const PostgresServer& server) {
  server.execute("CREATE TABLE documents (url text PRIMARY KEY, title text, body text, n integer, search tsvector)");
}

// Posts batches of 100 documents with fresh keys from a thread of its own until stopped (or the
// server is gone), keeping the keys sent and those acknowledged with a 202.
class Poster {
 public:
  explicit Poster(std::uint16_t port)
      : thread_([this, port] {
          for (int post = 0; !stop_; ++post) {
            std::vector<std::string> keys;
            std::string body;
            for (int i = 0; i < 100; ++i) {
              keys.push_back("p" + std::to_string(post) + "-" + std::to_string(i));
              body += "{\"url\": \"" + keys.back() + "\", \"title\": \"t\", \"body\": \"a document of some words\"}\n";
            }
            add(sent_, keys);
            int status = 0;
            try {
              status = http(port, "POST", "/v1/graphs/docs/packets", body, ndjson, 20s).status;
            } catch (const std::exception&) {
              return;  // the server is gone
            }
            if (status == 202) add(acknowledged_, keys);
          }
        }) {}
  ~Poster() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::size_t acknowledged() {
    std::lock_guard lock(mutex_);
    return acknowledged_.size();
  }
  // After stop(): the keys acknowledged and not among `rows`.
  std::vector<std::string> missing_from(const std::vector<std::string>& rows) const {
    const std::set<std::string> present(rows.begin(), rows.end());
    std::vector<std::string> missing;
    for (const auto& key : acknowledged_)
      if (!present.count(key)) missing.push_back(key);
    return missing;
  }
  std::size_t sent() const { return sent_.size(); }

 private:
  void add(std::set<std::string>& into, const std::vector<std::string>& keys) {
    std::lock_guard lock(mutex_);
    into.insert(keys.begin(), keys.end());
  }
  std::mutex mutex_;
  std::set<std::string> sent_, acknowledged_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Every acknowledged key has its row (waiting up to a minute for the replay), and no row came
// from nowhere.
void check_all_acknowledged_there(const PostgresServer& postgres, const Poster& poster, const ServerProcess& sluice) {
  std::vector<std::string> missing;
  const bool all_there = wait_until(
      [&] {
        missing = poster.missing_from(postgres.rows("SELECT url FROM documents"));
        return missing.empty();
      },
      60s);
  CHECK_MESSAGE(all_there, missing.size() << " acknowledged keys missing; " << sluice.stderr_text());
  CHECK(static_cast<std::size_t>(postgres.count("SELECT count(*) FROM documents")) <= poster.sent());
  CHECK(postgres.count("SELECT count(*) FROM documents WHERE search @@ to_tsquery('english', 'words')") ==
        postgres.count("SELECT count(*) FROM documents"));
}

}  // namespace

TEST_CASE("REST into postgres_sink: ?wait=true answers once committed and searchable, keys upserted, a bad row on the error port") {
  PostgresServer postgres;
  create_documents(postgres);
  TempDir dir;
  // A long batch wait: the answer must wait for the commit, not for the packet to reach the node.
  write_file(dir.path / "graphs/docs.yaml", docs_graph(postgres, 300));
  ServerProcess server(dir);
  REQUIRE(wait_until([&] { return ready(server); }, 20s));
  auto post = [&](const std::string& body) {
    return http(server.port(), "POST", "/v1/graphs/docs/packets?wait=true", body, ndjson);
  };
  HttpResult answer = post(
      "{\"url\": \"u1\", \"title\": \"Feeding Solr\", \"body\": \"four million documents\", \"n\": 1}\n"
      "{\"url\": \"u2\", \"title\": \"Lucene\", \"body\": \"an index\", \"n\": 2}\n");
  REQUIRE_MESSAGE(answer.status == 200, answer.body);
  const std::string search = "SELECT url FROM documents WHERE search @@ to_tsquery('english', ";
  CHECK(postgres.rows(search + "'solr | lucene') ORDER BY url") == std::vector<std::string>{"u1", "u2"});

  // The same keys again, one with a value the integer column refuses: one row per key, the
  // bad packet on the error port with PostgreSQL's message.
  answer = post(
      "{\"url\": \"u1\", \"title\": \"Feeding Elasticsearch\", \"body\": \"four million documents\", \"n\": 10}\n"
      "{\"url\": \"u2\", \"title\": \"Lucene\", \"body\": \"an index\", \"n\": \"two\"}\n"
      "{\"url\": \"u3\", \"title\": \"Third\", \"body\": \"more\", \"n\": 3}\n");
  REQUIRE_MESSAGE(answer.status == 200, answer.body);
  CHECK(postgres.rows("SELECT url, title, n FROM documents ORDER BY url") ==
        std::vector<std::string>{"u1|Feeding Elasticsearch|10", "u2|Lucene|2", "u3|Third|3"});
  CHECK(postgres.rows(search + "'elasticsearch') ORDER BY url") == std::vector<std::string>{"u1"});
  const fs::path failed = dir.path / "var/data/failed.jsonl";
  REQUIRE(wait_until([&] { return fs::exists(failed) && read_file(failed).find('\n') != std::string::npos; }, 10s));
  const sluice::Value envelope = sluice::json::parse(read_file(failed));
  CHECK(envelope.as_object().find("fields")->as_object().find("url")->as_string() == "u2");
  const std::string error = envelope.as_object().find("meta")->as_object().find("error")->as_string();
  CHECK_MESSAGE(error.find("postgres 127.0.0.1:" + std::to_string(postgres.port()) +
                           "/postgres: invalid input syntax for type integer: \"two\"") != std::string::npos,
                error);
  // Params the sink cannot use are refused at deploy, naming the node and the param.
  const HttpResult refused = http(server.port(), "PUT", "/v1/graphs/bad",
                                  "name: bad\nnodes:\n  index: {component: postgres_sink, params: {table: t, "
                                  "columns: [id], tls: {ca_file: ca.pem}}}\n",
                                  {{"Content-Type", "application/yaml"}});
  CHECK(refused.status == 422);
  CHECK_MESSAGE(refused.body.find("index") != std::string::npos, refused.body);
  CHECK_MESSAGE(refused.body.find("param 'tls.ca_file': cannot read " + (fs::canonical(dir.path / "var" / "data") / "ca.pem").string() + ": No such file or directory") != std::string::npos,
                refused.body);
  // The password never shows: the graph as served keeps the reference.
  const std::string shown = http(server.port(), "GET", "/v1/graphs/docs").body;
  CHECK(shown.find(PostgresServer::password) == std::string::npos);
  CHECK(server.stop() == 0);
}

TEST_CASE("PostgreSQL restarted while posting into postgres_sink: nothing acknowledged is lost, one row per key") {
  PostgresServer postgres;
  create_documents(postgres);
  TempDir dir;
  write_file(dir.path / "graphs/docs.yaml", docs_graph(postgres, 20));
  ServerProcess server(dir);
  REQUIRE(wait_until([&] { return ready(server); }, 20s));
  Poster poster(server.port());
  REQUIRE(wait_until([&] { return poster.acknowledged() >= 2000 && postgres.count("SELECT count(*) FROM documents") > 0; },
                     60s));
  postgres.stop();
  // The sink has noticed and holds what it took; posts are still acknowledged into the log.
  const std::size_t before = poster.acknowledged();
  CHECK_MESSAGE(wait_until([&] { return server.stderr_text().find("; retrying") != std::string::npos; }, 20s),
                server.stderr_text());
  postgres.start();
  CHECK_MESSAGE(wait_until([&] { return server.stderr_text().find("written again") != std::string::npos; }, 30s),
                server.stderr_text());
  REQUIRE(wait_until([&] { return poster.acknowledged() >= before + 2000; }, 60s));
  poster.stop();
  check_all_acknowledged_there(postgres, poster, server);
  CHECK(server.stop() == 0);
}

TEST_CASE("kill -9 of sluice while posting into postgres_sink: after the restart every acknowledged key has its row") {
  PostgresServer postgres;
  create_documents(postgres);
  TempDir dir;
  write_file(dir.path / "graphs/docs.yaml", docs_graph(postgres, 20));
  std::optional<Poster> poster;
  {
    ServerProcess server(dir);
    REQUIRE(wait_until([&] { return ready(server); }, 20s));
    poster.emplace(server.port());
    // Mid-stream: rows are being committed while more posts are answered.
    const bool midway = wait_until(
        [&] { return poster->acknowledged() >= 3000 && postgres.count("SELECT count(*) FROM documents") > 0; }, 60s);
    server.stop(SIGKILL);
    poster->stop();
    REQUIRE_MESSAGE(midway, server.stderr_text());
  }
  ServerProcess restarted(dir);
  check_all_acknowledged_there(postgres, *poster, restarted);
  CHECK(restarted.stop() == 0);
}

TEST_CASE("kill -9 of sluice while postgres_query feeds a file: the restart goes on from the last done row") {
  PostgresServer postgres;
  constexpr int rows = 100000;
  postgres.execute("CREATE TABLE events (id bigint PRIMARY KEY, name text);"
                   "INSERT INTO events SELECT i, 'event ' || i FROM generate_series(1, " + std::to_string(rows) + ") i");
  TempDir dir;
  write_file(dir.path / "graphs/changes.yaml",
             "name: changes\npipeline: [poll, out]\nnodes:\n"
             "  poll: {component: postgres_query, params: {conninfo: '" + postgres.conninfo() +
             "', query: \"SELECT 'r' || id AS key, id, name FROM events WHERE id > $1::bigint ORDER BY id LIMIT 500\", "
             "cursor_column: id, interval_ms: 50}}\n"
             "  out: {component: jsonl_file, params: {path: changes.jsonl}}\n");
  const fs::path output = dir.path / "var/data/changes.jsonl";
  const fs::path cursor_file = dir.path / "var/sources/changes/poll/cursor";
  auto lines = [&] { return fs::exists(output) ? count_keys(output).size() : 0; };
  {
    ServerProcess server(dir);
    REQUIRE_MESSAGE(wait_until([&] { return lines() >= 2000 && fs::exists(cursor_file); }, 60s), server.stderr_text());
    server.stop(SIGKILL);
  }
  REQUIRE(lines() < static_cast<std::size_t>(rows));
  const long cursor = std::stol(read_file(cursor_file));
  ServerProcess restarted(dir);
  CHECK_MESSAGE(wait_until([&] { return lines() == rows; }, 120s), lines() << " rows; " << restarted.stderr_text());
  // Every row is there; the ones up to the cursor at the kill, done before it, only once.
  const auto seen = count_keys(output);
  int replayed_before_cursor = 0;
  for (const auto& [key, times] : seen)
    if (std::stol(key.substr(1)) <= cursor && times != 1) ++replayed_before_cursor;
  CHECK(replayed_before_cursor == 0);
  CHECK(cursor > 0);
  CHECK(restarted.stop() == 0);
}
