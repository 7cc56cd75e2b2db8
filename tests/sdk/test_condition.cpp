// The condition syntax used by drop/keep/route (docs/conditions.md).
#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include <sluice/condition.hpp>
#include <sluice/json.hpp>

using sluice::Condition;
using sluice::ConditionError;
using sluice::Packet;

namespace {

Packet sample() {
  Packet p = sluice::json::to_packet(sluice::json::parse(R"({
    "user": {"name": "Ada", "age": 36, "score": 9.5, "banned": false, "nick": null},
    "tags": ["news", "tech", 7],
    "title": "Breaking: engines/analytical",
    "count": 0,
    "empty": "",
    "dotted.key": "yes"
  })"));
  p.set_meta("mimetype", "text/csv");
  p.set_meta("source", sluice::Object{{"host", "a.example"}});
  return p;
}

bool eval(std::string_view text) { return Condition::parse(text).matches(sample()); }

// The 1-based column parse() reports for `text` (0 if it parses).
std::size_t error_column(std::string_view text) {
  try {
    Condition::parse(text);
  } catch (const ConditionError& e) {
    return e.column();
  }
  return 0;
}

}  // namespace

TEST_CASE("condition: comparisons between fields and literals") {
  CHECK(eval("user.age == 36"));
  CHECK(eval("user.age == 36.0"));  // one number type, as in JSON
  CHECK(eval("user.age >= 18"));
  CHECK_FALSE(eval("user.age < 18"));
  CHECK(eval("user.score > 9 && user.score <= 9.5"));
  CHECK(eval("user.age != -1"));
  CHECK(eval("user.name == 'Ada'"));
  CHECK(eval("user.name == \"Ada\""));
  CHECK(eval("user.name < 'Bob'"));  // strings order by bytes
  CHECK(eval("user.banned == false"));
  CHECK(eval("user.nick == null"));
  CHECK(eval("tags[0] == 'news'"));
  CHECK(eval("tags[2] == 7"));
  CHECK(eval("user.age == user.age"));
  CHECK(eval("1e3 == 1000"));
}

TEST_CASE("condition: a missing field compares like null, and ordering needs like types") {
  CHECK(eval("nope == null"));
  CHECK(eval("nope != 'x'"));
  CHECK_FALSE(eval("nope == 0"));
  CHECK_FALSE(eval("nope < 1"));
  CHECK_FALSE(eval("nope >= 1"));
  CHECK_FALSE(eval("user.name > 1"));  // string vs number: neither order holds
  CHECK_FALSE(eval("user.name <= 1"));
  CHECK_FALSE(eval("tags[9] == 'news'"));
}

TEST_CASE("condition: && binds tighter than ||; ! and parentheses") {
  CHECK(eval("user.age == 1 || user.age == 36 && user.name == 'Ada'"));
  CHECK_FALSE(eval("(user.age == 1 || user.age == 36) && user.name == 'Bob'"));
  CHECK(eval("!(user.age < 18)"));
  CHECK(eval("!!user.name"));
  CHECK(eval("! user.banned"));
}

TEST_CASE("condition: a lone operand tests truthiness") {
  CHECK(eval("user.name"));
  CHECK(eval("tags"));
  CHECK_FALSE(eval("count"));
  CHECK_FALSE(eval("empty"));
  CHECK_FALSE(eval("user.banned"));
  CHECK_FALSE(eval("user.nick"));
  CHECK_FALSE(eval("nope"));
  CHECK(eval("true"));
  CHECK_FALSE(eval("false || null"));
}

TEST_CASE("condition: exists and contains") {
  CHECK(eval("exists(user.nick)"));  // present, even though null
  CHECK_FALSE(eval("exists(user.email)"));
  CHECK(eval("exists(['dotted.key'])"));
  CHECK(eval("['dotted.key'] == 'yes'"));
  CHECK(eval("contains(title, 'engines')"));
  CHECK_FALSE(eval("contains(title, 'Engines')"));
  CHECK(eval("contains(tags, 'tech')"));
  CHECK(eval("contains(tags, 7)"));
  CHECK_FALSE(eval("contains(tags, 'sport')"));
  CHECK(eval("contains(user, 'age')"));  // object: has the key
  CHECK_FALSE(eval("contains(nope, 'x')"));
  CHECK(eval("contains(title, user.name) || contains(tags, tags[1])"));
}

