#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <sluice/harness.hpp>
#include <sluice/json.hpp>

#include "plugin_test.hpp"
#include "transform.hpp"

using namespace sluice;
using namespace sluice::transform;

namespace {
// Runs one packet through a component built from `params`; returns its single output.
template <class T>
Packet through(Object params, std::string_view json) {
  auto h = ComponentHarness::of<T>(std::move(params));
  h.push_json(json);
  for (const auto& e : h.errors()) FAIL_CHECK(e.get_meta("error")->as_string());
  REQUIRE(h.output().size() == 1);
  return std::move(h.output()[0]);
}

// The error text of the one packet that failed.
template <class T>
std::string failure(Object params, std::string_view json) {
  auto h = ComponentHarness::of<T>(std::move(params));
  h.push_json(json);
  CHECK(h.output().empty());
  REQUIRE(h.errors().size() == 1);
  return h.errors()[0].get_meta("error")->as_string();
}

Value fields(const Packet& p) { return Value(p.fields()); }
}  // namespace

TEST_CASE("the module exports the transformers and extractors") {
  check_plugin_module({"set_field", "copy_field", "rename_field", "delete_field", "case", "trim",
                       "template", "hash", "json_parse", "date_normalize", "regex_extract",
                       "email", "url", "address"});
}

TEST_CASE("set_field sets a value, creating objects; overwrite false only fills in") {
  CHECK(fields(through<SetField>({{"field", "a.b"}, {"value", Array{1, "x"}}}, R"({"n": 1})")) ==
        json::parse(R"({"n": 1, "a": {"b": [1, "x"]}})"));
  CHECK(fields(through<SetField>({{"field", "n"}, {"value", 5}, {"overwrite", false}}, R"({"n": 1})")) ==
        json::parse(R"({"n": 1})"));
  CHECK(failure<SetField>({{"field", "s.x"}, {"value", 1}}, R"({"s": "text"})")
            .find("cannot set 's.x'") != std::string::npos);
}

TEST_CASE("copy_field and rename_field; rename keeps field metadata") {
  CHECK(fields(through<CopyField>({{"from", "user.name"}, {"to", "name"}}, R"({"user": {"name": "Ada"}})")) ==
        json::parse(R"({"user": {"name": "Ada"}, "name": "Ada"})"));
  CHECK(fields(through<CopyField>({{"from", "nope"}, {"to", "x"}}, R"({"a": 1})")) ==
        json::parse(R"({"a": 1})"));
  auto h = ComponentHarness::of<RenameField>({{"from", "title"}, {"to", "headline"}});
  Packet p;
  p.set("title", "T");
  p.set_meta("title", "lang", "en");
  h.push(std::move(p));
  REQUIRE(h.output().size() == 1);
  CHECK(h.output()[0].get("headline")->as_string() == "T");
  CHECK(h.output()[0].get_meta("headline", "lang")->as_string() == "en");
  CHECK(fields(through<RenameField>({{"from", "a.b"}, {"to", "c"}}, R"({"a": {"b": 1, "k": 2}})")) ==
        json::parse(R"({"a": {"k": 2}, "c": 1})"));
  // Quoted keys are keys, first or last: moved away, not left behind as null.
  CHECK(fields(through<RenameField>({{"from", R"(a["x.y"])"}, {"to", "c"}}, R"({"a": {"x.y": 1, "k": 2}})")) ==
        json::parse(R"({"a": {"k": 2}, "c": 1})"));
  CHECK(fields(through<RenameField>({{"from", R"(["x.y"])"}, {"to", R"(["p.q"])"}}, R"({"x.y": 1})")) ==
        json::parse(R"({"p.q": 1})"));
  // An array element is cleared, so that the elements after it keep their places.
  CHECK(fields(through<RenameField>({{"from", "list[0]"}, {"to", "first"}}, R"({"list": [1, 2]})")) ==
        json::parse(R"({"list": [null, 2], "first": 1})"));
}

