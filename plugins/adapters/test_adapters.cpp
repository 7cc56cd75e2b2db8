#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <sluice/harness.hpp>
#include <sluice/json.hpp>

#include "adapters.hpp"
#include "plugin_test.hpp"

using namespace sluice;
using namespace sluice::adapters;

namespace {
// A raw packet as ingress makes it: bytes in `data`, the Content-Type in `mimetype`.
Packet raw(std::string data, std::string mimetype) {
  Packet p;
  p.set("data", std::move(data));
  p.set_meta("mimetype", std::move(mimetype));
  p.set_meta("stream", "s1");
  return p;
}
}  // namespace

TEST_CASE("the module exports the adapters") {
  check_plugin_module({"json_adapter", "ndjson_adapter", "csv_adapter", "text_adapter",
                       "xml_adapter", "html_adapter"});
}

TEST_CASE("json_adapter: an object is one packet, an array one per element, meta kept") {
  auto h = ComponentHarness::of<JsonAdapter>();
  h.push(raw(R"({"a": 1})", "application/json; charset=utf-8"));
  h.push(raw(R"([{"a": 2}, {"a": 3}])", "Application/JSON"));
  REQUIRE(h.output().size() == 3);
  CHECK(h.output()[2].get("a")->as_int() == 3);
  CHECK_FALSE(h.output()[2].has("data"));
  for (const auto& child : h.output()) CHECK(child.get_meta("stream")->as_string() == "s1");
}

TEST_CASE("adapters never drop: other mimetypes go to unmatched, bad input to errors") {
  auto h = ComponentHarness::of<JsonAdapter>();
  h.push(raw("a,b", "text/csv"));
  h.push(raw(R"([{"a": 1}, 2])", "application/json"));  // fails whole: nothing emitted
  h.push(raw(R"({"a": )", "application/json"));
  CHECK(h.output().empty());
  CHECK(h.output("unmatched").size() == 1);
  CHECK(h.output("unmatched")[0].get("data")->as_string() == "a,b");
  REQUIRE(h.errors().size() == 2);
  CHECK(h.errors()[0].get_meta("error")->as_string() == "element 1 is integer, not an object");
}

TEST_CASE("a packet without a mimetype is parsed already: the JSON adapters pass it on, the others leave it unmatched") {
  // As the ingress makes it from a JSON or NDJSON body: fields, no mimetype.
  const auto parsed = [] {
    Packet p;
    p.set("title", "hello");
    p.set("data", "{}");  // a field like any other here
    p.set_meta("stream", "s1");
    return p;
  };
  const auto passes_on = [&](ComponentHarness h) {
    h.push(parsed());
    REQUIRE(h.output().size() == 1);
    CHECK(h.output()[0].get("title")->as_string() == "hello");
    CHECK(h.output()[0].get("data")->as_string() == "{}");
    CHECK(h.output()[0].get_meta("stream")->as_string() == "s1");
    CHECK(h.output("unmatched").empty());
  };
  passes_on(ComponentHarness::of<JsonAdapter>());
  passes_on(ComponentHarness::of<NdjsonAdapter>());
  auto csv = ComponentHarness::of<CsvAdapter>();
  csv.push(parsed());
  CHECK(csv.output().empty());
  CHECK(csv.output("unmatched").size() == 1);
}

TEST_CASE("adapters: the mimetypes param takes whole types and another field") {
  auto h = ComponentHarness::of<TextAdapter>({{"mimetypes", "text/*"}, {"field", "body"}});
  Packet p;
  p.set("body", "hello");
  p.set_meta("mimetype", "text/markdown");
  h.push(std::move(p));
  REQUIRE(h.output().size() == 1);
  CHECK(h.output()[0].get("text")->as_string() == "hello");
}

TEST_CASE("ndjson_adapter: one packet per line; a bad line fails the whole body, naming it") {
  auto h = ComponentHarness::of<NdjsonAdapter>();
  h.push(raw("{\"n\": 1}\n\n{\"n\": 2}\n", "application/x-ndjson"));
  CHECK(h.output().size() == 2);
  h.push(raw("{\"n\": 3}\n{\"n\": \n", "application/x-ndjson"));
  CHECK(h.output().size() == 2);
  REQUIRE(h.errors().size() == 1);
  CHECK(h.errors()[0].get_meta("error")->as_string().find("line 2") != std::string::npos);
}

