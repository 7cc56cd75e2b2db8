// The postgres package against a real PostgreSQL 15 started by each case
// (postgres_server.hpp): the sink in the SDK's ComponentHarness, the source in
// its SourceHarness.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <sluice/harness.hpp>
#include <sluice/json.hpp>

#include "plugin_test.hpp"
#include "postgres_query.hpp"
#include "postgres_server.hpp"
#include "postgres_sink.hpp"
#include "test_certificates.hpp"
#include "test_support.hpp"

using namespace sluice;
using namespace sluice::postgres;

TEST_CASE("the module exports its components") { check_plugin_module({"postgres_sink", "postgres_query"}); }

namespace {

// What the component's constructor says to `params` ("" when it accepts them).
template <class T>
std::string construction_error(Object params) {
  try {
    ComponentHarness::of<T>(std::move(params));
  } catch (const std::exception& e) {
    const std::string message = e.what(), before = ": constructor failed: ";
    const auto at = message.find(before);
    return at == std::string::npos ? message : message.substr(at + before.size());
  }
  return "";
}

Object sink_params(const PostgresServer& server, Object more) {
  Object params{{"conninfo", server.conninfo()}, {"batch_ms", 0}};
  for (auto& [name, value] : more) params.set(name, std::move(value));
  return params;
}

}  // namespace

TEST_CASE("postgres_sink refuses params it cannot use, naming the param") {
  auto error = [](Object more) {
    Object params{{"table", "docs"}, {"columns", Array{"title"}}};
    for (auto& [name, value] : more) params.set(name, std::move(value));
    return construction_error<PostgresSink>(std::move(params));
  };
  CHECK(error({}) == "");
  CHECK(error({{"table", "docs; DROP TABLE x"}}).find("param 'table'") != std::string::npos);
  CHECK(error({{"columns", 3}}).find("param 'columns': a list of field paths or an object") != std::string::npos);
  CHECK(error({{"columns", Object{{"bad name", "title"}}}}).find("'bad name' is not a column name") != std::string::npos);
  CHECK(error({{"fulltext", Object{{"title", "E"}}}}).find("param 'fulltext': the weight of 'title'") != std::string::npos);
  CHECK(error({{"columns", Array{"a", "b", "c"}}, {"batch_size", 30000}}).find("param 'batch_size'") != std::string::npos);
  CHECK(error({{"conninfo", "host=a port"}}).find("param 'conninfo'") != std::string::npos);
  CHECK(construction_error<PostgresQuery>({{"query", "SELECT 1"}, {"cursor_column", "id"}})
            .find("param 'query': it has no $1") != std::string::npos);
}

TEST_CASE("postgres_sink maps fields to typed columns and upserts by key: one row per key, the last values") {
  PostgresServer server;
  server.execute("CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(10,2), tags jsonb, ok boolean)");
  auto h = ComponentHarness::of<PostgresSink>(sink_params(
      server, {{"table", "items"},
               {"columns", Object{{"id", "id"}, {"name", "info.name"}, {"price", "price"}, {"tags", "tags"}, {"ok", "ok"}}},
               {"key", "id"},
               {"batch_size", 3}}));
  // Within a batch and across batches, the same key again: the later packet wins.
  h.push_json(R"({"id": 9007199254740993, "info": {"name": "big"}, "price": 1.5, "tags": ["a"], "ok": true})");
  h.push_json(R"({"id": 2, "info": {"name": "first"}, "price": 3, "tags": {"k": "v"}, "ok": false})");
  h.push_json(R"({"id": 2, "info": {"name": "second"}, "tags": "plain"})");
  h.push_json(R"({"id": 3, "info": {"name": "third"}})");
  h.push_json(R"({"id": 3, "info": {"name": "fourth"}, "price": 0.25})");
  h.close();
  CHECK(h.errors().empty());
  CHECK(server.rows("SELECT id, name, price, tags, ok FROM items ORDER BY id") ==
        std::vector<std::string>{"2|second|NULL|\"plain\"|NULL", "3|fourth|0.25|NULL|NULL",
                                 "9007199254740993|big|1.50|[\"a\"]|t"});
}

