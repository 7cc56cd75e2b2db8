#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>

#include <sluice/harness.hpp>

#include "pdf_adapter.hpp"
#include "plugin_test.hpp"
#include "sample_documents.hpp"

using namespace sluice;
using namespace sluice::documents;

namespace {

// A raw packet as ingress makes it of a POSTed file: bytes in `data`, its type in `mimetype`.
Packet raw(std::string bytes, std::string mimetype = "application/pdf") {
  Packet p;
  p.set_bytes("data", std::move(bytes));
  p.set_meta("mimetype", std::move(mimetype));
  p.set_meta("stream", "s1");
  return p;
}

const samples::PdfSample report{
    .pages = {"Quarterly report on sluice", "Second page: four million documents"},
    .information = "/Title (The Report) /Author (Ada Writer) /Subject (Sales) /Keywords (pdf, sluice) "
                   "/Creator (a test) /Producer (sample_documents.hpp) "
                   "/CreationDate (D:20240301120000Z) /ModDate (D:20240302093000+01'00')"};

}  // namespace

TEST_CASE("the module exports pdf_adapter") { check_plugin_module({"pdf_adapter"}); }

TEST_CASE("pdf_adapter: one packet with the document's text and information, meta kept") {
  auto h = ComponentHarness::of<PdfAdapter>();
  Packet posted = raw(samples::pdf(report));
  CHECK(posted.has_meta("data", "encoding"));  // not UTF-8: it travels base64
  h.push(std::move(posted));
  REQUIRE_MESSAGE(h.errors().empty(), (h.errors().empty() ? "" : h.errors()[0].get_meta("error")->as_string()));
  REQUIRE(h.output().size() == 1);
  const Packet& document = h.output()[0];
  CHECK(document.get("text")->as_string() ==
        "Quarterly report on sluice\n\nSecond page: four million documents");
  CHECK(document.get("title")->as_string() == "The Report");
  CHECK(document.get("author")->as_string() == "Ada Writer");
  CHECK(document.get("subject")->as_string() == "Sales");
  CHECK(document.get("keywords")->as_string() == "pdf, sluice");
  CHECK(document.get("creator")->as_string() == "a test");
  CHECK(document.get("producer")->as_string() == "sample_documents.hpp");
  CHECK(document.get("created")->as_string() == "2024-03-01T12:00:00Z");
  CHECK(document.get("modified")->as_string() == "2024-03-02T08:30:00Z");
  CHECK(document.get("pages")->as_int() == 2);
  CHECK_FALSE(document.has("data"));
  CHECK(document.get_meta("stream")->as_string() == "s1");
}

TEST_CASE("pdf_adapter: per page, one packet each with its number; absent information stays absent") {
  auto h = ComponentHarness::of<PdfAdapter>({{"per", "page"}});
  h.push(raw(samples::pdf({.pages = {"one", "two", "three"}, .information = "/Title (Pages)"})));
  REQUIRE(h.output().size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(h.output()[i].get("page")->as_int() == static_cast<std::int64_t>(i + 1));
    CHECK(h.output()[i].get("pages")->as_int() == 3);
    CHECK(h.output()[i].get("title")->as_string() == "Pages");
    CHECK_FALSE(h.output()[i].has("author"));
    CHECK_FALSE(h.output()[i].has("created"));
  }
  CHECK(h.output()[2].get("text")->as_string() == "three");
}

TEST_CASE("pdf_adapter: encrypted and corrupt PDFs fail with the reason; other types are unmatched") {
  auto h = ComponentHarness::of<PdfAdapter>();
  h.push(raw(samples::pdf({.pages = {"secret"}, .encrypted = true})));
  h.push(raw("%PDF-1.4\nthis is no PDF at all"));
  h.push(raw("plain words", "text/plain"));
  CHECK(h.output().empty());
  CHECK(h.output("unmatched").size() == 1);
  REQUIRE(h.errors().size() == 2);
  CHECK(h.errors()[0].get_meta("error")->as_string() ==
        "PDF is encrypted with a password: its text cannot be read");
  CHECK(h.errors()[0].has_meta("error_node"));  // the node is named beside the message
  CHECK(h.errors()[1].get_meta("error")->as_string().starts_with("not a readable PDF: "));
}

TEST_CASE("pdf_adapter: max_pages and max_text_bytes bound what one PDF may give") {
  auto h = ComponentHarness::of<PdfAdapter>({{"max_pages", 2}});
  h.push(raw(samples::pdf({.pages = {"a", "b", "c"}})));
  REQUIRE(h.errors().size() == 1);
  CHECK(h.errors()[0].get_meta("error")->as_string() == "PDF has 3 pages, more than max_pages (2)");

  auto bounded = ComponentHarness::of<PdfAdapter>({{"max_text_bytes", 10}});
  bounded.push(raw(samples::pdf({.pages = {"short", "a longer second page"}})));
  REQUIRE(bounded.errors().size() == 1);
  CHECK(bounded.errors()[0].get_meta("error")->as_string() == "PDF text exceeds max_text_bytes (10) at page 2");
  CHECK(bounded.output().empty());
}

TEST_CASE("pdf_adapter: params are checked at deploy") {
  const auto descriptor = describe<PdfAdapter>();
  try {
    deployed_params(descriptor, Object{{"per", "chapter"}, {"max_pages", 0}});
    FAIL("the params were taken");
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    CHECK(std::count(message.begin(), message.end(), '\n') == 2);  // one line per error
    CHECK(message.find("'per'") != std::string::npos);
    CHECK(message.find("'max_pages'") != std::string::npos);
  }
}
