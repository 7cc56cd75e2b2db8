#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <thread>

#include <sluice/harness.hpp>
#include <sluice/json.hpp>

#include "plugin_test.hpp"
#include "publishers.hpp"
#include "test_support.hpp"

using namespace sluice;
using namespace sluice::publish;

TEST_CASE("the module exports the publishers") {
  check_plugin_module({"collect", "counter", "null", "log", "jsonl_file", "csv_file", "http"});
}

TEST_CASE("collect hands every packet back to the submitter, in order") {
  auto h = ComponentHarness::of<Collect>();
  h.push_json(R"({"n": 1})");
  h.push_json(R"({"n": 2})");
  REQUIRE(h.delivered().size() == 2);
  CHECK(h.delivered()[0].get("n")->as_int() == 1);
  CHECK(h.delivered()[1].get("n")->as_int() == 2);
  CHECK(h.errors().empty());
}

TEST_CASE("null discards packets without error") {
  auto h = ComponentHarness::of<Null>();
  h.push_json(R"({"n": 1})");
  h.close();
  CHECK(h.delivered().empty());
  CHECK(h.errors().empty());
}

TEST_CASE("counter logs every n packets and the total at the end") {
  StderrCapture captured;
  {
    auto h = ComponentHarness::of<Counter>({{"label", "seen"}, {"every", 2}});
    for (int i = 0; i < 5; ++i) h.push_json(R"({})");
    h.close();
  }
  CHECK(captured.text() == "seen: 2 packets\nseen: 4 packets\nseen: 5 packets\n");
}

TEST_CASE("log prints each packet with its prefix, with metadata on request") {
  StderrCapture captured;
  {
    auto h = ComponentHarness::of<Log>({{"prefix", "[in]"}, {"pretty", false}, {"meta", true}});
    Packet p;
    p.set("a", 1);
    p.set_meta("mimetype", "text/plain");
    h.push(std::move(p));
  }
  const auto lines = split_lines(captured.text());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].rfind("[in] ", 0) == 0);
  const Value shown = json::parse(lines[0].substr(5));
  CHECK(shown.get("fields")->get("a")->as_int() == 1);
  CHECK(shown.get("meta")->get("mimetype")->as_string() == "text/plain");
}

TEST_CASE("log pretty-prints over several lines, one packet per write") {
  StderrCapture captured;
  {
    auto h = ComponentHarness::of<Log>();
    h.push_json(R"({"a": 1, "b": [true]})");
  }
  const std::string text = captured.text();
  CHECK(split_lines(text).size() > 1);
  CHECK(json::parse(text) == json::parse(R"({"a": 1, "b": [true]})"));
}

TEST_CASE("jsonl_file appends one JSON line per packet") {
  ScratchDir dir;
  const std::string path = dir.file("sub/out.jsonl");  // the directory does not exist yet
  {
    auto h = ComponentHarness::of<JsonlFile>({{"path", path}});
    h.push_json(R"({"a": 1})");
    CHECK(read_file(path) == "{\"a\":1}\n");  // in the file as soon as the packet is through
    h.push_json(R"({"text": "two\nlines"})");
  }
  const auto lines = split_lines(read_file(path));
  REQUIRE(lines.size() == 2);
  CHECK(json::parse(lines[1]).get("text")->as_string() == "two\nlines");
}

TEST_CASE("jsonl_file writes the envelope when asked, keeping metadata") {
  ScratchDir dir;
  const std::string path = dir.file("out.jsonl");
  Packet p;
  p.set("a", 1);
  p.set_meta("id", "x1");
  p.set_meta("a", "unit", "cm");
  const Packet expected = p.clone();
  {
    auto h = ComponentHarness::of<JsonlFile>({{"path", path}, {"format", "envelope"}});
    h.push(std::move(p));
  }
  const auto lines = split_lines(read_file(path));
  REQUIRE(lines.size() == 1);
  CHECK(json::parse_envelope(lines[0]) == expected);
}

