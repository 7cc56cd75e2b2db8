#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <sluice/harness.hpp>

#include "docx_adapter.hpp"
#include "plugin_test.hpp"
#include "sample_docx.hpp"

using namespace sluice;
using namespace sluice::documents;

namespace {

Packet raw(std::string bytes, std::string mimetype = samples::docx_mimetype) {
  Packet p;
  p.set_bytes("data", std::move(bytes));
  p.set_meta("mimetype", std::move(mimetype));
  p.set_meta("stream", "s1");
  return p;
}

std::string paragraph(const std::string& runs) { return "<w:p>" + runs + "</w:p>"; }
std::string run(const std::string& text) { return "<w:r><w:t xml:space=\"preserve\">" + text + "</w:t></w:r>"; }
std::string cell(const std::string& text) { return "<w:tc>" + paragraph(run(text)) + "</w:tc>"; }

std::string first_error(ComponentHarness& h) {
  return h.errors().empty() ? std::string() : h.errors()[0].get_meta("error")->as_string();
}

}  // namespace

TEST_CASE("the module exports docx_adapter") { check_plugin_module({"docx_adapter"}); }

TEST_CASE("docx_adapter: paragraphs on lines, table cells by tabs, core properties, meta kept") {
  const std::string body =
      paragraph(run("Quarterly ") + run("report")) +
      paragraph(run("Line one") + "<w:r><w:br/><w:t>line two</w:t><w:tab/><w:t>tabbed</w:t></w:r>") +
      "<w:tbl><w:tr>" + cell("name") + cell("count") + "</w:tr><w:tr>" + cell("docs") + cell("4000000") +
      "</w:tr></w:tbl>" + paragraph("<w:del><w:r><w:delText>struck out</w:delText></w:r></w:del>" + run("After")) +
      "<w:sectPr/>";
  const std::string properties =
      "<dc:title>The Report</dc:title><dc:creator>Ada Writer</dc:creator><dc:subject>Sales</dc:subject>"
      "<cp:keywords>docx, sluice</cp:keywords><dc:description>Figures</dc:description>"
      "<cp:lastModifiedBy>Bob</cp:lastModifiedBy>"
      "<dcterms:created xsi:type=\"dcterms:W3CDTF\">2024-03-01T12:00:00Z</dcterms:created>"
      "<dcterms:modified xsi:type=\"dcterms:W3CDTF\">2024-03-02T08:30:00Z</dcterms:modified>";
  auto h = ComponentHarness::of<DocxAdapter>();
  h.push(raw(samples::docx(body, properties)));
  REQUIRE_MESSAGE(h.errors().empty(), first_error(h));
  REQUIRE(h.output().size() == 1);
  const Packet& document = h.output()[0];
  CHECK(document.get("text")->as_string() ==
        "Quarterly report\nLine one\nline two\ttabbed\nname\tcount\ndocs\t4000000\nAfter");
  CHECK(document.get("title")->as_string() == "The Report");
  CHECK(document.get("author")->as_string() == "Ada Writer");
  CHECK(document.get("subject")->as_string() == "Sales");
  CHECK(document.get("keywords")->as_string() == "docx, sluice");
  CHECK(document.get("description")->as_string() == "Figures");
  CHECK(document.get("last_modified_by")->as_string() == "Bob");
  CHECK(document.get("created")->as_string() == "2024-03-01T12:00:00Z");
  CHECK(document.get("modified")->as_string() == "2024-03-02T08:30:00Z");
  CHECK_FALSE(document.has("category"));
  CHECK_FALSE(document.has("data"));
  CHECK(document.get_meta("stream")->as_string() == "s1");
}

TEST_CASE("docx_adapter: corrupt archives, missing parts and broken XML fail with the reason") {
  auto h = ComponentHarness::of<DocxAdapter>();
  h.push(raw("PK\x03\x04 not really a zip"));
  h.push(raw(samples::zip({{"hello.txt", "no word document here"}})));
  h.push(raw(samples::zip({{"word/document.xml", "<w:document><w:body>"}})));
  h.push(raw("{}", "application/json"));
  CHECK(h.output().empty());
  CHECK(h.output("unmatched").size() == 1);
  REQUIRE(h.errors().size() == 3);
  CHECK(h.errors()[0].get_meta("error")->as_string().starts_with("not a readable DOCX (zip archive): "));
  CHECK(h.errors()[0].has_meta("error_node"));
  CHECK(h.errors()[1].get_meta("error")->as_string() ==
        "not a Word document: the archive has no word/document.xml");
  CHECK(h.errors()[2].get_meta("error")->as_string().starts_with("word/document.xml line 1: "));
}

TEST_CASE("docx_adapter: a zip bomb is refused by its unpacked size, long text by max_text_bytes") {
  // 8 MiB of spaces deflate to a few kilobytes.
  const std::string bomb = samples::docx(paragraph(run("x")) + std::string(8 << 20, ' '));
  CHECK(bomb.size() < 64 * 1024);
  auto h = ComponentHarness::of<DocxAdapter>({{"max_part_bytes", 1 << 20}});
  h.push(raw(bomb));
  CHECK(first_error(h) == "word/document.xml unpacks to more than max_part_bytes (1048576)");

  auto bounded = ComponentHarness::of<DocxAdapter>({{"max_text_bytes", 8}});
  bounded.push(raw(samples::docx(paragraph(run("short")) + paragraph(run("and a longer paragraph")))));
  CHECK(first_error(bounded) == "DOCX text exceeds max_text_bytes (8)");
  CHECK(bounded.output().empty());
}
