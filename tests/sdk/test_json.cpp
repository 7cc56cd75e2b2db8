// sluice::json: parsing, serializing, error positions, NDJSON, documents, envelopes.
#include <doctest/doctest.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <sluice/json.hpp>

using sluice::Array;
using sluice::Object;
using sluice::Packet;
using sluice::Value;
namespace json = sluice::json;

namespace {

// Serialized, reparsed and serialized again: the value and its exact text must survive (the
// text comparison also catches an int turning into a double or back, which == forgives).
void check_round_trip(const Value& v) {
  const std::string text = json::to_string(v);
  CAPTURE(text);
  const Value back = json::parse(text);
  CHECK(back == v);
  CHECK(json::to_string(back) == text);
}

struct Where {
  std::size_t line, column, offset;
  std::string reason;
};

// The position ParseError reports for `text` (fails the test when it parses).
Where error_of(std::string_view text) {
  try {
    json::parse(text);
  } catch (const json::ParseError& e) {
    return {e.line(), e.column(), e.offset(), e.reason()};
  }
  FAIL("parsed without error: ", std::string(text));
  return {};
}

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

}  // namespace

// ---- parsing -------------------------------------------------------------------------------

TEST_CASE("parse gives each JSON type its Value type") {
  const Value v = json::parse(
      R"( {"n": null, "t": true, "f": false, "i": -12, "d": 2.5, "s": "x", "a": [1, [2]], "o": {"k": {}}} )");
  CHECK(v.get("n")->is_null());
  CHECK(v.get("t")->as_bool());
  CHECK_FALSE(v.get("f")->as_bool());
  CHECK(v.get("i")->as_int() == -12);
  CHECK(v.get("d")->as_double() == 2.5);
  CHECK(v.get("s")->as_string() == "x");
  CHECK(*v.get("a") == Value(Array{1, Array{2}}));
  CHECK(v.find_path("o.k")->as_object().empty());
  std::string order;
  for (const auto& [key, value] : v.as_object()) order += key;
  CHECK(order == "ntfidsao");  // document order
  CHECK(json::parse("7").as_int() == 7);  // scalars are documents too
  CHECK(json::parse("\"s\"").as_string() == "s");
}

TEST_CASE("duplicate keys: the last value wins, at the first key's position") {
  const Value small = json::parse(R"({"a": 1, "b": 2, "a": 3})");
  CHECK(small.as_object().size() == 2);
  CHECK(small.get("a")->as_int() == 3);
  CHECK(small.as_object().begin()->first == "a");

  // More than 16 members take the hash-set path in the parser.
  std::string text = "{";
  for (int i = 0; i < 20; ++i) text += "\"k" + std::to_string(i) + "\": " + std::to_string(i) + ",";
  text += R"("k3": "last"})";
  const Value large = json::parse(text);
  CHECK(large.as_object().size() == 20);
  CHECK(large.get("k3")->as_string() == "last");
  CHECK(std::next(large.as_object().begin(), 3)->first == "k3");
}

TEST_CASE("parse decodes every escape") {
  CHECK(json::parse(R"("\"\\\/\b\f\n\r\t")").as_string() == "\"\\/\b\f\n\r\t");
  CHECK(json::parse(R"("\u0041\u00e9\u20AC")").as_string() == "A\xC3\xA9\xE2\x82\xAC");
  CHECK(json::parse(R"("a\u0000b")").as_string() == std::string("a\0b", 3));
  CHECK(json::parse(R"({"k\"ey": 1})").get("k\"ey")->as_int() == 1);
}

TEST_CASE("a surrogate pair becomes one 4-byte UTF-8 character") {
  const std::string s = json::parse(R"("\ud83d\ude00")").as_string();
  CHECK(s == "\xF0\x9F\x98\x80");  // U+1F600
  CHECK(json::parse(R"("\uD834\uDD1E")").as_string() == "\xF0\x9D\x84\x9E");  // U+1D11E
  // The writer keeps it as UTF-8, not as escapes.
  CHECK(json::to_string(Value(s)) == "\"\xF0\x9F\x98\x80\"");
}