TEST_CASE("jsonl_file: a packet whose line cannot be written fails, naming the place; the next one is written") {
  ScratchDir dir;
  const std::string path = dir.file("sub/out.jsonl");
  auto h = ComponentHarness::of<JsonlFile>({{"path", path}, {"fsync", "always"}});
  std::ofstream(dir.file("sub")) << "a file where the directory should be";  // made after the deploy
  h.push_json(R"({"n": 1})");
  REQUIRE(h.errors().size() == 1);
  CHECK(h.errors()[0].get("n")->as_int() == 1);
  CHECK(h.errors()[0].get_meta("error")->as_string() ==
        "cannot create directory '" + dir.file("sub") + "': Not a directory");
  std::filesystem::remove(dir.file("sub"));
  h.push_json(R"({"n": 2})");
  CHECK(h.errors().size() == 1);
  CHECK(read_file(path) == "{\"n\":2}\n");
}

TEST_CASE("jsonl_file rotates by size into numbered files of whole lines") {
  ScratchDir dir;
  const std::string path = dir.file("out.jsonl");
  {
    // Each line is 9 bytes ({"n":10}\n); 20 bytes hold two lines.
    auto h = ComponentHarness::of<JsonlFile>({{"path", path}, {"rotate_bytes", 20}});
    for (int n = 10; n < 15; ++n) h.push_json(R"({"n": )" + std::to_string(n) + "}");
  }
  CHECK(read_file(path + ".1") == "{\"n\":10}\n{\"n\":11}\n");
  CHECK(read_file(path + ".2") == "{\"n\":12}\n{\"n\":13}\n");
  CHECK(read_file(path) == "{\"n\":14}\n");
  CHECK_FALSE(std::filesystem::exists(path + ".3"));
}

// Collects every line of `path` and its rotations.
std::vector<std::string> all_lines(const ScratchDir& dir) {
  std::vector<std::string> lines;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    for (auto& line : split_lines(read_file(entry.path().string()))) lines.push_back(std::move(line));
  return lines;
}

TEST_CASE("jsonl_file: workers with their own instances never interleave partial lines") {
  ScratchDir dir;
  const std::string path = dir.file("shared.jsonl");
  constexpr int workers = 4;
  constexpr int per_worker = 2000;
  // Long lines make a torn write likely if writes were not atomic appends.
  const std::string padding(300, 'x');
  for (const bool rotate : {false, true}) {
    CAPTURE(rotate);
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w) {
      threads.emplace_back([&, w] {
        Object params{{"path", path}, {"batch_lines", 1 + w % 2}};
        if (rotate) params.set("rotate_bytes", 64 * 1024);
        auto h = ComponentHarness::of<JsonlFile>(std::move(params));
        for (int i = 0; i < per_worker; ++i) {
          Packet p;
          p.set("w", w);
          p.set("i", i);
          p.set("pad", padding);
          h.push(std::move(p));
        }
      });
    }
    for (auto& t : threads) t.join();
    std::set<std::pair<std::int64_t, std::int64_t>> seen;
    for (const auto& line : all_lines(dir)) {
      const Value v = json::parse(line);  // throws on a torn line
      seen.insert({v.get("w")->as_int(), v.get("i")->as_int()});
      CHECK(v.get("pad")->as_string() == padding);
    }
    CHECK(seen.size() == workers * per_worker);
    if (rotate) CHECK(std::filesystem::exists(path + ".1"));
    for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
      std::filesystem::remove(entry.path());
  }
}