TEST_CASE("postgres_sink creates its table and fills a weighted tsvector: a document is found by its words") {
  PostgresServer server;
  {
    auto h = ComponentHarness::of<PostgresSink>(
        sink_params(server, {{"table", "public.documents"},
                             {"columns", Array{"url", "title", "body"}},
                             {"key", "url"},
                             {"fulltext", Object{{"title", "A"}, {"body", "B"}}}}));
    h.push_json(R"({"url": "u1", "title": "Feeding Solr", "body": "four million documents"})");
    h.push_json(R"({"url": "u2", "title": "Lucene", "body": "an index of solr documents"})");
    h.push_json(R"({"url": "u3", "title": "Other", "body": "nothing"})");
    h.close();
    CHECK(h.errors().empty());
  }
  const std::string search = "SELECT url FROM documents WHERE search @@ to_tsquery('english', ";
  // The title weighs more than the body: u1 (solr in its title) ranks first.
  CHECK(server.rows(search + "'solr') ORDER BY ts_rank(search, to_tsquery('english', 'solr')) DESC") ==
        std::vector<std::string>{"u1", "u2"});
  CHECK(server.rows(search + "'document') ORDER BY url") == std::vector<std::string>{"u1", "u2"});
  CHECK(server.rows("SELECT indexdef LIKE '%USING gin (search)%' FROM pg_indexes WHERE tablename = 'documents' "
                    "AND indexname = 'documents_search_index'") == std::vector<std::string>{"t"});
  // An upsert replaces the words too.
  auto again = ComponentHarness::of<PostgresSink>(sink_params(
      server, {{"table", "documents"}, {"columns", Array{"url", "title", "body"}}, {"key", "url"},
               {"fulltext", Object{{"title", "A"}, {"body", "B"}}}}));
  again.push_json(R"({"url": "u1", "title": "Feeding Elasticsearch", "body": "four million"})");
  again.close();
  CHECK(server.rows(search + "'solr') ORDER BY url") == std::vector<std::string>{"u2"});
  CHECK(server.rows(search + "'elasticsearch') ORDER BY url") == std::vector<std::string>{"u1"});
}

TEST_CASE("postgres_sink splits a failed batch: the bad row fails with PostgreSQL's message, the rest are written") {
  PostgresServer server;
  server.execute("CREATE TABLE counts (name text PRIMARY KEY, n integer NOT NULL)");
  auto h = ComponentHarness::of<PostgresSink>(
      sink_params(server, {{"table", "counts"}, {"columns", Array{"name", "n"}}, {"key", "name"}, {"batch_size", 10}}));
  for (int i = 0; i < 7; ++i) h.push_json(R"({"name": "k)" + std::to_string(i) + R"(", "n": )" + std::to_string(i) + "}");
  h.push_json(R"({"name": "bad", "n": "many"})");
  h.push_json(R"({"name": "k7", "n": 7})");
  h.close();
  REQUIRE(h.errors().size() == 1);
  const Packet& failed = h.errors().front();
  CHECK(failed.get("name")->as_string() == "bad");
  const std::string message = failed.get_meta(meta::error)->as_string();
  CHECK(message.find("postgres 127.0.0.1:" + std::to_string(server.port()) + "/postgres") != std::string::npos);
  CHECK(message.find("invalid input syntax for type integer: \"many\"") != std::string::npos);
  CHECK(server.count("SELECT count(*) FROM counts") == 8);
  CHECK(server.rows("SELECT sum(n) FROM counts") == std::vector<std::string>{"28"});
}

TEST_CASE("postgres_sink names a column the table lacks") {
  PostgresServer server;
  server.execute("CREATE TABLE narrow (id text PRIMARY KEY)");
  auto h = ComponentHarness::of<PostgresSink>(
      sink_params(server, {{"table", "narrow"}, {"columns", Array{"id", "title"}}, {"create_table", false}}));
  h.push_json(R"({"id": "a", "title": "t"})");
  h.close();
  REQUIRE(h.errors().size() == 1);
  CHECK(h.errors().front().get_meta(meta::error)->as_string().find("table narrow has no column 'title' (for field title)") !=
        std::string::npos);
}