TEST_CASE("lone surrogates are rejected, with the position of the escape") {
  // simdjson 3.0.1 refuses a high surrogate without a following low one, a low surrogate on its
  // own, and a high surrogate followed by a non-surrogate escape, instead of substituting
  // U+FFFD. sluice keeps that: strings a parse returns are always valid UTF-8.
  for (const char* text : {R"(["ab\ud800"])", R"(["ab\udc00"])", R"(["ab\ud800\u0041"])",
                           R"(["ab\ud800\ud800"])", R"(["ab\ud800x"])", R"(["ab\udbff\n"])"}) {
    CAPTURE(text);
    const Where w = error_of(text);
    CHECK(w.offset == 4);
    CHECK(w.column == 5);
    CHECK(w.reason == "lone UTF-16 surrogate in \\u escape");
  }
}

TEST_CASE("integers: exact up to 2^64-1; above INT64_MAX a big integer, equal only to itself") {
  const auto min = std::numeric_limits<std::int64_t>::min();
  const auto max = std::numeric_limits<std::int64_t>::max();
  CHECK(json::parse("9223372036854775807").as_int() == max);
  CHECK(json::parse("-9223372036854775808").as_int() == min);
  CHECK(json::to_string(Value(max)) == "9223372036854775807");
  CHECK(json::to_string(Value(min)) == "-9223372036854775808");
  check_round_trip(Value(max));
  check_round_trip(Value(min));

  const Value above = json::parse("9223372036854775808");
  CHECK(above.is_big_int());
  CHECK_FALSE(above.is_int());
  CHECK(above.is_number());
  CHECK(above.as_uint() == 9223372036854775808u);
  CHECK(std::string(above.type_name()) == "integer");
  const Value top = json::parse("18446744073709551615");
  CHECK(top.as_uint() == std::numeric_limits<std::uint64_t>::max());
  CHECK(json::to_string(top) == "18446744073709551615");
  CHECK(json::to_string(json::parse(R"({"id":18446744073709551614})")) == R"({"id":18446744073709551614})");
  check_round_trip(top);
  CHECK(Value(std::numeric_limits<std::uint64_t>::max()) == top);
  // Neighbours differ, though they are one double.
  CHECK(json::parse("18446744073709551614") != top);
  CHECK(Value(max) != above);
  CHECK(above == Value(9223372036854775808.0));  // 1 == 1.0 holds here too
  CHECK(Value(7).as_uint() == 7u);
  CHECK_THROWS(Value(-1).as_uint());
}

TEST_CASE("integers beyond 64 bits are an error at the number, as simdjson has no big numbers") {
  for (const char* text : {"[18446744073709551616]", "[-9223372036854775809]",
                           "[100000000000000000000000]"}) {
    CAPTURE(text);
    const Where w = error_of(text);
    CHECK(w.offset == 1);
    CHECK(w.reason == "number out of range");
  }
}

TEST_CASE("doubles: integral values stay doubles through write and parse") {
  CHECK(json::to_string(Value(1.0)) == "1.0");
  CHECK(json::parse("1.0").is_double());
  CHECK(json::parse(json::to_string(Value(1.0))).is_double());
  CHECK(json::to_string(Value(123456789.0)) == "123456789.0");
  CHECK(json::to_string(Value(-3.0)) == "-3.0");
  CHECK(json::parse(json::to_string(Value(1e15))).is_double());
  CHECK(json::parse("1e2").is_double());  // an exponent makes a double even when integral
  check_round_trip(Value(1.0));
  check_round_trip(Value(1e21));
}