TEST_CASE("jsonl_file and csv_file drop a torn last line a killed writer left, and say so") {
  // A SIGKILL stops a write(2) at a page boundary: the file ends inside a line.
  ScratchDir dir;
  const std::string jsonl = dir.file("out.jsonl");
  std::ofstream(jsonl, std::ios::binary) << "{\"n\":1}\n{\"n\":2,\"text\":\"cut he";
  {
    StderrCapture err;
    auto h = ComponentHarness::of<JsonlFile>({{"path", jsonl}});
    h.push_json(R"({"n": 3})");
    // In the node's log: outside a server, a line on stderr naming the node.
    CHECK(err.text() == "warn harness/jsonl_file: " + jsonl + ": dropped a torn last line (21 bytes) left by a crash\n");
  }
  CHECK(read_file(jsonl) == "{\"n\":1}\n{\"n\":3}\n");

  // A torn header with no line before it: the file is empty again and gets its header.
  const std::string csv = dir.file("out.csv");
  std::ofstream(csv, std::ios::binary) << "id,na";
  {
    StderrCapture err;
    auto h = ComponentHarness::of<CsvFile>({{"path", csv}, {"columns", Array{"id", "name"}}});
    h.push_json(R"({"id": 1, "name": "a"})");
  }
  CHECK(read_file(csv) == "id,name\r\n1,a\r\n");

  // A torn tail longer than one read-back block, after a complete line.
  const std::string long_tail = dir.file("long.jsonl");
  std::ofstream(long_tail, std::ios::binary) << "{\"n\":1}\n" << std::string(10000, 'x');
  {
    StderrCapture err;
    auto h = ComponentHarness::of<JsonlFile>({{"path", long_tail}});
    h.push_json(R"({"n": 2})");
  }
  CHECK(read_file(long_tail) == "{\"n\":1}\n{\"n\":2}\n");

  // A file that ends in a whole line is left as it is, and nothing is said.
  {
    StderrCapture err;
    auto h = ComponentHarness::of<JsonlFile>({{"path", jsonl}});
    h.push_json(R"({"n": 4})");
    CHECK(err.text().empty());
  }
  CHECK(read_file(jsonl) == "{\"n\":1}\n{\"n\":3}\n{\"n\":4}\n");
}

TEST_CASE("jsonl_file names the param when the file cannot be opened") {
  ScratchDir dir;
  std::filesystem::create_directory(dir.file("a-directory"));
  CHECK_THROWS_WITH(ComponentHarness::of<JsonlFile>({{"path", dir.file("a-directory")}}),
                    doctest::Contains("param 'path'"));
  CHECK_THROWS_WITH(ComponentHarness::of<JsonlFile>({{"path", dir.file("x")}, {"fsync", "sometimes"}}),
                    doctest::Contains("fsync"));
  std::ofstream(dir.file("a-file")) << "x";
  CHECK_THROWS_WITH(ComponentHarness::of<JsonlFile>({{"path", dir.file("a-file/below/out.jsonl")}}),
                    doctest::Contains("is not a directory"));
}

TEST_CASE("jsonl_file and csv_file create their file and its directories at the first packet, not when constructed") {
  // `sluice check` and a deploy refused for another node construct components too.
  ScratchDir dir;
  const std::string jsonl = dir.file("new/dir/out.jsonl"), csv = dir.file("other/out.csv");
  {
    auto lines = ComponentHarness::of<JsonlFile>({{"path", jsonl}});
    auto rows = ComponentHarness::of<CsvFile>({{"path", csv}, {"columns", Array{"id"}}});
    CHECK_FALSE(std::filesystem::exists(dir.file("new")));
    CHECK_FALSE(std::filesystem::exists(dir.file("other")));
  }
  CHECK_FALSE(std::filesystem::exists(dir.file("new")));
  {
    auto lines = ComponentHarness::of<JsonlFile>({{"path", jsonl}});
    lines.push_json(R"({"id": 1})");
  }
  CHECK(read_file(jsonl) == "{\"id\":1}\n");
}

TEST_CASE("csv_file writes a header once and quotes values per RFC 4180") {
  ScratchDir dir;
  const std::string path = dir.file("out.csv");
  const Object params{{"path", path}, {"columns", Array{"id", "user.name", "tags"}}};
  {
    auto first = ComponentHarness::of<CsvFile>(params);
    auto second = ComponentHarness::of<CsvFile>(params);  // another worker, same file
    first.push_json(R"({"id": 1, "user": {"name": "Ada, Countess"}, "tags": ["a"]})");
    second.push_json(R"({"id": 2, "user": {"name": "say \"hi\""}})");
  }
  CHECK(read_file(path) ==
        "id,user.name,tags\r\n"
        "1,\"Ada, Countess\",\"[\"\"a\"\"]\"\r\n"
        "2,\"say \"\"hi\"\"\",\r\n");
}