TEST_CASE("postgres_query sends one typed packet per row and replays from the cursor of the last done row") {
  PostgresServer server;
  server.execute(
      "CREATE TABLE events (id bigint PRIMARY KEY, name text, amount numeric, exact numeric, ratio float8, ok boolean, "
      "doc jsonb, at timestamptz, plain timestamp, nothing text);"
      "INSERT INTO events VALUES "
      "(1, 'a', 12.50, 1234567890.123456789012, 0.5, true, '{\"k\": [1, 2]}', '2024-05-01 12:00:00.25+02', "
      "'2024-05-01 08:00:00', NULL),"
      "(2, 'b', 9223372036854775807, 1, 1e300, false, 'null', '2024-05-01 00:00:00+00', NULL, NULL),"
      "(3, 'c', 0, 0, 0, NULL, '[]', NULL, NULL, NULL)");
  ScratchDir state;
  const Object params{{"conninfo", server.conninfo()},
                      {"query", "SELECT * FROM events WHERE id > $1::bigint ORDER BY id LIMIT 2"},
                      {"cursor_column", "id"},
                      {"interval_ms", 10}};
  {
    SourceHarness h(describe<PostgresQuery>(), params, state.path().string());
    REQUIRE_MESSAGE(h.wait_for_packets(3), h.error());
    const auto packets = h.take_packets();
    CHECK(json::to_string(packets[0]) ==
          R"({"id":1,"name":"a","amount":12.5,"exact":"1234567890.123456789012","ratio":0.5,"ok":true,)"
          R"("doc":{"k":[1,2]},"at":"2024-05-01T10:00:00.25Z","plain":"2024-05-01T08:00:00","nothing":null})");
    CHECK(packets[1].get("amount")->as_int() == 9223372036854775807);
    CHECK(packets[1].get("ratio")->as_double() == 1e300);
    CHECK(packets[1].get("doc")->is_null());
    CHECK(packets[2].get("id")->as_int() == 3);
    h.stop();  // nothing acked
  }
  CHECK_FALSE(std::filesystem::exists(state.path() / "cursor"));
  {
    SourceHarness h(describe<PostgresQuery>(), params, state.path().string());
    REQUIRE_MESSAGE(h.wait_for_packets(3), h.error());
    CHECK(h.take_packets().size() == 3);  // all of them again
    CHECK(h.ack_all() == 3);
    h.stop();
  }
  CHECK(read_file((state.path() / "cursor").string()) == "3");
  server.execute("INSERT INTO events (id, name) VALUES (4, 'd'), (5, 'e')");
  SourceHarness h(describe<PostgresQuery>(), params, state.path().string());
  REQUIRE_MESSAGE(h.wait_for_packets(2), h.error());
  const auto packets = h.take_packets();
  REQUIRE(packets.size() == 2);
  CHECK(packets[0].get("name")->as_string() == "d");
  CHECK(packets[1].get("name")->as_string() == "e");
}

TEST_CASE("postgres_query goes on after the server restarts: it reconnects and sends the rows made meanwhile") {
  PostgresServer server;
  server.execute("CREATE TABLE events (id bigint PRIMARY KEY); INSERT INTO events VALUES (1)");
  SourceHarness h(describe<PostgresQuery>(),
                  {{"conninfo", server.conninfo()},
                   {"query", "SELECT id FROM events WHERE id > $1::bigint ORDER BY id"},
                   {"cursor_column", "id"},
                   {"interval_ms", 10}});
  REQUIRE_MESSAGE(h.wait_for_packets(1), h.error());
  server.stop();
  server.start();
  server.execute("INSERT INTO events VALUES (2), (3)");
  REQUIRE_MESSAGE(h.wait_for_packets(3, std::chrono::seconds(30)), h.error());
  std::vector<std::int64_t> ids;
  for (const Packet& packet : h.take_packets()) ids.push_back(packet.get("id")->as_int());
  CHECK(ids == std::vector<std::int64_t>{1, 2, 3});
  CHECK(h.error() == "");
}

namespace {

namespace fs = std::filesystem;

// The server's TLS settings with the test CA's `server` certificate (127.0.0.1, localhost),
// its files made readable by the server.
std::vector<std::string> tls_settings(const TestCertificates& certificates) {
  fs::permissions(fs::path(certificates.file("ca.pem")).parent_path(), fs::perms::owner_all | fs::perms::group_read |
                                                                          fs::perms::group_exec | fs::perms::others_read |
                                                                          fs::perms::others_exec);
  PostgresServer::hand_over(certificates.file("server.key"));
  return {"ssl=on", "ssl_cert_file=" + certificates.file("server.pem"), "ssl_key_file=" + certificates.file("server.key"),
          "ssl_ca_file=" + certificates.file("ca.pem")};
}

// Only TLS connections; the role `client` by its client certificate alone.
const std::string tls_only_hba = "hostssl all client 127.0.0.1/32 cert\nhostnossl all all 127.0.0.1/32 reject\n";

// What connecting with `params` says: "" when it connects.
std::string connect_error(Object params) {
  Connection connection{Params(std::move(params))};
  std::string error;
  return connection.connect(error) ? "" : error;
}

}  // namespace