TEST_CASE("ndjson_adapter: a JSON text sequence (RFC 7464) gives one packet per record") {
  auto h = ComponentHarness::of<NdjsonAdapter>();
  h.push(raw("\x1e{\"n\": 1}\n\x1e{\n  \"n\": 2\n}\n\x1e\x1e{\"n\": 3}\n", "application/json-seq"));
  REQUIRE(h.output().size() == 3);
  for (std::int64_t n = 1; n <= 3; ++n) CHECK(h.output()[n - 1].get("n")->as_int() == n);
  h.push(raw("\x1e{\"n\": 4}\n\x1e[5]\n", "application/json-seq"));
  CHECK(h.output().size() == 3);
  REQUIRE(h.errors().size() == 1);
  CHECK(h.errors()[0].get_meta("error")->as_string().find("record 2") != std::string::npos);
}

TEST_CASE("csv_adapter: header names fields; quotes, doubled quotes and line breaks") {
  auto h = ComponentHarness::of<CsvAdapter>();
  h.push(raw("\xEF\xBB\xBFname,quote,n\r\n"
             "Ada,\"said \"\"hi\"\"\",1\r\n"
             "\r\n"
             "Bob,\"two\nlines, one value\",2,extra\r\n",
             "text/csv"));
  REQUIRE(h.output().size() == 2);
  CHECK(h.output()[0].get("name")->as_string() == "Ada");
  CHECK(h.output()[0].get("quote")->as_string() == "said \"hi\"");
  CHECK(h.output()[0].get("n")->as_string() == "1");
  CHECK(h.output()[1].get("quote")->as_string() == "two\nlines, one value");
  CHECK(h.output()[1].get("column4")->as_string() == "extra");
}

TEST_CASE("csv_adapter: no header, another delimiter and quote, typed values") {
  auto h = ComponentHarness::of<CsvAdapter>(
      {{"header", false}, {"delimiter", ";"}, {"quote", "'"}, {"infer_types", true}});
  h.push(raw("1;2.5;true;;'007';x\n", "text/csv"));
  REQUIRE(h.output().size() == 1);
  const Packet& row = h.output()[0];
  CHECK(row.get("column1")->as_int() == 1);
  CHECK(row.get("column2")->as_double() == 2.5);
  CHECK(row.get("column3")->as_bool());
  CHECK(row.get("column4")->is_null());
  CHECK(row.get("column5")->as_string() == "007");  // quoted: stays text
  CHECK(row.get("column6")->as_string() == "x");
}

TEST_CASE("csv_adapter: leading zeros stay text, repeated headers are numbered, the charset is decoded") {
  auto typed = ComponentHarness::of<CsvAdapter>({{"infer_types", true}});
  typed.push(raw("zip,n,neg,z,half\n007,0,-01,0.5,-0.5\n", "text/csv"));
  REQUIRE(typed.output().size() == 1);
  CHECK(Value(typed.output()[0].fields()) ==
        json::parse(R"({"zip": "007", "n": 0, "neg": "-01", "z": 0.5, "half": -0.5})"));
  auto h = ComponentHarness::of<CsvAdapter>();
  h.push(raw("name,name,name_2,name\na,b,c,d\n", "text/csv"));
  REQUIRE(h.output().size() == 1);
  CHECK(Value(h.output()[0].fields()) ==
        json::parse(R"({"name": "a", "name_2": "b", "name_2_2": "c", "name_3": "d"})"));
  auto latin1 = ComponentHarness::of<CsvAdapter>();
  latin1.push(raw("name\nM\xFCller\n", "text/csv; charset=ISO-8859-1"));
  latin1.push(raw("name\nM\xFCller\n", "text/csv; charset=\"windows-1252\""));
  latin1.push(raw("name\nx\n", "text/csv; charset=no-such-charset"));
  REQUIRE(latin1.output().size() == 2);
  for (const auto& row : latin1.output()) CHECK(row.get("name")->as_string() == "M\u00fcller");
  REQUIRE(latin1.errors().size() == 1);
  CHECK(latin1.errors()[0].get_meta("error")->as_string() == "charset 'no-such-charset': unknown");
}