TEST_CASE("csv_file ends rows with CRLF, or with LF when line_ending says so") {
  ScratchDir dir;
  const auto written = [&](const std::string& name, Object params) {
    params.set("path", dir.file(name));
    params.set("columns", Array{"a", "b"});
    {
      auto h = ComponentHarness::of<CsvFile>(params);
      h.push_json(R"({"a": "x", "b": "two\nlines"})");
    }
    return read_file(dir.file(name));
  };
  CHECK(written("default.csv", {}) == "a,b\r\nx,\"two\nlines\"\r\n");
  CHECK(written("lf.csv", {{"line_ending", "lf"}}) == "a,b\nx,\"two\nlines\"\n");
  CHECK_THROWS_WITH(written("bad.csv", {{"line_ending", "cr"}}), doctest::Contains("line_ending"));
}

TEST_CASE("csv_file repeats the header in every rotated file; delimiter is one character") {
  ScratchDir dir;
  const std::string path = dir.file("out.csv");
  {
    auto h = ComponentHarness::of<CsvFile>(
        {{"path", path}, {"columns", "n"}, {"delimiter", ";"}, {"rotate_bytes", 8}});
    h.push_json(R"({"n": 1})");
    h.push_json(R"({"n": 2})");
  }
  CHECK(read_file(path + ".1") == "n\r\n1\r\n");
  CHECK(read_file(path) == "n\r\n2\r\n");
  CHECK_THROWS_WITH(
      ComponentHarness::of<CsvFile>({{"path", dir.file("y.csv")}, {"columns", "n"}, {"delimiter", "ab"}}),
      doctest::Contains("param 'delimiter'"));
  CHECK_FALSE(std::filesystem::exists(dir.file("y.csv")));
}

// ---- http ----------------------------------------------------------------------------------

#include "http_test_server.hpp"

TEST_CASE("http POSTs each packet as JSON over one kept-alive connection") {
  HttpTestServer server;
  auto h = ComponentHarness::of<Http>(
      {{"url", server.url()}, {"headers", Object{{"Authorization", "Bearer t0k"}}}});
  h.push_json(R"({"n": 1, "s": "é"})");
  h.push_json(R"({"n": 2})");
  CHECK(h.errors().empty());
  const auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].method == "POST");
  CHECK(requests[0].target == "/ingest");
  CHECK(requests[0].content_type == "application/json");
  CHECK(requests[0].authorization == "Bearer t0k");
  CHECK(json::parse(requests[0].body) == json::parse(R"({"n": 1, "s": "é"})"));
  CHECK(json::parse(requests[1].body).get("n")->as_int() == 2);
  CHECK(server.connections() == 1);
}

TEST_CASE("http retries 5xx and 429, then succeeds") {
  HttpTestServer server({503, 429});
  auto h = ComponentHarness::of<Http>({{"url", server.url()}, {"backoff_ms", 1}, {"format", "envelope"}});
  Packet p;
  p.set("n", 1);
  p.set_meta("id", "x");
  h.push(std::move(p));
  CHECK(h.errors().empty());
  const auto requests = server.requests();
  REQUIRE(requests.size() == 3);
  CHECK(json::parse_envelope(requests[2].body).get_meta("id")->as_string() == "x");
}

TEST_CASE("http fails the packet at once on a 4xx, and after the retries on 5xx") {
  HttpTestServer server({400, 500, 500, 500});
  auto h = ComponentHarness::of<Http>({{"url", server.url()}, {"retries", 2}, {"backoff_ms", 1}});
  h.push_json(R"({"n": 1})");
  REQUIRE(h.errors().size() == 1);
  CHECK(h.errors()[0].get_meta("error")->as_string().find("HTTP 400") != std::string::npos);
  CHECK(h.errors()[0].get("n")->as_int() == 1);  // the packet itself, for replay
  CHECK(server.requests().size() == 1);
  h.push_json(R"({"n": 2})");
  REQUIRE(h.errors().size() == 2);
  CHECK(h.errors()[1].get_meta("error")->as_string().find("HTTP 500") != std::string::npos);
  CHECK(server.requests().size() == 4);
}