TEST_CASE("doubles: extremes and negative zero") {
  CHECK(json::to_string(Value(-0.0)) == "-0.0");
  const Value nz = json::parse("-0.0");
  CHECK(nz.is_double());
  CHECK(std::signbit(nz.as_double()));
  CHECK(std::signbit(json::parse(json::to_string(Value(-0.0))).as_double()));
  // simdjson reads "-0" as the integer 0: the sign of an integral zero is lost.
  CHECK(json::parse("-0").is_int());

  CHECK(json::parse("1e308").as_double() == 1e308);
  CHECK(json::parse("5e-324").as_double() == std::numeric_limits<double>::denorm_min());
  CHECK(json::to_string(Value(5e-324)) == "5e-324");
  CHECK(json::to_string(Value(1e308)) == "1e+308");
  CHECK(json::to_string(Value(0.1)) == "0.1");
  for (double d : {1e308, 5e-324, 2.2250738585072014e-308, std::numeric_limits<double>::max(),
                   -std::numeric_limits<double>::max(), 0.1, 1.0 / 3.0, 123.456e-200}) {
    CAPTURE(d);
    check_round_trip(Value(d));
  }
  // Underflow rounds to zero (as simdjson does); overflow is an error at the number.
  CHECK(json::parse("1e-400").as_double() == 0.0);
  const Where w = error_of("{\"n\":\n  1e400}");
  CHECK(w.line == 2);
  CHECK(w.column == 3);
  CHECK(w.offset == 8);
  CHECK(w.reason == "number out of range");
  CHECK(error_of("[-1.5e309]").offset == 1);
  // An exponent close to the largest long long: still out of range, at the number (the
  // power of ten was summed with it and overflowed, which the fuzzer's UBSan found).
  const Where huge = error_of("[444444e9223372036854775807]");
  CHECK(huge.offset == 1);
  CHECK(huge.reason == "number out of range");
  CHECK(json::parse("[444444e-9223372036854775807]").as_array().at(0).as_double() == 0.0);
}

TEST_CASE("doubles: the shortest text reads back to the same bits") {
  std::mt19937_64 random(20240601);
  int checked = 0;
  while (checked < 20000) {
    const double d = std::bit_cast<double>(random());
    if (!std::isfinite(d)) continue;
    ++checked;
    const Value back = json::parse(json::to_string(Value(d)));
    REQUIRE(back.is_double());
    REQUIRE(std::bit_cast<std::uint64_t>(back.as_double()) == std::bit_cast<std::uint64_t>(d));
  }
}

TEST_CASE("doubles with few decimals are written exactly as std::to_chars writes them") {
  // The writer has a fast path for 1 <= |d| < 2^32 with up to 6 decimals; it must agree with
  // the shortest form everywhere, including where the fast path gives up.
  const auto expected = [](double d) {
    char buffer[32];
    std::string text(buffer, std::to_chars(buffer, buffer + sizeof buffer, d).ptr);
    if (text.find_first_of(".e") == std::string::npos) text += ".0";
    return text;
  };
  std::vector<double> values = {1.5, -1.5, 1.1, 0.1, 2.675, 1.000001, 4294967295.5,
                                4294967296.5, 4294967295.999999, 123456.789012, 1e-7, 0.5,
                                1.0000001, 9007199254740993.0, -0.25, 99.99, 1.23456789};
  std::mt19937_64 random(7);
  for (int i = 0; i < 50000; ++i) {
    const double whole = static_cast<double>(random() % 5000000000ULL);
    const int places = static_cast<int>(random() % 8);
    const double fraction = static_cast<double>(random() % 10000000) / std::pow(10.0, places);
    values.push_back(whole + fraction);
    values.push_back(-(whole / 64 + 0.5));
    values.push_back(std::bit_cast<double>(random()));
  }
  for (double d : values) {
    if (!std::isfinite(d)) continue;
    CAPTURE(d);
    REQUIRE(json::to_string(Value(d)) == expected(d));
  }
}

TEST_CASE("non-finite doubles are written as null") {
  CHECK(json::to_string(Value(std::numeric_limits<double>::infinity())) == "null");
  CHECK(json::to_string(Value(-std::numeric_limits<double>::infinity())) == "null");
  CHECK(json::to_string(Value(std::numeric_limits<double>::quiet_NaN())) == "null");
  const Value a = Array{std::numeric_limits<double>::quiet_NaN(), 1};
  CHECK(json::to_string(a) == "[null,1]");
  CHECK(json::parse(json::to_string(a)) == Value(Array{nullptr, 1}));
}

