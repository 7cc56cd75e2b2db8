// The documents package in a real `sluice serve` on a loopback port: files POSTed with their
// content type, routed by mimetype through the adapters' `unmatched` ports, the packets back.
#include <doctest/doctest.h>

#include "../durable/durable_support.hpp"
#include "../../plugins/connectors/sqlite_rows.hpp"
#include "../../plugins/documents/sample_documents.hpp"
#include "../../plugins/documents/sample_docx.hpp"

using namespace rest_test;
using namespace sluice::documents;

namespace {

// Each adapter takes its own type and hands any other to the next one through its
// `unmatched` port: the chain routes by mimetype.
const std::string documents_graph =
    "name: documents\n"
    "nodes:\n"
    "  pdf: {component: pdf_adapter, params: {max_pages: 5}}\n"
    "  docx: {component: docx_adapter}\n"
    "  feed: {component: feed_adapter}\n"
    "  contacts: {component: address, params: {field: text, kinds: [email, phone]}}\n"
    "  out: {component: collect}\n"
    "edges:\n"
    "  - pdf -> contacts\n"
    "  - pdf.unmatched -> docx\n"
    "  - docx -> contacts\n"
    "  - docx.unmatched -> feed\n"
    "  - feed -> out\n"
    "  - contacts -> out\n";

HttpResult post(const ServerProcess& server, std::string_view graph, std::string_view body, std::string_view type) {
  return http(server.port(), "POST", "/v1/graphs/" + std::string(graph) + "/packets?wait=true", body,
              {{"Content-Type", std::string(type)}});
}

struct Served {
  TempDir dir;
  std::unique_ptr<ServerProcess> server;
  explicit Served(const std::string& graph_file, const std::string& graph) {
    write_file(dir.path / "graphs" / graph_file, graph);
    server = std::make_unique<ServerProcess>(dir);
    REQUIRE_MESSAGE(wait_until([&] { return ready(*server); }, 20s), server->stderr_text());
  }
};

}  // namespace

TEST_CASE("a POSTed PDF becomes one packet with its text and information; a locked one an error naming the node") {
  Served served("documents.yaml", documents_graph);
  ServerProcess& server = *served.server;

  const HttpResult answer = post(server, "documents",
                                 samples::pdf({.pages = {"Feeding Solr", "mail eric@example.org"},
                                               .information = "/Title (Pypes) /Author (Eric)"}),
                                 "application/pdf");
  REQUIRE_MESSAGE(answer.status == 200, answer.body);
  sluice::Value outcome = answer.json();
  REQUIRE_MESSAGE(outcome["results"].as_array().size() == 1, answer.body);
  sluice::Value& document = outcome["results"][0];
  CHECK(document["text"].as_string() == "Feeding Solr\n\nmail eric@example.org");
  CHECK(document["title"].as_string() == "Pypes");
  CHECK(document["author"].as_string() == "Eric");
  CHECK(document["pages"].as_int() == 2);
  CHECK(sluice::json::to_string(document["emails"]) == R"(["eric@example.org"])");

  const HttpResult locked = post(server, "documents", samples::pdf({.pages = {"x"}, .encrypted = true}), "application/pdf");
  REQUIRE_MESSAGE(locked.status == 200, locked.body);
  sluice::Value failed = locked.json();
  CHECK(failed["status"].as_string() == "failed");
  REQUIRE(failed["errors"].as_array().size() == 1);
  CHECK(failed["errors"][0]["node"].as_string() == "documents/pdf");
  CHECK(failed["errors"][0]["error"].as_string() == "PDF is encrypted with a password: its text cannot be read");

  const HttpResult too_long = post(server, "documents", samples::pdf({.pages = {"1", "2", "3", "4", "5", "6"}}), "application/pdf");
  CHECK(too_long.json()["errors"][0]["error"].as_string() == "PDF has 6 pages, more than max_pages (5)");
  CHECK(server.stop() == 0);
}