TEST_CASE("http gives up on a silent endpoint after its timeout") {
  HttpTestServer server({0, 0});
  auto h = ComponentHarness::of<Http>(
      {{"url", server.url()}, {"timeout_ms", 50}, {"retries", 1}, {"backoff_ms", 1}});
  h.push_json(R"({"n": 1})");
  REQUIRE(h.errors().size() == 1);
  CHECK(h.errors()[0].get_meta("error")->as_string().find("timed out") != std::string::npos);
  CHECK(server.requests().size() == 2);
}

TEST_CASE("http: unreachable endpoints fail; bad urls are rejected naming the param") {
  std::string closed_url;
  {
    HttpTestServer gone;
    closed_url = gone.url();
  }  // nothing listens on that port any more
  auto h = ComponentHarness::of<Http>({{"url", closed_url}, {"retries", 0}});
  h.push_json(R"({"n": 1})");
  CHECK(h.errors().size() == 1);
  CHECK_THROWS_WITH(ComponentHarness::of<Http>({{"url", "ftp://x"}}), doctest::Contains("param 'url'"));
  CHECK_THROWS_WITH(ComponentHarness::of<Http>({{"url", "http://x:y/"}}), doctest::Contains("bad port"));
}

// ---- http over TLS -------------------------------------------------------------------------

#include "test_certificates.hpp"