TEST_CASE("nesting: 500 levels parse; beyond max_depth is a ParseError, not a crash") {
  const Value v = json::parse(nested_arrays(500));
  const Value* inner = &v;
  int depth = 1;
  while (!inner->as_array().empty()) {
    inner = &inner->as_array()[0];
    ++depth;
  }
  CHECK(depth == 500);
  CHECK_NOTHROW(json::parse(nested_arrays(json::max_depth)));

  const Where too_deep = error_of(nested_arrays(json::max_depth + 1));
  CHECK(too_deep.offset == json::max_depth);  // the first bracket past the limit
  CHECK(too_deep.reason == "nesting deeper than 512");

  // Unclosed, far deeper than any stack would take with recursion.
  const Where huge = error_of(std::string(100000, '['));
  CHECK(huge.offset == json::max_depth);
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += R"({"a":)";
  CHECK(error_of(objects).reason == "nesting deeper than 512");
}

TEST_CASE("every truncation of a document is a ParseError within the input") {
  const std::string doc =
      R"({"a": [1, 2.5, "x\u00e9\n", true, false, null, {"b": -1e5}], "c": {"d": []}})";
  REQUIRE_NOTHROW(json::parse(doc));
  for (std::size_t n = 0; n < doc.size(); ++n) {
    const std::string prefix = doc.substr(0, n);
    CAPTURE(prefix);
    try {
      json::parse(prefix);
      FAIL("a truncated document parsed");
    } catch (const json::ParseError& e) {
      CHECK(e.offset() <= n);
      CHECK(e.line() == 1);
    }
  }
}