TEST_CASE("delete_field deletes by name and wildcard at any level") {
  CHECK(fields(through<DeleteField>({{"fields", Array{"password", "tmp_*", "user.*_token", "x?"}}},
                                    R"({"password": 1, "tmp_a": 2, "tmp_b": 3, "keep": 4,
                                        "user": {"api_token": 5, "name": "n"}, "xy": 6, "xyz": 7})")) ==
        json::parse(R"({"keep": 4, "user": {"name": "n"}, "xyz": 7})"));
  CHECK_THROWS_WITH(ComponentHarness::of<DeleteField>({{"fields", "a..b"}}),
                    doctest::Contains("param 'fields'"));
}

TEST_CASE("case and trim change strings and arrays of strings") {
  CHECK(fields(through<Case>({{"fields", Array{"a", "tags"}}, {"to", "upper"}}, R"({"a": "x1y", "tags": ["p", 3]})")) ==
        json::parse(R"({"a": "X1Y", "tags": ["P", 3]})"));
  CHECK(through<Case>({{"fields", "t"}, {"to", "title"}}, R"({"t": "the o'neil BOOK-club"})")
            .get("t")->as_string() == "The O'neil Book-Club");
  CHECK(fields(through<Trim>({}, R"({"a": "  x \n", "b": 1, "c": {"d": " y "}})")) ==
        json::parse(R"({"a": "x", "b": 1, "c": {"d": " y "}})"));
  CHECK(fields(through<Trim>({{"fields", "c.d"}, {"chars", " y"}}, R"({"c": {"d": " yxy "}})")) ==
        json::parse(R"({"c": {"d": "x"}})"));
}

TEST_CASE("case and trim follow Unicode: ß, accented capitals, NBSP, ideographic space") {
  CHECK(through<Case>({{"fields", "t"}, {"to", "upper"}}, R"({"t": "straße café"})")
            .get("t")->as_string() == "STRASSE CAFÉ");
  CHECK(through<Case>({{"fields", "t"}, {"to", "lower"}}, R"({"t": "ÉCOLE ÀÖ"})")
            .get("t")->as_string() == "école àö");
  CHECK(through<Case>({{"fields", "t"}, {"to", "title"}}, R"({"t": "ÉCOLE élémentaire"})")
            .get("t")->as_string() == "École Élémentaire");
  CHECK(through<Trim>({}, "{\"t\": \"\u00a0\u3000 x\u00a0y \u2003\"}").get("t")->as_string() ==
        "x\u00a0y");
  CHECK(through<Trim>({{"chars", "—*"}}, R"({"t": "—*a—b*—"})").get("t")->as_string() == "a—b");
}

TEST_CASE("template fills {field} placeholders") {
  const Object params{{"template", "{user.name} <{email}> {{{n}}} {missing}."}, {"into", "line"}};
  CHECK(through<Template>(params, R"({"user": {"name": "Ada"}, "email": "a@x.org", "n": [1]})")
            .get("line")->as_string() == "Ada <a@x.org> {[1]} .");
  CHECK(failure<Template>({{"template", "{a}{b}"}, {"into", "x"}, {"strict", true}}, R"({"a": 1})") ==
        "template: field 'b' is missing");
  CHECK_THROWS_WITH(ComponentHarness::of<Template>({{"template", "{open"}, {"into", "x"}}),
                    doctest::Contains("param 'template'"));
}

TEST_CASE("hash gives a stable id from field values, independent of other fields") {
  const Object params{{"fields", Array{"a", "b"}}, {"meta_id", true}};
  const Packet one = through<Hash>(params, R"({"a": "x", "b": 1, "other": 1})");
  const Packet two = through<Hash>(params, R"({"other": 2, "b": 1, "a": "x"})");
  const Packet three = through<Hash>(params, R"({"a": "x1", "b": null})");
  const std::string& id = one.get("id")->as_string();
  CHECK(id.size() == 32);
  CHECK(id == two.get("id")->as_string());
  CHECK(id != three.get("id")->as_string());
  CHECK(one.get_meta("id")->as_string() == id);
  // Pinned: ids must not change between releases, or stored data loses its keys.
  CHECK(through<Hash>({{"fields", "a"}}, R"({"a": "x"})").get("id")->as_string() == "84b44c636b565032b52255ef9eddfc89");
}

TEST_CASE("hash: values equal in conditions (1 and 1.0, any key order) give one id") {
  const Object params{{"fields", Array{"n", "o"}}};
  const std::string id = through<Hash>(params, R"({"n": 1, "o": {"a": 1, "b": [2]}})").get("id")->as_string();
  CHECK(through<Hash>(params, R"({"n": 1.0, "o": {"b": [2.0], "a": 1}})").get("id")->as_string() == id);
  CHECK(through<Hash>(params, R"({"n": 1.5, "o": {"a": 1, "b": [2]}})").get("id")->as_string() != id);
  CHECK(through<Hash>(params, R"({"n": "1", "o": {"a": 1, "b": [2]}})").get("id")->as_string() != id);
}

TEST_CASE("json_parse parses a string field; bad JSON is an error") {
  CHECK(fields(through<JsonParse>({{"field", "raw"}, {"into", "doc"}}, R"({"raw": "{\"a\": [1]}"})")) ==
        json::parse(R"({"raw": "{\"a\": [1]}", "doc": {"a": [1]}})"));
  CHECK(failure<JsonParse>({{"field", "raw"}}, R"({"raw": "{bad"})").rfind("json_parse: field 'raw': ", 0) == 0);
}

TEST_CASE("date_normalize writes ISO 8601 from several formats and zones") {
  const Object params{{"fields", Array{"a", "b", "c", "d", "e", "f"}},
                      {"formats", Array{"%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M:%S%Ez", "%Y-%m-%d",
                                        "%a, %d %b %Y %H:%M:%S %z"}},
                      {"timezone", "Europe/Berlin"}};
  const Packet p = through<DateNormalize>(params, R"({
      "a": "01/07/2024 14:30", "b": "2024-07-01T14:30:00.250+02:00", "c": "2024-01-15",
      "d": "Mon, 01 Jul 2024 12:30:00 +0000", "e": 1700000000, "f": null})");
  CHECK(p.get("a")->as_string() == "2024-07-01T12:30:00Z");  // Berlin summer time is +02:00
  CHECK(p.get("b")->as_string() == "2024-07-01T12:30:00.250000Z");
  CHECK(p.get("c")->as_string() == "2024-01-14T23:00:00Z");  // winter: +01:00
  CHECK(p.get("d")->as_string() == "2024-07-01T12:30:00Z");
  CHECK(p.get("e")->as_string() == "2023-11-14T22:13:20Z");
  CHECK(p.get("f")->is_null());
  CHECK(through<DateNormalize>({{"fields", "t"}, {"output_timezone", "America/New_York"}},
                               R"({"t": "2024-01-15T12:00:00Z"})")
            .get("t")->as_string() == "2024-01-15T07:00:00-05:00");
  CHECK(failure<DateNormalize>({{"fields", "t"}}, R"({"t": "yesterday"})") ==
        "date_normalize: field 't' (yesterday) matches none of the formats");
  CHECK_THROWS_WITH(ComponentHarness::of<DateNormalize>({{"fields", "t"}, {"timezone", "Mars/Olympus"}}),
                    doctest::Contains("param 'timezone'"));
}

TEST_CASE("date_normalize reads real-world dates: epoch ms, RFC 822 zones, RFC 3339 variants") {
  const Object params{{"fields", Array{"ms", "http", "est", "nanos", "lower", "minutes"}}};
  const Packet p = through<DateNormalize>(params, R"({
      "ms": 1709294400000, "http": "Fri, 01 Mar 2024 12:00:00 GMT",
      "est": "Fri, 01 Mar 2024 12:00:00 EST", "nanos": "2024-03-01T12:00:00.123456789Z",
      "lower": "2024-03-01t12:00:00z", "minutes": "2024-03-01T12:00Z"})");
  CHECK(p.get("ms")->as_string() == "2024-03-01T12:00:00Z");
  CHECK(p.get("http")->as_string() == "2024-03-01T12:00:00Z");
  CHECK(p.get("est")->as_string() == "2024-03-01T17:00:00Z");
  CHECK(p.get("nanos")->as_string() == "2024-03-01T12:00:00.123456789Z");
  CHECK(p.get("lower")->as_string() == "2024-03-01T12:00:00Z");
  CHECK(p.get("minutes")->as_string() == "2024-03-01T12:00:00Z");
  CHECK(through<DateNormalize>({{"fields", "t"}, {"formats", "%Y-%m-%d %H:%M %Z"}},
                               R"({"t": "2024-07-01 12:00 Europe/Berlin"})")
            .get("t")->as_string() == "2024-07-01T10:00:00Z");
  CHECK(failure<DateNormalize>({{"fields", "t"}, {"formats", "%F %H:%M %Z"}}, R"({"t": "2024-07-01 12:00 XYZ"})") ==
        "date_normalize: field 't' (2024-07-01 12:00 XYZ): unknown time zone 'XYZ'");
}

TEST_CASE("date_normalize: a DST gap takes the offset before it, an overlap the earlier instant") {
  const Object berlin{{"fields", Array{"gap", "overlap"}}, {"timezone", "Europe/Berlin"}};
  const Packet p = through<DateNormalize>(berlin, R"({"gap": "2024-03-31 02:30:00",
                                                      "overlap": "2024-10-27 02:30:00"})");
  CHECK(p.get("gap")->as_string() == "2024-03-31T01:30:00Z");  // 03:30 summer time
  CHECK(p.get("overlap")->as_string() == "2024-10-27T00:30:00Z");  // the first 02:30, at +02:00
}

TEST_CASE("regex_extract: first match, all matches, named groups") {
  CHECK(through<RegexExtract>({{"field", "t"}, {"pattern", "\\d+"}, {"into", "n"}}, R"({"t": "a 12 b 345"})")
            .get("n")->as_string() == "12");
  CHECK(*through<RegexExtract>({{"field", "t"}, {"pattern", "\\d+"}, {"into", "n"}, {"all", true}},
                               R"({"t": "a 12 b 345"})").get("n") == json::parse(R"(["12", "345"])"));
  CHECK(*through<RegexExtract>({{"field", "t"},
                                {"pattern", "(?<key>\\w+)=(?<value>\\w*)(?<flag>!)?"},
                                {"into", "pairs"},
                                {"all", true}},
                               R"({"t": "a=1! b= c=3"})").get("pairs") ==
        json::parse(R"([{"key": "a", "value": "1", "flag": "!"}, {"key": "b", "value": "", "flag": null},
                        {"key": "c", "value": "3", "flag": null}])"));
  CHECK_FALSE(through<RegexExtract>({{"field", "t"}, {"pattern", "z"}, {"into", "n"}}, R"({"t": "abc"})").has("n"));
  CHECK(*through<RegexExtract>({{"field", "t"}, {"pattern", "x*"}, {"into", "n"}, {"all", true}},
                               R"({"t": "axxb"})").get("n") == json::parse(R"(["", "xx", "", ""])"));
  // \w, \d and \b are Unicode, like caseless matching.
  CHECK(*through<RegexExtract>({{"field", "t"}, {"pattern", "\\b\\w+\\b"}, {"into", "w"}, {"all", true}},
                               R"({"t": "naïve Straße, 東京"})").get("w") ==
        json::parse(R"(["naïve", "Straße", "東京"])"));
  CHECK_THROWS_WITH(ComponentHarness::of<RegexExtract>({{"field", "t"}, {"pattern", "(a"}, {"into", "n"}}),
                    doctest::Contains("param 'pattern': bad regex at offset 2"));
}

TEST_CASE("email and url extract distinct matches, without trailing punctuation") {
  CHECK(*through<Email>({{"field", "body"}},
                        R"({"body": "Write to ada@example.org, or a.b+c@mail.co.uk. Again: ada@example.org! Not @x or x@y"})")
             .get("emails") == json::parse(R"(["ada@example.org", "a.b+c@mail.co.uk"])"));
  CHECK(*through<Url>({{"field", "body"}, {"into", "links"}},
                      R"({"body": "See https://a.example/x?y=1, (www.b.example/p) and ftp://c.example."})")
             .get("links") == json::parse(R"(["https://a.example/x?y=1", "www.b.example/p", "ftp://c.example"])"));
  CHECK(*through<Email>({{"field", "body"}}, R"({"body": "none"})").get("emails") == json::parse("[]"));
}

TEST_CASE("url keeps balanced parentheses; email wants a dot-atom and ignores domain case") {
  CHECK(*through<Url>({{"field", "t"}}, R"j({"t": "(https://en.wikipedia.org/wiki/Foo_(bar)) and [www.x.example/a]."})j")
             .get("urls") == json::parse(R"j(["https://en.wikipedia.org/wiki/Foo_(bar)", "www.x.example/a"])j"));
  CHECK(*through<Email>({{"field", "t"}}, R"({"t": "user.@x.com .lead@x.com a..b@x.com ok.name@x.com"})")
             .get("emails") == json::parse(R"(["ok.name@x.com"])"));
  CHECK(*through<Email>({{"field", "t"}}, R"({"t": "Ada@Example.ORG, ada@example.org; ADA@example.org"})")
             .get("emails") == json::parse(R"(["Ada@example.org", "ada@example.org", "ADA@example.org"])"));
}

TEST_CASE("address: e-mail addresses, URLs and telephone numbers of a text field, each into a list") {
  auto h = ComponentHarness::of<Address>({{"field", "body"}});
  Packet p;
  p.set("body",
        "Write to Ada@Example.ORG or see https://example.org/contact. Call +44 20 7946 0958, "
        "(020) 7946 0958 or 555-123-4567; fax 06 12 34 56 78. Not numbers: 2024-03-01, 12:30, "
        "version 1.2.3, 42. Again: ada@example.org, +44 20 7946 0958.");
  h.push(std::move(p));
  REQUIRE(h.output().size() == 1);
  const Packet& found = h.output()[0];
  CHECK(json::to_string(*found.get("emails")) == R"(["Ada@example.org","ada@example.org"])");
  CHECK(json::to_string(*found.get("urls")) == R"(["https://example.org/contact"])");
  CHECK(json::to_string(*found.get("phones")) ==
        R"(["+442079460958","02079460958","5551234567","0612345678"])");
}

TEST_CASE("address: kinds and field names are params; a missing field passes, a wrong kind is refused") {
  auto h = ComponentHarness::of<Address>({{"field", "text"}, {"kinds", Array{"phone"}}, {"phones", "contact.tel"}});
  h.push_json(R"({"text": "+1 212 555 0100 or mail@example.org"})");
  h.push_json(R"({"other": 1})");
  REQUIRE(h.output().size() == 2);
  CHECK(json::to_string(h.output()[0]) == R"({"text":"+1 212 555 0100 or mail@example.org","contact":{"tel":["+12125550100"]}})");
  CHECK(json::to_string(h.output()[1]) == R"({"other":1})");
  CHECK_THROWS_WITH(ComponentHarness::of<Address>({{"field", "t"}, {"kinds", Array{"postal"}}}),
                    doctest::Contains("param 'kinds': unknown kind 'postal'"));
}