TEST_CASE("csv_adapter: errors name the line; params are checked") {
  auto h = ComponentHarness::of<CsvAdapter>();
  h.push(raw("a,b\n1,\"open\n2,3\n", "text/csv"));
  REQUIRE(h.errors().size() == 1);
  CHECK(h.errors()[0].get_meta("error")->as_string() == "CSV line 2: unterminated quoted value");
  CHECK_THROWS_WITH(ComponentHarness::of<CsvAdapter>({{"delimiter", ";;"}}),
                    doctest::Contains("param 'delimiter'"));
}

TEST_CASE("text_adapter: lines (blank ones skipped) or the whole text") {
  auto lines = ComponentHarness::of<TextAdapter>();
  lines.push(raw("one\r\n\n  \ntwo", "text/plain"));
  REQUIRE(lines.output().size() == 2);
  CHECK(lines.output()[0].get("text")->as_string() == "one");
  CHECK(lines.output()[1].get("text")->as_string() == "two");
  auto whole = ComponentHarness::of<TextAdapter>({{"mode", "whole"}, {"into", "body"}});
  whole.push(raw("one\ntwo\n", "text/plain"));
  REQUIRE(whole.output().size() == 1);
  CHECK(whole.output()[0].get("body")->as_string() == "one\ntwo\n");
}

TEST_CASE("text_adapter: a lone CR ends a line too") {
  auto lines = ComponentHarness::of<TextAdapter>();
  lines.push(raw("one\rtwo\r\rthree\r\nfour\r", "text/plain"));
  REQUIRE(lines.output().size() == 4);
  CHECK(lines.output()[1].get("text")->as_string() == "two");
  CHECK(lines.output()[2].get("text")->as_string() == "three");
  CHECK(lines.output()[3].get("text")->as_string() == "four");
}

TEST_CASE("xml_adapter: records by XPath, fields by relative XPath") {
  auto h = ComponentHarness::of<XmlAdapter>(
      {{"records", "/feed/entry"},
       {"fields", Object{{"id", "@id"}, {"title", "title"}, {"tags", "count(tag)"}, {"none", "missing"}}}});
  h.push(raw(R"(<?xml version="1.0"?>
<feed><entry id="e1"><title>First</title><tag/><tag/></entry>
<entry id="e2"><title>Second &amp; last</title></entry></feed>)",
             "application/xml"));
  REQUIRE(h.output().size() == 2);
  CHECK(h.output()[0].get("id")->as_string() == "e1");
  CHECK(h.output()[0].get("tags")->as_double() == 2);
  CHECK(h.output()[1].get("title")->as_string() == "Second & last");
  CHECK_FALSE(h.output()[1].has("none"));
  CHECK(h.output()[1].get_meta("stream")->as_string() == "s1");
}

TEST_CASE("xml_adapter on real feeds: feed mimetypes, repeated matches, dc: by URI, integer counts") {
  auto h = ComponentHarness::of<XmlAdapter>(
      {{"records", "//item"},
       {"fields", Object{{"terms", "category/@term"}, {"creator", "dc:creator"}, {"n", "count(category)"}}}});
  h.push(raw(R"(<rss xmlns:d="http://purl.org/dc/elements/1.1/"><channel><item>
<category term="a"/><category term="b"/><d:creator>Ada</d:creator></item></channel></rss>)",
             "application/rss+xml"));
  h.push(raw(R"(<feed xmlns="http://www.w3.org/2005/Atom"><item><category term="c"/></item></feed>)",
             "application/atom+xml; charset=utf-8"));
  REQUIRE(h.output().size() == 2);
  const Packet& rss = h.output()[0];
  CHECK(*rss.get("terms") == json::parse(R"(["a", "b"])"));
  REQUIRE(rss.has("creator"));
  CHECK(rss.get("creator")->as_string() == "Ada");
  CHECK(rss.get("n")->is_int());
  CHECK(rss.get("n")->as_int() == 2);
  CHECK(h.output()[1].get("terms")->as_string() == "c");
}