TEST_CASE("postgres_sink over TLS: the server verified against ca_file, the connection encrypted") {
  TestCertificates certificates;
  PostgresServer server(tls_settings(certificates), tls_only_hba);
  server.execute("CREATE TABLE notes (id text PRIMARY KEY)");
  auto h = ComponentHarness::of<PostgresSink>(sink_params(
      server, {{"table", "notes"}, {"columns", Array{"id"}}, {"tls", Object{{"ca_file", certificates.file("ca.pem")}}}}));
  h.push_json(R"({"id": "a"})");
  h.close();
  CHECK(h.errors().empty());
  CHECK(server.rows("SELECT id FROM notes") == std::vector<std::string>{"a"});
  // The sink's connection is still open: encrypted.
  CHECK(server.rows("SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
                    "WHERE a.application_name = 'sluice'") == std::vector<std::string>{"t"});
}

TEST_CASE("postgres TLS: client certificates, host names, unknown CAs and verify: false against a real server") {
  TestCertificates certificates;
  PostgresServer server(tls_settings(certificates), tls_only_hba);
  server.execute("CREATE ROLE client LOGIN");
  fs::permissions(certificates.file("client.key"), fs::perms::owner_read | fs::perms::owner_write);  // libpq insists
  const Object address{{"host", "127.0.0.1"}, {"port", server.port()}, {"dbname", "postgres"}};
  auto with = [&](Object more) {
    Object params = address;
    for (auto& [name, value] : more) params.set(name, std::move(value));
    return params;
  };
  const std::string ca = certificates.file("ca.pem");
  CHECK(connect_error(with({{"user", "client"},
                            {"tls", Object{{"ca_file", ca},
                                           {"client_cert", certificates.file("client.pem")},
                                           {"client_key", certificates.file("client.key")}}}})) == "");
  CHECK(connect_error(with({{"user", "client"}, {"tls", Object{{"ca_file", ca}}}})).find("certificate") !=
        std::string::npos);
  const Object password{{"user", "postgres"}, {"password", PostgresServer::password}};
  auto as_postgres = [&](Object tls) {
    Object params = with(Object(password));
    params.set("tls", std::move(tls));
    return params;
  };
  CHECK(connect_error(as_postgres({{"ca_file", ca}, {"server_name", "localhost"}})) == "");
  CHECK(connect_error(as_postgres({{"ca_file", ca}, {"server_name", "wrong.example"}})).find("\"wrong.example\"") !=
        std::string::npos);
  CHECK(connect_error(as_postgres({})).find("certificate verify failed") != std::string::npos);  // not a system CA
  CHECK(connect_error(as_postgres({{"verify", false}})) == "");
  // Without TLS the server refuses: the connections above were encrypted.
  CHECK(connect_error(with({{"user", "postgres"}, {"password", PostgresServer::password}, {"conninfo", "sslmode=disable"}}))
            .find("no encryption") != std::string::npos);
}

TEST_CASE("postgres TLS params are checked at deploy: unreadable files, unknown keys, wrong types") {
  auto error = [](Object tls) {
    return construction_error<PostgresSink>({{"table", "t"}, {"columns", Array{"id"}}, {"host", "db.example"}, {"tls", tls}});
  };
  CHECK(error({{"ca_file", "/nonexistent/ca.pem"}}) ==
        "param 'tls.ca_file': cannot read /nonexistent/ca.pem: No such file or directory");
  CHECK(error({{"client_key", "no-such-key.pem"}, {"client_cert", "cert.pem"}}) ==
        "param 'tls.client_key': cannot read no-such-key.pem: No such file or directory");
  CHECK(error({{"client_cert", "/etc/hostname"}}) == "param 'tls': client_cert and client_key go together");
  CHECK(error({{"ca_fil", "/etc/hostname"}}) == "param 'tls': unknown key 'ca_fil' (did you mean 'ca_file'?)");
  CHECK(error({{"verify", "no"}}) == "param 'tls.verify': must be true or false, got string");
  CHECK(error({{"server_name", "db"}}) == "param 'tls': server_name needs `host` to be an IP address, not 'db.example'");
  CHECK(construction_error<PostgresQuery>({{"query", "SELECT $1"}, {"cursor_column", "id"}, {"tls", Object{{"ca_file", "/none"}}}})
            .find("param 'tls.ca_file': cannot read /none") != std::string::npos);
}
