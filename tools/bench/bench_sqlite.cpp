// Packets/s into SQLite: a `generate` source feeding `sqlite_sink` in the runtime (the real
// components, linked in), with and without the FTS5 index, next to the same rows written by a
// bare loop over SQLite's C API in the same run (one connection, the same schema, batches and
// journal mode) — the ceiling the sink can approach.
//
//   build-release/tools/bench/bench_sqlite [--packets N] [--workers W]
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include <sluice/json.hpp>

#include "generate.hpp"
#include "bench_catalog.hpp"
#include "sqlite_sink.hpp"

using namespace sluice;
namespace fs = std::filesystem;
using Seconds = std::chrono::duration<double>;

namespace {

const char* title = "A document of about the size of a news title";
const char* body = "and a body of a few dozen words that the index has to tokenise, like most posted text is";

double through_runtime(const fs::path& db, std::size_t packets, std::size_t workers, bool fts) {
  const std::string yaml =
      "name: bench\npipeline: [gen, index]\nnodes:\n"
      "  gen: {component: generate, params: {interval_ms: 0, batch: 500, count: " + std::to_string(packets) +
      ", payload: {url: 'k{seq}', title: '" + title + "', body: '" + body + "'}}}\n"
      "  index: {component: sqlite_sink, params: {path: " + db.string() +
      ", key: url, columns: [title, body], batch_size: 500" + (fts ? ", fts: [title, body]" : "") + "}}\n";
  return bench::packets_per_second(
      bench::DescriptorCatalog({describe<connectors::Generate>(), describe<connectors::SqliteSink>()}), yaml, packets,
      workers);
}

void check(int rc, sqlite3* db) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE) {
    std::fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
    std::exit(2);
  }
}

double bare_sqlite(const fs::path& file, std::size_t packets) {
  sqlite3* db = nullptr;
  check(sqlite3_open(file.c_str(), &db), db);
  check(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                         "CREATE TABLE documents (row_id INTEGER PRIMARY KEY, url UNIQUE NOT NULL, title, body, doc TEXT);",
                     nullptr, nullptr, nullptr), db);
  sqlite3_stmt* insert = nullptr;
  check(sqlite3_prepare_v2(db, "INSERT INTO documents (url, title, body, doc) VALUES (?, ?, ?, ?) ON CONFLICT(url) "
                               "DO UPDATE SET title = excluded.title, body = excluded.body, doc = excluded.doc",
                           -1, &insert, nullptr), db);
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < packets; i += 500) {
    check(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), db);
    for (std::size_t k = i; k < std::min(packets, i + 500); ++k) {
      Packet p;  // the same work per row as the sink: a packet serialised into `doc`
      p.set("url", "k" + std::to_string(k + 1));
      p.set("title", title);
      p.set("body", body);
      const std::string doc = json::to_string(p);
      sqlite3_reset(insert);
      sqlite3_bind_text(insert, 1, p.get("url")->as_string().c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, 2, title, -1, SQLITE_STATIC);
      sqlite3_bind_text(insert, 3, body, -1, SQLITE_STATIC);
      sqlite3_bind_text(insert, 4, doc.data(), static_cast<int>(doc.size()), SQLITE_TRANSIENT);
      check(sqlite3_step(insert), db);
    }
    check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db);
  }
  const double rate = packets / Seconds(std::chrono::steady_clock::now() - start).count();
  sqlite3_finalize(insert);
  sqlite3_close(db);
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  const auto [packets, workers] = bench::parse_options(argc, argv, "bench_sqlite");
  const fs::path dir = fs::temp_directory_path() / ("sluice-bench-sqlite-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const double bare = bare_sqlite(dir / "bare.db", packets);
  const double plain = through_runtime(dir / "plain.db", packets, workers, false);
  const double fts = through_runtime(dir / "fts.db", packets, workers, true);
  std::printf("%zu packets, %zu workers, batches of 500, WAL journal, upsert by key\n", packets, workers);
  std::printf("  bare SQLite loop (baseline)      %9.0f packets/s\n", bare);
  std::printf("  generate -> sqlite_sink          %9.0f packets/s  (%.2fx baseline)\n", plain, plain / bare);
  std::printf("  generate -> sqlite_sink + FTS5   %9.0f packets/s  (%.2fx baseline)\n", fts, fts / bare);
  fs::remove_all(dir);
}