TEST_CASE("condition: regex match with flags and escaped slashes") {
  CHECK(eval("title =~ /^Breaking/"));
  CHECK_FALSE(eval("title =~ /^breaking/"));
  CHECK(eval("title =~ /^breaking/i"));
  CHECK(eval("title =~ /engines\\/analytical$/"));
  CHECK(eval(R"(title =~ /\bengines\b/)"));
  CHECK_FALSE(eval("user.age =~ /36/"));  // only strings match
  CHECK_FALSE(eval("nope =~ /x/"));
  Packet bad;
  bad.set("s", std::string("caf\xff" "e"));  // invalid UTF-8 must not fail the match
  CHECK(Condition::parse("s =~ /e$/").matches(bad));
  // Classes and case follow Unicode, as in the extractors (one regex engine, sluice/regex.hpp).
  Packet accented;
  accented.set("s", "Ça été");
  CHECK(Condition::parse(R"(s =~ /^\w+ \w+$/)").matches(accented));
  CHECK(Condition::parse("s =~ /^ça ÉTÉ$/i").matches(accented));
  CHECK(Condition::parse("s =~ /^.a/").matches(accented));  // '.' is one code point: Ç
}

TEST_CASE("condition: @name reads packet metadata") {
  CHECK(eval("@mimetype == 'text/csv'"));
  CHECK(eval("@source.host =~ /example$/"));
  CHECK(eval("exists(@mimetype) && !exists(@route)"));
}

TEST_CASE("condition: parse errors carry the column of the problem") {
  CHECK(error_column("") == 1);
  CHECK(error_column("user.age ==") == 12);
  CHECK(error_column("(user.age == 1") == 15);
  CHECK(error_column("user.age == 1)") == 14);
  CHECK(error_column("user.age = 1") == 10);
  CHECK(error_column("a == 'open") == 6);
  CHECK(error_column("a =~ /x") == 6);
  CHECK(error_column("a =~ /(/") == 8);
  CHECK(error_column("a =~ /x/q") == 9);
  CHECK(error_column("exist(a)") == 1);
  CHECK(error_column("exists('a')") == 8);
  CHECK(error_column("a == 1 b") == 8);
  CHECK(error_column("a && # b") == 6);
  CHECK(error_column("tags[x] == 1") == 6);
  CHECK(error_column("a || [0] == 1") == 6);
  try {
    Condition::parse("a == 1 &&");
    FAIL("parse accepted a dangling &&");
  } catch (const ConditionError& e) {
    CHECK(std::string(e.what()) == "column 10: expected a field, @meta or a value, got the end");
    CHECK(e.reason() == "expected a field, @meta or a value, got the end");
  }
}

TEST_CASE("condition: one parsed condition is shared by threads") {
  const Condition c = Condition::parse("title =~ /analytical$/ && user.age > 30");
  const Packet p = sample();
  std::vector<std::thread> threads;
  std::vector<int> hits(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) hits[t] += c.matches(p) ? 1 : 0;
    });
  for (auto& t : threads) t.join();
  for (int h : hits) CHECK(h == 5000);
}

TEST_CASE("condition: nesting is bounded with a clear error, and long chains of && and || do not nest") {
  // 64 levels of parentheses and of `!` parse; one more is refused where it starts.
  CHECK(eval(std::string(64, '(') + "count == 0" + std::string(64, ')')));
  CHECK(error_column(std::string(65, '(') + "count == 0" + std::string(65, ')')) == 65);
  CHECK(eval(std::string(64, '!') + "count == 0"));  // an even number of negations
  try {
    Condition::parse(std::string(100000, '!') + "count == 0");
    FAIL("100000 negations parsed");
  } catch (const ConditionError& e) {
    CHECK(std::string(e.what()).find("nested deeper than 64 levels") != std::string::npos);
  }
  // 100000 terms: one node of terms, tested and destroyed without recursing per term (on a
  // left-deep chain of binary nodes this took 100000 frames, beyond a fiber's stack).
  std::string all = "count == 0";
  std::string any = "count == 1";
  for (int i = 0; i < 100000; ++i) {
    all += " && count == 0";
    any += " || count == 1";
  }
  any += " || count == 0";
  CHECK(eval(all));
  CHECK(eval(any));
}

TEST_CASE("condition: integers above INT64_MAX compare exactly") {
  const sluice::Packet p(sluice::json::parse(R"({"big": 18446744073709551615, "next": 18446744073709551614, "n": -1})").as_object());
  CHECK(Condition::parse("big > next").matches(p));
  CHECK_FALSE(Condition::parse("big == next").matches(p));
  CHECK(Condition::parse("big == 18446744073709551615").matches(p));
  CHECK(Condition::parse("n < big").matches(p));
  CHECK(Condition::parse("big > 9223372036854775807").matches(p));
}

TEST_CASE("condition: a path that ends in '.' is an error at its end, not a read past the text") {
  // Found by fuzzing: `@s2.` read the byte after the text.
  CHECK(error_column("@s2.") == 5);
  CHECK(error_column("a.") == 3);
  // The text is the first 4 bytes: what follows them ('[') must not be taken for a bracket.
  CHECK(error_column(std::string_view("@s2.[", 4)) == 5);
}