TEST_CASE("xml_adapter: the namespaces param gives the XPaths' prefixes their URIs") {
  auto h = ComponentHarness::of<XmlAdapter>(
      {{"records", "//item"},
       {"fields", Object{{"thumb", "m:thumbnail/@url"}, {"x", "@x:flag"}}},
       {"namespaces", Object{{"m", "http://search.yahoo.com/mrss/"}, {"x", "urn:x"}}}});
  h.push(raw(R"(<rss xmlns:media="http://search.yahoo.com/mrss/" xmlns:y="urn:x">
<item y:flag="1"><media:thumbnail url="t.png"/></item></rss>)", "application/xml"));
  REQUIRE(h.output().size() == 1);
  CHECK(Value(h.output()[0].fields()) == json::parse(R"({"thumb": "t.png", "x": "1"})"));
  CHECK_THROWS_WITH(ComponentHarness::of<XmlAdapter>({{"namespaces", Object{{"a:b", "u"}}}}),
                    doctest::Contains("param 'namespaces'"));
}

TEST_CASE("xml_adapter: without fields, the record element becomes JSON") {
  auto h = ComponentHarness::of<XmlAdapter>({{"records", "//book"}});
  h.push(raw(R"(<lib><book lang="en"><title>T</title><author>A</author><author>B</author>
  <note>mixed <b>bold</b> text</note></book></lib>)", "text/xml"));
  REQUIRE(h.output().size() == 1);
  const Value expected = json::parse(R"({"@lang": "en", "title": "T", "author": ["A", "B"],
                                         "note": {"b": "bold", "#text": "mixed  text"}})");
  CHECK(Value(h.output()[0].fields()) == expected);
}

TEST_CASE("xml_adapter: bad XML is an error with its line; a bad XPath names the param") {
  auto h = ComponentHarness::of<XmlAdapter>();
  h.push(raw("<a>\n<b></a>", "text/xml"));
  REQUIRE(h.errors().size() == 1);
  CHECK(h.errors()[0].get_meta("error")->as_string().rfind("XML line 2: ", 0) == 0);
  CHECK_THROWS_WITH(ComponentHarness::of<XmlAdapter>({{"records", "//["}}),
                    doctest::Contains("param 'records'"));
  CHECK_THROWS_WITH(ComponentHarness::of<XmlAdapter>({{"fields", Object{{"x", "a[[]"}}}}),
                    doctest::Contains("param 'fields.x'"));
}

TEST_CASE("html_adapter: title, visible text and links") {
  auto h = ComponentHarness::of<HtmlAdapter>();
  h.push(raw(R"(<!doctype html><html><head><title> The  Page </title>
<style>body { color: red }</style><script>var hidden = 1;</script></head>
<body><h1>Hello</h1><p>Visit <a href="/a">the <b>A</b> page</a> or
<a href="https://b.example/">B</a>.</p><noscript>no js</noscript><a name="anchor">x</a>
</body></html>)",
             "text/html; charset=utf-8"));
  REQUIRE(h.output().size() == 1);
  const Packet& page = h.output()[0];
  CHECK(page.get("title")->as_string() == "The Page");
  CHECK(page.get("text")->as_string() == "Hello Visit the A page or B. x");
  const Value links = json::parse(
      R"([{"href": "/a", "text": "the A page"}, {"href": "https://b.example/", "text": "B"}])");
  CHECK(*page.get("links") == links);
}

TEST_CASE("html_adapter: soft hyphens are not text") {
  auto h = ComponentHarness::of<HtmlAdapter>();
  h.push(raw("<title>Donau&shy;dampf</title><p>Donau&shy;dampf\u00adschiff</p>", "text/html"));
  REQUIRE(h.output().size() == 1);
  CHECK(h.output()[0].get("title")->as_string() == "Donaudampf");
  CHECK(h.output()[0].get("text")->as_string() == "Donaudampfschiff");
}
