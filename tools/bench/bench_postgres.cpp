// Packets/s into PostgreSQL: a `generate` source feeding `postgres_sink` in the runtime (the
// real components, linked in), with and without the full-text column, each next to the same
// rows inserted with libpq directly in the same run (one connection, the same table, the same
// multi-row upserts of 500 rows) — the ceiling the sink can approach. It starts its own
// PostgreSQL 15 (plugins/postgres/postgres_server.hpp) in a temporary directory.
//
//   build-release/tools/bench/bench_postgres [--packets N] [--workers W]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>

#include "generate.hpp"
#include "bench_catalog.hpp"
#include "postgres_server.hpp"
#include "postgres_sink.hpp"

using namespace sluice;
using Seconds = std::chrono::duration<double>;

namespace {

const char* title = "A document of about the size of a news title";
const char* body = "and a body of a few dozen words that the index has to tokenise, like most posted text is";
constexpr std::size_t batch = 500;

double through_runtime(const PostgresServer& server, const std::string& table, std::size_t packets,
                       std::size_t workers, bool fulltext) {
  const std::string yaml =
      "name: bench\npipeline: [gen, index]\nnodes:\n"
      "  gen: {component: generate, params: {interval_ms: 0, batch: " + std::to_string(batch) +
      ", count: " + std::to_string(packets) + ", payload: {url: 'k{seq}', title: '" + title + "', body: '" + body +
      "'}}}\n"
      "  index: {component: postgres_sink, params: {conninfo: '" + server.conninfo() + "', table: " + table +
      ", key: url, columns: [url, title, body], batch_size: " + std::to_string(batch) +
      (fulltext ? ", fulltext: {title: A, body: B}" : "") + "}}\n";
  const double rate = bench::packets_per_second(
      bench::DescriptorCatalog({describe<connectors::Generate>(), describe<postgres::PostgresSink>()}), yaml, packets,
      workers);
  if (server.count("SELECT count(*) FROM " + table) != static_cast<long>(packets)) {
    std::fprintf(stderr, "bench_postgres: %s lacks rows\n", table.c_str());
    std::exit(2);
  }
  return rate;
}

// The same upserts as the sink's, built and sent by hand; with `fulltext`, the same weighted
// tsvector too.
double bare_libpq(const PostgresServer& server, const std::string& table, std::size_t packets, bool fulltext) {
  server.execute("CREATE TABLE " + table + " (url text PRIMARY KEY, title text, body text" +
                 (fulltext ? ", search tsvector); CREATE INDEX ON " + table + " USING GIN (search)" : ")"));
  PGconn* connection = PQconnectdb(server.conninfo().c_str());
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t first = 0; first < packets; first += batch) {
    std::string sql = "INSERT INTO " + table + " (url, title, body" + (fulltext ? ", search" : "") + ") VALUES ";
    std::vector<std::string> urls;
    std::vector<const char*> values;
    for (std::size_t k = first; k < std::min(packets, first + batch); ++k) urls.push_back("k" + std::to_string(k + 1));
    for (const auto& url : urls) {
      auto at = [&](int offset) { return "$" + std::to_string(values.size() + offset); };
      sql += (values.empty() ? "(" : ", (") + at(1) + "::text, " + at(2) + "::text, " + at(3) + "::text";
      if (fulltext)
        sql += ", setweight(to_tsvector('english', " + at(4) + "::text), 'A') || setweight(to_tsvector('english', " +
               at(5) + "::text), 'B')";
      sql += ")";
      values.insert(values.end(), {url.c_str(), title, body});
      if (fulltext) values.insert(values.end(), {title, body});
    }
    sql += " ON CONFLICT (url) DO UPDATE SET title = EXCLUDED.title, body = EXCLUDED.body";
    if (fulltext) sql += ", search = EXCLUDED.search";
    PGresult* result = PQexecParams(connection, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                    nullptr, nullptr, 0);
    if (PQresultStatus(result) != PGRES_COMMAND_OK) {
      std::fprintf(stderr, "libpq: %s", PQerrorMessage(connection));
      std::exit(2);
    }
    PQclear(result);
  }
  const double rate = packets / Seconds(std::chrono::steady_clock::now() - start).count();
  PQfinish(connection);
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  const auto [packets, workers] = bench::parse_options(argc, argv, "bench_postgres");
  PostgresServer server;
  const double bare = bare_libpq(server, "bare", packets, false);
  const double plain = through_runtime(server, "plain", packets, workers, false);
  const double bare_fulltext = bare_libpq(server, "bare_fulltext", packets, true);
  const double fulltext = through_runtime(server, "fulltext", packets, workers, true);
  std::printf("%zu packets, %zu workers (a connection each), multi-row upserts of %zu rows, PostgreSQL 15 on loopback\n",
              packets, workers, batch);
  std::printf("  libpq alone, 1 connection (baseline)             %9.0f packets/s\n", bare);
  std::printf("  generate -> postgres_sink                        %9.0f packets/s  (%.2fx baseline)\n", plain,
              plain / bare);
  std::printf("  libpq alone + weighted tsvector (baseline)       %9.0f packets/s\n", bare_fulltext);
  std::printf("  generate -> postgres_sink + weighted tsvector    %9.0f packets/s  (%.2fx baseline)\n", fulltext,
              fulltext / bare_fulltext);
}