TEST_CASE("a POSTed .docx reaches docx_adapter by its content type; a zip that is no document an error naming the node") {
  Served served("documents.yaml", documents_graph);
  ServerProcess& server = *served.server;
  const HttpResult answer = post(server, "documents",
                                 samples::docx("<w:p><w:r><w:t>Call +44 20 7946 0958</w:t></w:r></w:p>",
                                               "<dc:title>Contacts</dc:title>"),
                                 samples::docx_mimetype);
  REQUIRE_MESSAGE(answer.status == 200, answer.body);
  sluice::Value outcome = answer.json();
  REQUIRE_MESSAGE(outcome["results"].as_array().size() == 1, answer.body);
  CHECK(outcome["results"][0]["title"].as_string() == "Contacts");
  CHECK(outcome["results"][0]["text"].as_string() == "Call +44 20 7946 0958");
  CHECK(sluice::json::to_string(outcome["results"][0]["phones"]) == R"(["+442079460958"])");

  const HttpResult not_word = post(server, "documents", samples::zip({{"a.txt", "a"}}), samples::docx_mimetype);
  sluice::Value failed = not_word.json();
  REQUIRE_MESSAGE(failed["errors"].as_array().size() == 1, not_word.body);
  CHECK(failed["errors"][0]["node"].as_string() == "documents/docx");
  CHECK(failed["errors"][0]["error"].as_string() == "not a Word document: the archive has no word/document.xml");
  CHECK(server.stop() == 0);
}

TEST_CASE("a POSTed RSS feed becomes a packet per item") {
  Served served("documents.yaml", documents_graph);
  ServerProcess& server = *served.server;
  const HttpResult answer =
      post(server, "documents",
           "<rss version=\"2.0\"><channel><title>News</title>"
           "<item><title>One</title><pubDate>Fri, 01 Mar 2024 12:00:00 GMT</pubDate></item>"
           "<item><title>Two</title></item></channel></rss>",
           "application/rss+xml; charset=utf-8");
  REQUIRE_MESSAGE(answer.status == 200, answer.body);
  sluice::Value outcome = answer.json();
  REQUIRE_MESSAGE(outcome["results"].as_array().size() == 2, answer.body);
  CHECK(outcome["results"][0]["title"].as_string() == "One");
  CHECK(outcome["results"][0]["published"].as_string() == "2024-03-01T12:00:00Z");
  CHECK(outcome["results"][1]["feed_title"].as_string() == "News");
  CHECK(server.stop() == 0);
}

TEST_CASE("graphs/documents.yaml: a POSTed PDF and .docx are searchable once the POST is answered") {
  Served served("documents.yaml", read_file(DOCUMENTS_GRAPH));
  ServerProcess& server = *served.server;
  const HttpResult pdf = post(server, "documents",
                              samples::pdf({.pages = {"about sluice", "feeding solr"}, .information = "/Title (Report)"}),
                              "application/pdf");
  REQUIRE_MESSAGE(pdf.status == 200, pdf.body);
  const HttpResult docx = post(server, "documents", samples::docx("<w:p><w:r><w:t>solr and lucene</w:t></w:r></w:p>",
                                                                  "<dc:title>Memo</dc:title>"),
                               samples::docx_mimetype);
  REQUIRE_MESSAGE(docx.status == 200, docx.body);
  CHECK(sqlite_rows(served.dir.path / "var/data/documents.db",
                    "SELECT title, page FROM documents WHERE row_id IN "
                    "(SELECT rowid FROM documents_fts WHERE documents_fts MATCH 'solr') ORDER BY title") ==
        std::vector<std::string>{"Memo|NULL", "Report|2"});
  CHECK(server.stop() == 0);
}

TEST_CASE("bad params are refused at deploy with a 422 naming the node and the param") {
  Served served("documents.yaml", documents_graph);
  ServerProcess& server = *served.server;
  const HttpResult put = http(server.port(), "PUT", "/v1/graphs/bad",
                              "name: bad\nnodes:\n  scan: {component: pdf_adapter, params: {per: chapter}}\n"
                              "  out: {component: collect}\npipeline: [scan, out]\n",
                              {{"Content-Type", "application/yaml"}});
  CHECK(put.status == 422);
  CHECK_MESSAGE(put.body.find("scan") != std::string::npos, put.body);
  CHECK_MESSAGE(put.body.find("'per'") != std::string::npos, put.body);
  CHECK(server.stop() == 0);
}
