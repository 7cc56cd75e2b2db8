#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <sluice/harness.hpp>
#include <sluice/json.hpp>

#include "collate.hpp"
#include "feed_adapter.hpp"
#include "plugin_test.hpp"

using namespace sluice;
using namespace sluice::documents;
using namespace std::chrono_literals;

namespace {

Packet raw(std::string text, std::string mimetype) {
  Packet p;
  p.set_bytes("data", std::move(text));
  p.set_meta("mimetype", std::move(mimetype));
  p.set_meta("stream", "s1");
  return p;
}

std::string json_of(const Packet& packet) { return json::to_string(packet); }

std::string first_error(ComponentHarness& h) {
  return h.errors().empty() ? std::string() : h.errors()[0].get_meta("error")->as_string();
}

// An RSS 2.0 feed as blogs write them: content and Dublin Core modules, dates in RFC 822.
const std::string rss_feed = R"(<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:d="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>Sluice news</title>
    <link>https://example.org/</link>
    <item>
      <title>Pypes feeds Solr</title>
      <link>https://example.org/1</link>
      <guid isPermaLink="false">post-1</guid>
      <pubDate>Fri, 01 Mar 2024 12:00:00 +0100</pubDate>
      <description><![CDATA[Four <b>million</b> documents]]></description>
      <content:encoded><![CDATA[<p>The whole story</p>]]></content:encoded>
      <d:creator>Eric</d:creator>
      <category>search</category>
      <category>python</category>
    </item>
    <item>
      <title>No date</title>
      <pubDate>sometime soon</pubDate>
    </item>
  </channel>
</rss>)";

const std::string atom_feed = R"(<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Atom news</title>
  <link rel="self" href="https://example.org/feed.atom"/>
  <link href="https://example.org/"/>
  <entry>
    <title type="html">Sluice &amp; sources</title>
    <link rel="alternate" href="https://example.org/2"/>
    <link rel="enclosure" href="https://example.org/2.mp3"/>
    <id>urn:uuid:2</id>
    <published>2024-03-01T12:00:00-05:00</published>
    <updated>2024-03-02t08:30:00z</updated>
    <author><name>Ada</name><email>ada@example.org</email></author>
    <summary>Short</summary>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Long <em>text</em></p></div></content>
    <category term="kernel"/>
  </entry>
</feed>)";

}  // namespace

TEST_CASE("the module exports feed_adapter and collate") {
  check_plugin_module({"feed_adapter", "collate"});
}