namespace {

namespace ssl = boost::asio::ssl;

// A server context presenting NAME.pem; with `client_ca`, clients must present a certificate
// signed by it.
std::unique_ptr<ssl::context> server_tls(const TestCertificates& certs, const std::string& name,
                                         const std::string& client_ca = "") {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  context->use_certificate_chain_file(certs.file(name + ".pem"));
  context->use_private_key_file(certs.file(name + ".key"), ssl::context::pem);
  if (!client_ca.empty()) {
    context->load_verify_file(client_ca);
    context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return context;
}

std::string error_of(ComponentHarness& h) {
  REQUIRE(h.errors().size() == 1);
  return h.errors()[0].get_meta("error")->as_string();
}

}  // namespace

TEST_CASE("http over https: verified against the given CA, kept alive, SNI and name checked") {
  const TestCertificates certs;
  auto tls = server_tls(certs, "server");
  HttpTestServer server({}, tls.get());
  auto h = ComponentHarness::of<Http>({{"url", server.url()}, {"tls_ca_file", certs.file("ca.pem")}});
  h.push_json(R"({"n": 1})");
  h.push_json(R"({"n": 2})");
  CHECK(h.errors().empty());
  REQUIRE(server.requests().size() == 2);
  CHECK(json::parse(server.requests()[1].body).get("n")->as_int() == 2);
  CHECK(server.connections() == 1);

  // The certificate names localhost too.
  auto by_name = ComponentHarness::of<Http>({{"url", server.url("/x", "localhost")}, {"tls_ca_file", certs.file("ca.pem")}});
  by_name.push_json(R"({"n": 3})");
  CHECK(by_name.errors().empty());
}

TEST_CASE("http over https: each refused certificate is named, and not retried") {
  const TestCertificates certs;
  SUBCASE("a CA the system does not trust") {
    auto tls = server_tls(certs, "server");
    HttpTestServer server({}, tls.get());
    auto h = ComponentHarness::of<Http>({{"url", server.url()}, {"retries", 3}, {"backoff_ms", 1}});
    h.push_json(R"({"n": 1})");
    const std::string error = error_of(h);
    CHECK(error.find("TLS handshake with 127.0.0.1:") != std::string::npos);
    CHECK(error.find("unable to get local issuer certificate") != std::string::npos);
    CHECK(server.requests().empty());
    CHECK(server.connections() == 1);  // no retry: it cannot help
  }
  SUBCASE("a self-signed certificate") {
    auto tls = server_tls(certs, "self-signed");
    HttpTestServer server({}, tls.get());
    auto h = ComponentHarness::of<Http>({{"url", server.url()}, {"tls_ca_file", certs.file("ca.pem")}});
    h.push_json(R"({"n": 1})");
    CHECK(error_of(h).find("self-signed certificate") != std::string::npos);
  }
  SUBCASE("an expired certificate") {
    auto tls = server_tls(certs, "expired");
    HttpTestServer server({}, tls.get());
    auto h = ComponentHarness::of<Http>({{"url", server.url()}, {"tls_ca_file", certs.file("ca.pem")}});
    h.push_json(R"({"n": 1})");
    CHECK(error_of(h).find("certificate has expired") != std::string::npos);
  }
  SUBCASE("a certificate for another host: by IP and by name") {
    auto tls = server_tls(certs, "other-host");
    HttpTestServer server({}, tls.get());
    auto by_ip = ComponentHarness::of<Http>({{"url", server.url()}, {"tls_ca_file", certs.file("ca.pem")}});
    by_ip.push_json(R"({"n": 1})");
    CHECK(error_of(by_ip).find("IP address mismatch") != std::string::npos);
    auto by_name =
        ComponentHarness::of<Http>({{"url", server.url("/x", "localhost")}, {"tls_ca_file", certs.file("ca.pem")}});
    by_name.push_json(R"({"n": 1})");
    CHECK(error_of(by_name).find("hostname mismatch") != std::string::npos);
    // tls_server_name says which name to expect; tls_verify: false accepts anything.
    auto named = ComponentHarness::of<Http>(
        {{"url", server.url()}, {"tls_ca_file", certs.file("ca.pem")}, {"tls_server_name", "wrong.example"}});
    named.push_json(R"({"n": 2})");
    CHECK(named.errors().empty());
    auto unverified = ComponentHarness::of<Http>({{"url", server.url()}, {"tls_verify", false}});
    unverified.push_json(R"({"n": 3})");
    CHECK(unverified.errors().empty());
    CHECK(server.requests().size() == 2);
  }
}

TEST_CASE("http over https: a client certificate for servers that require one") {
  const TestCertificates certs;
  auto tls = server_tls(certs, "server", certs.file("ca.pem"));
  HttpTestServer server({}, tls.get());
  auto without = ComponentHarness::of<Http>({{"url", server.url()}, {"tls_ca_file", certs.file("ca.pem")}, {"retries", 2}});
  without.push_json(R"({"n": 1})");
  const std::string refused = error_of(without);
  CHECK(refused.find("TLS connection with 127.0.0.1:") != std::string::npos);
  CHECK(refused.find("certificate required") != std::string::npos);
  CHECK(server.connections() == 1);  // the server's refusal will not change: not retried
  auto with = ComponentHarness::of<Http>({{"url", server.url()},
                                          {"tls_ca_file", certs.file("ca.pem")},
                                          {"tls_client_cert", certs.file("client.pem")},
                                          {"tls_client_key", certs.file("client.key")}});
  with.push_json(R"({"n": 2})");
  CHECK(with.errors().empty());
  REQUIRE(server.requests().size() == 1);
}

TEST_CASE("http: TLS params are checked at deploy, naming the param and the file") {
  const TestCertificates certs;
  CHECK_THROWS_WITH(ComponentHarness::of<Http>({{"url", "https://127.0.0.1:1/"}, {"tls_ca_file", certs.file("none.pem")}}),
                    doctest::Contains(("TLS ca_file '" + certs.file("none.pem") + "' cannot be used").c_str()));
  CHECK_THROWS_WITH(ComponentHarness::of<Http>({{"url", "https://127.0.0.1:1/"}, {"tls_client_cert", certs.file("client.pem")}}),
                    doctest::Contains("needs both client_cert and client_key"));
  CHECK_THROWS_WITH(ComponentHarness::of<Http>({{"url", "https://127.0.0.1:1/"},
                                                {"tls_client_cert", certs.file("client.pem")},
                                                {"tls_client_key", certs.file("server.key")}}),
                    doctest::Contains("TLS client_key"));
  CHECK_THROWS_WITH(ComponentHarness::of<Http>({{"url", "http://127.0.0.1:1/"}, {"tls_ca_file", certs.file("ca.pem")}}),
                    doctest::Contains("apply to https:// URLs only"));
}