TEST_CASE("invalid input is rejected with the position and reason of the fault") {
  struct Case {
    const char* text;
    std::size_t line, column, offset;
    const char* reason;
  };
  const Case cases[] = {
      {"", 1, 1, 0, "unexpected end of input"},
      {"  \n  ", 2, 3, 5, "unexpected end of input"},
      {"{\n  \"a\": 1,\n  \"b\": [1, 2,, 3]\n}", 3, 14, 25, "unexpected character"},
      {"{\n  \"a\": 1\n  \"b\": 2\n}", 3, 3, 13, "expected ',' or '}'"},
      {"[1, 2\n", 2, 1, 6, "unexpected end of input"},
      {"[1 2]", 1, 4, 3, "expected ',' or ']'"},
      {"{\"a\" 1}", 1, 6, 5, "expected ':'"},
      {"{\"a\": 1,}", 1, 9, 8, "expected a string key"},
      {"{1: 2}", 1, 2, 1, "expected a string key"},
      {"[1,]", 1, 4, 3, "unexpected character"},
      {"{} x", 1, 4, 3, "unexpected content after the document"},
      {"1 2", 1, 3, 2, "unexpected content after the document"},
      {"[tru]", 1, 2, 1, "unexpected character"},
      {"[01]", 1, 3, 2, "expected ',' or ']'"},
      {"[1.]", 1, 4, 3, "bad number"},
      {"[-]", 1, 3, 2, "bad number"},
      {"[1e]", 1, 4, 3, "bad number"},
      {"[\"a\\x\"]", 1, 4, 3, "bad escape"},
      {"[\"\\u12G4\"]", 1, 3, 2, "bad \\u escape"},
      {"[\"a\tb\"]", 1, 4, 3, "control character in string"},
      {"[\"abc", 1, 6, 5, "unterminated string"},
      {"[\"\xC3\xA9\xFF\"]", 1, 4, 4, "invalid UTF-8"},  // columns count characters
      {"{\"\xC3\xA9\": x}", 1, 7, 7, "unexpected character"},
      {"[\"a\"]\xFF", 1, 6, 5, "unexpected content after the document"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    const Where w = error_of(c.text);
    CHECK(w.line == c.line);
    CHECK(w.column == c.column);
    CHECK(w.offset == c.offset);
    CHECK(w.reason == c.reason);
  }
}

TEST_CASE("ParseError's message names line, column and byte") {
  try {
    json::parse("{\n  \"a\": x\n}");
    FAIL("parsed");
  } catch (const json::ParseError& e) {
    CHECK(std::string(e.what()) == "line 2, column 8 (byte 9): unexpected character");
    CHECK(e.reason() == "unexpected character");
  }
}

TEST_CASE("parse is independent per thread and after errors") {
  CHECK_THROWS_AS(json::parse("{"), json::ParseError);
  CHECK(json::parse("[1]") == Value(Array{1}));  // no state left over from the failure
  std::vector<std::thread> threads;
  std::vector<int> ok(2, 0);
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([t, &ok] {
      const std::string text = R"({"thread": )" + std::to_string(t) + R"(, "list": [1, 2, 3]})";
      for (int i = 0; i < 2000; ++i)
        if (json::parse(text).get("thread")->as_int() == t) ++ok[t];
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(ok[0] == 2000);
  CHECK(ok[1] == 2000);
}

// ---- documents, NDJSON, packets --------------------------------------------------------------

TEST_CASE("parse_documents: an array gives its elements, anything else one document") {
  const auto many = json::parse_documents(R"([{"a": 1}, {"a": 2}, 3])");
  REQUIRE(many.size() == 3);
  CHECK(many[1].get("a")->as_int() == 2);
  CHECK(many[2].as_int() == 3);
  const auto one = json::parse_documents(R"({"a": 1})");
  REQUIRE(one.size() == 1);
  CHECK(one[0].get("a")->as_int() == 1);
  CHECK(json::parse_documents("[]").empty());
  CHECK_THROWS_AS(json::parse_documents("[1,"), json::ParseError);
}

TEST_CASE("for_each_ndjson: one document per non-blank line, with its line number") {
  const std::string text = "{\"a\":1}\n\n  \t\n{\"a\":2}\r\n[3]\n\"four\"\n{\"a\":5}";
  std::vector<std::pair<Value, std::size_t>> seen;
  json::for_each_ndjson(text, [&](Value&& record, std::size_t line) {
    seen.emplace_back(std::move(record), line);
  });
  REQUIRE(seen.size() == 5);
  CHECK(seen[0].first.get("a")->as_int() == 1);
  CHECK(seen[0].second == 1);
  CHECK(seen[1].second == 4);  // CRLF is a line end too
  CHECK(seen[2].first == Value(Array{3}));
  CHECK(seen[2].second == 5);
  CHECK(seen[3].first.as_string() == "four");
  CHECK(seen[4].second == 7);  // no final newline needed

  int calls = 0;
  json::for_each_ndjson("", [&](Value&&, std::size_t) { ++calls; });
  json::for_each_ndjson("\n\n \n", [&](Value&&, std::size_t) { ++calls; });
  CHECK(calls == 0);
}

TEST_CASE("for_each_ndjson: a bad line stops with its own line, column and byte offset") {
  const std::string text = "{\"a\":1}\n{\"a\":2}\n{\"a\": tru}\n{\"a\":4}\n";
  std::vector<std::size_t> lines;
  try {
    json::for_each_ndjson(text, [&](Value&&, std::size_t line) { lines.push_back(line); });
    FAIL("no error");
  } catch (const json::ParseError& e) {
    CHECK(e.line() == 3);
    CHECK(e.column() == 7);
    CHECK(e.offset() == 22);
    CHECK(text[e.offset()] == 't');
  }
  CHECK(lines == std::vector<std::size_t>{1, 2});  // the records before the bad line arrived
}

TEST_CASE("for_each_ndjson: a document may not span lines or share one") {
  const auto error_line = [](std::string_view text) -> std::size_t {
    try {
      json::for_each_ndjson(text, [](Value&&, std::size_t) {});
    } catch (const json::ParseError& e) {
      return e.line();
    }
    return 0;
  };
  CHECK(error_line("{\"a\":1}\n{\"a\":\n2}\n") == 2);
  CHECK(error_line("{\"a\":1}\n{\"a\":2} {\"a\":3}\n") == 2);
  CHECK(error_line("1\n2\n3\n[\n") == 4);
  CHECK(error_line("{\"a\":1}\n\n\n{\n") == 4);

  // A record followed by junk on its line is not handed on before the error.
  std::size_t records = 0;
  CHECK_THROWS_AS(json::for_each_ndjson("{\"a\":1}\n{\"a\":2}x\n{\"a\":3}\n",
                                        [&](Value&&, std::size_t) { ++records; }),
                  json::ParseError);
  CHECK(records == 1);
  records = 0;
  CHECK_THROWS_AS(json::for_each_ndjson("{\"a\":1}\n{\"a\":2} {\"a\":3}\n",
                                        [&](Value&&, std::size_t) { ++records; }),
                  json::ParseError);
  CHECK(records == 1);
}

TEST_CASE("for_each_ndjson: several megabytes, blank lines, CRLF and mixed records") {
  // More than one stream batch (1 MB), so that records cross batch boundaries.
  std::string text;
  std::size_t expected_records = 0;
  std::vector<std::size_t> expected_lines;
  std::size_t line = 0;
  for (int i = 0; i < 60000; ++i) {
    ++line;
    if (i % 1000 == 7) {
      text += "   \n";  // blank
      continue;
    }
    if (i % 5000 == 11) {
      text += "\"scalar\"\n";
    } else {
      text += R"({"i": )" + std::to_string(i) + R"(, "s": "\u00e9t\u00e9", "a": [1, 2.5, null]})";
      text += i % 3 ? "\n" : "\r\n";
    }
    ++expected_records;
    expected_lines.push_back(line);
  }
  std::vector<std::size_t> lines;
  std::size_t objects = 0;
  json::for_each_ndjson(text, [&](Value&& record, std::size_t at) {
    lines.push_back(at);
    if (record.is_object()) {
      ++objects;
      CHECK(record.get("s")->as_string() == "\xC3\xA9t\xC3\xA9");
    }
  });
  CHECK(text.size() > 3'000'000);
  CHECK(lines.size() == expected_records);
  CHECK(lines == expected_lines);
  CHECK(objects == expected_records - 12);

  // The same text with a bad record near the end.
  const std::size_t bad_line = line + 1;
  text += "{\"i\": 1,, \"s\": 2}\n{}\n";
  std::size_t before = 0;
  try {
    json::for_each_ndjson(text, [&](Value&&, std::size_t) { ++before; });
    FAIL("no error");
  } catch (const json::ParseError& e) {
    CHECK(e.line() == bad_line);
    CHECK(e.column() == 9);
  }
  CHECK(before == expected_records);
}

TEST_CASE("for_each_ndjson: errors deep into a large input name the right line") {
  std::string text;
  for (int i = 1; i <= 5000; ++i) text += R"({"i": )" + std::to_string(i) + ", \"s\": \"abc\"}\n";
  const std::size_t bad_offset = text.size() + 6;
  text += "{\"i\": }\n";
  for (int i = 0; i < 100; ++i) text += "{}\n";
  std::size_t count = 0;
  try {
    json::for_each_ndjson(text, [&](Value&&, std::size_t) { ++count; });
    FAIL("no error");
  } catch (const json::ParseError& e) {
    CHECK(e.line() == 5001);
    CHECK(e.column() == 7);
    CHECK(e.offset() == bad_offset);
  }
  CHECK(count == 5000);
}

TEST_CASE("for_each_ndjson: the callback may parse other JSON meanwhile") {
  const std::string text = "{\"inner\": \"[1, 2]\"}\n{\"inner\": \"[3]\"}\n";
  std::vector<Value> inner;
  json::for_each_ndjson(text, [&](Value&& record, std::size_t) {
    inner.push_back(json::parse(record.get("inner")->as_string()));
  });
  REQUIRE(inner.size() == 2);
  CHECK(inner[0] == Value(Array{1, 2}));
  CHECK(inner[1] == Value(Array{3}));
}

TEST_CASE("to_packet takes an object, and only an object") {
  const Packet p = json::to_packet(json::parse(R"({"a": 1, "b": [true]})"));
  CHECK(p.size() == 2);
  CHECK(p.get("b")->as_array()[0].as_bool());
  CHECK(p.meta().empty());
  for (const char* text : {"[1]", "1", "\"s\"", "null"}) {
    CAPTURE(text);
    CHECK_THROWS_AS(json::to_packet(json::parse(text)), std::invalid_argument);
  }
  CHECK_THROWS_WITH(json::to_packet(json::parse("[1]")), "a packet must be a JSON object, got array");
}

// ---- writing -------------------------------------------------------------------------------

TEST_CASE("write escapes quotes, backslashes and control characters, nothing else") {
  std::string all;
  for (int c = 1; c < 0x80; ++c) all += static_cast<char>(c);
  all = std::string(1, '\0') + all;
  const std::string text = json::to_string(Value(all));
  CHECK(text.starts_with(
      R"("\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010)"));
  CHECK(text.find(R"(\u001f !\"#$%&'()*+,-./0123)") != std::string::npos);
  CHECK(text.find(R"(XYZ[\\]^_`abc)") != std::string::npos);
  CHECK(text.substr(text.size() - 4) == "}~\x7f\"");  // DEL is not a control character in JSON
  check_round_trip(Value(all));
  check_round_trip(Value(Object{{"k\"\n\\ey", "v"}}));
  check_round_trip(Value("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
}

TEST_CASE("invalid UTF-8 is written as one U+FFFD per invalid byte, and the output parses") {
  const std::string fffd = "\xEF\xBF\xBD";
  struct Case {
    std::string in, out;
  };
  const Case cases[] = {
      {"a\xFF" "b", "a" + fffd + "b"},
      {"\x80", fffd},                                // a lone continuation byte
      {"\xE2\x82", fffd + fffd},                     // a truncated 3-byte sequence
      {"\xE2\x82x", fffd + fffd + "x"},
      {"\xC0\xAF", fffd + fffd},                     // overlong '/'
      {"\xE0\x80\xAF", fffd + fffd + fffd},          // overlong, 3 bytes
      {"\xED\xA0\x80", fffd + fffd + fffd},          // an encoded UTF-16 surrogate
      {"\xF4\x90\x80\x80", fffd + fffd + fffd + fffd},  // above U+10FFFF
      {"\xF0\x9F\x98", fffd + fffd + fffd},
      {"ok\xC3\xA9\xF0\x9F\x98\x80", "ok\xC3\xA9\xF0\x9F\x98\x80"},  // valid: untouched
  };
  for (const Case& c : cases) {
    CAPTURE(c.in);
    const std::string text = json::to_string(Value(c.in));
    CHECK(text == "\"" + c.out + "\"");
    CHECK(json::parse(text).as_string() == c.out);
  }
  // In keys too.
  const std::string key = json::to_string(Value(Object{{"k\xFF", 1}}));
  CHECK(key == "{\"k" + fffd + "\":1}");
  CHECK_NOTHROW(json::parse(key));
}

TEST_CASE("write appends to the buffer it is given") {
  std::string out = "prefix:";
  json::write(Value(Array{1, "a", nullptr, true, 2.5}), out);
  CHECK(out == R"(prefix:[1,"a",null,true,2.5])");
  json::write(Value(Object{}), out);
  CHECK(out == R"(prefix:[1,"a",null,true,2.5]{})");
}

TEST_CASE("write_pretty: one member per line, indented, empty containers inline") {
  const Value v = Object{{"a", 1},
                         {"b", Array{1, "x"}},
                         {"c", Object{{"d", Object{}}, {"e", Array{}}}},
                         {"f", nullptr}};
  CHECK(json::to_pretty_string(v) ==
        "{\n"
        "  \"a\": 1,\n"
        "  \"b\": [\n"
        "    1,\n"
        "    \"x\"\n"
        "  ],\n"
        "  \"c\": {\n"
        "    \"d\": {},\n"
        "    \"e\": []\n"
        "  },\n"
        "  \"f\": null\n"
        "}");
  std::string four;
  json::write_pretty(Value(Array{Object{{"k", 1}}}), four, 4);
  CHECK(four == "[\n    {\n        \"k\": 1\n    }\n]");
  std::string compact;
  json::write_pretty(v, compact, 0);
  CHECK(compact == json::to_string(v));
  CHECK(json::parse(json::to_pretty_string(v)) == v);
  CHECK(json::to_pretty_string(Value(5)) == "5");
}

TEST_CASE("packets: fields only, and the envelope with metadata") {
  Packet p;
  p.set("title", "Hello");
  p.set("n", 1.0);
  p.set_meta("mimetype", "text/plain");
  p.set_meta("title", "lang", "en");
  CHECK(json::to_string(p) == R"({"title":"Hello","n":1.0})");
  std::string fields = "x";
  json::write_fields(p, fields);
  CHECK(fields == R"(x{"title":"Hello","n":1.0})");
  CHECK(json::to_envelope(p) ==
        R"({"fields":{"title":"Hello","n":1.0},"meta":{"mimetype":"text/plain"},)"
        R"("field_meta":{"title":{"lang":"en"}}})");
  CHECK(json::to_envelope(Packet()) == R"({"fields":{},"meta":{},"field_meta":{}})");
}

TEST_CASE("envelope round trip keeps fields, meta and field meta exactly") {
  Packet p = json::to_packet(json::parse(
      R"({"s": "x\u0001\"", "i": -5, "d": 1.0, "z": -0.0, "b": false, "n": null,
          "a": [1, [2, {"k": "v"}]], "o": {"p": {"q": []}}, "big": 9223372036854775807})"));
  p.set_meta(sluice::meta::id, "abc-1");
  p.set_meta(sluice::meta::route, Array{"in", "out"});
  p.set_meta("weights", Object{{"w", 0.25}});
  p.set_meta("s", "lang", "en");
  p.set_meta("a", "count", 2);

  std::string envelope;
  json::write_envelope(p, envelope);
  CHECK(envelope == json::to_envelope(p));
  const Packet back = json::parse_envelope(envelope);
  CHECK(back == p);
  CHECK(json::to_envelope(back) == envelope);  // types too: 1.0 stays a double, -0.0 its sign
  CHECK(back.get("d")->is_double());
  CHECK(std::signbit(back.get("z")->as_double()));
  CHECK(back.get("big")->is_int());
}

TEST_CASE("parse_envelope: meta parts are optional, and each part must be an object") {
  const Packet only_fields = json::parse_envelope(R"({"fields": {"a": 1}})");
  CHECK(only_fields.get("a")->as_int() == 1);
  CHECK(only_fields.meta().empty());
  CHECK(only_fields.field_meta().empty());
  const Packet nulls = json::parse_envelope(R"({"fields": {"a": 1}, "meta": null, "field_meta": null})");
  CHECK(nulls.meta().empty());
  CHECK(json::parse_envelope("{}").size() == 0);

  CHECK_THROWS_AS(json::parse_envelope("[]"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(json::parse_envelope(R"({"fields": [1]})"),
                       "envelope member 'fields' must be an object", std::invalid_argument);
  CHECK_THROWS_AS(json::parse_envelope(R"({"fields": {}, "meta": 1})"), std::invalid_argument);
  CHECK_THROWS_AS(json::parse_envelope(R"({"fields": {}, "field_meta": "x"})"),
                  std::invalid_argument);
  CHECK_THROWS_AS(json::parse_envelope(R"({"fields": )"), json::ParseError);

  const Packet moved = json::envelope_to_packet(Value(Object{{"fields", Object{{"k", 2}}}}));
  CHECK(moved.get("k")->as_int() == 2);
}