TEST_CASE("feed_adapter: RSS 2.0 items, one packet each, dates in ISO 8601 UTC, meta kept") {
  auto h = ComponentHarness::of<FeedAdapter>();
  h.push(raw(rss_feed, "application/rss+xml"));
  REQUIRE_MESSAGE(h.errors().empty(), first_error(h));
  REQUIRE(h.output().size() == 2);
  CHECK(json_of(h.output()[0]) ==
        R"({"title":"Pypes feeds Solr","link":"https://example.org/1","id":"post-1",)"
        R"("published":"2024-03-01T11:00:00Z","summary":"Four <b>million</b> documents",)"
        R"("content":"<p>The whole story</p>","author":"Eric","categories":["search","python"],)"
        R"("feed_title":"Sluice news","feed_link":"https://example.org/"})");
  // A date no format reads stays as written.
  CHECK(json_of(h.output()[1]) ==
        R"({"title":"No date","published":"sometime soon","feed_title":"Sluice news","feed_link":"https://example.org/"})");
  CHECK(h.output()[1].get_meta("stream")->as_string() == "s1");
}

TEST_CASE("feed_adapter: Atom entries: the alternate link, the author's name, xhtml content as text") {
  auto h = ComponentHarness::of<FeedAdapter>();
  h.push(raw(atom_feed, "application/atom+xml"));
  REQUIRE_MESSAGE(h.errors().empty(), first_error(h));
  REQUIRE(h.output().size() == 1);
  CHECK(json_of(h.output()[0]) ==
        R"({"title":"Sluice & sources","id":"urn:uuid:2","published":"2024-03-01T17:00:00Z",)"
        R"("updated":"2024-03-02T08:30:00Z","author":"Ada","summary":"Short","content":"Long text",)"
        R"("categories":["kernel"],"link":"https://example.org/2","feed_title":"Atom news",)"
        R"("feed_link":"https://example.org/"})");
}

TEST_CASE("feed_adapter: RSS 1.0 (RDF) items beside the channel") {
  auto h = ComponentHarness::of<FeedAdapter>();
  h.push(raw(R"(<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
                 xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="https://example.org/"><title>RDF news</title><link>https://example.org/</link></channel>
      <item rdf:about="https://example.org/3"><title>Third</title><link>https://example.org/3</link>
        <dc:date>2024-03-01</dc:date><dc:subject>rdf</dc:subject></item>
    </rdf:RDF>)",
             "application/rdf+xml"));
  REQUIRE_MESSAGE(h.errors().empty(), first_error(h));
  REQUIRE(h.output().size() == 1);
  CHECK(json_of(h.output()[0]) ==
        R"({"title":"Third","link":"https://example.org/3","published":"2024-03-01T00:00:00Z",)"
        R"("categories":["rdf"],"id":"https://example.org/3","feed_title":"RDF news","feed_link":"https://example.org/"})");
}

TEST_CASE("feed_adapter: XML that is no feed, broken XML and too many entries fail with the reason") {
  auto h = ComponentHarness::of<FeedAdapter>({{"max_entries", 1}});
  h.push(raw("<html><body/></html>", "application/xml"));
  h.push(raw("<rss><channel><item>", "application/rss+xml"));
  h.push(raw(rss_feed, "application/rss+xml"));
  h.push(raw("{}", "application/json"));
  CHECK(h.output().empty());
  CHECK(h.output("unmatched").size() == 1);
  REQUIRE(h.errors().size() == 3);
  CHECK(h.errors()[0].get_meta("error")->as_string() == "not an RSS or Atom feed: the root element is <html>");
  CHECK(h.errors()[1].get_meta("error")->as_string().starts_with("feed XML line 1: "));
  CHECK(h.errors()[2].get_meta("error")->as_string() == "feed has more than max_entries (1) entries");
}

namespace {
std::vector<std::string> names(const std::vector<Packet>& packets) {
  std::vector<std::string> out;
  for (const auto& p : packets) out.push_back(p.get("n")->as_string());
  return out;
}
}  // namespace

TEST_CASE("collate: left, right, left, right; each side in its own order") {
  auto h = ComponentHarness::of<Collate>();
  h.push_json(R"({"n": "l1"})", "left");
  h.push_json(R"({"n": "l2"})", "left");
  CHECK(h.output().empty());  // waiting for right
  h.push_json(R"({"n": "r1"})", "right");
  h.push_json(R"({"n": "r2"})", "right");
  h.push_json(R"({"n": "r3"})", "right");
  h.push_json(R"({"n": "l3"})", "left");
  CHECK(names(h.output()) == std::vector<std::string>{"l1", "r1", "l2", "r2", "l3", "r3"});
}

TEST_CASE("collate: a packet whose turn does not come in time leaves alone; what waits at close leaves too") {
  auto h = ComponentHarness::of<Collate>({{"timeout_ms", 100}, {"max_pending", 2}});
  h.push_json(R"({"n": "l1"})", "left");
  h.advance(99ms);
  CHECK(h.output().empty());
  h.advance(1ms);
  CHECK(names(h.output()) == std::vector<std::string>{"l1"});
  h.push_json(R"({"n": "r1"})", "right");
  h.push_json(R"({"n": "r2"})", "right");
  h.push_json(R"({"n": "r3"})", "right");  // a third waiting: the oldest leaves early
  CHECK(names(h.output()) == std::vector<std::string>{"l1", "r1"});
  h.push_json(R"({"n": "l2"})", "left");
  h.close();
  CHECK(names(h.output()) == std::vector<std::string>{"l1", "r1", "l2", "r2", "r3"});
}
