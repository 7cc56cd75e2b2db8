// sluice::Value and sluice::Object: construction, typed access, objects, paths, equality, moves.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include <sluice/json.hpp>
#include <sluice/value.hpp>

using sluice::Array;
using sluice::Object;
using sluice::Value;
using sluice::ValueType;

namespace {

// Long enough to live on the heap, not in the small-string buffer, so that a copy would show
// as a different data pointer.
const std::string long_text(200, 'x');

Value sample() {
  return sluice::json::parse(R"({
    "a": {"b": [10, 11, {"c": "deep"}]},
    "x.y": 1,
    "m": {"[k]": 2, "q\"": 3},
    "": "empty key",
    "list": [[1, 2], [3]]
  })");
}

}  // namespace

TEST_CASE("each constructor yields its type") {
  CHECK(Value().type() == ValueType::null);
  CHECK(Value(nullptr).is_null());
  CHECK(Value(true).type() == ValueType::boolean);
  CHECK(Value(1).type() == ValueType::integer);
  CHECK(Value(1u).is_int());
  CHECK(Value(1L).is_int());
  CHECK(Value(1LL).is_int());
  CHECK(Value(1UL).is_int());
  CHECK(Value(1ULL).is_int());
  CHECK(Value(1.5).type() == ValueType::number);
  CHECK(Value("s").type() == ValueType::string);
  CHECK(Value(std::string("s")).is_string());
  CHECK(Value(std::string_view("s")).is_string());
  CHECK(Value(Array{1, 2}).type() == ValueType::array);
  CHECK(Value(Object{{"k", 1}}).type() == ValueType::object);
  // A string literal must not decay to bool.
  CHECK(Value("true").as_string() == "true");
}

TEST_CASE("type names") {
  CHECK(std::string(Value().type_name()) == "null");
  CHECK(std::string(Value(false).type_name()) == "boolean");
  CHECK(std::string(Value(1).type_name()) == "integer");
  CHECK(std::string(Value(1.0).type_name()) == "number");
  CHECK(std::string(Value("").type_name()) == "string");
  CHECK(std::string(Value(Array{}).type_name()) == "array");
  CHECK(std::string(Value(Object{}).type_name()) == "object");
  CHECK(std::string(sluice::to_string(ValueType::integer)) == "integer");
}

TEST_CASE("type predicates") {
  const Value i = 3, d = 3.5, s = "s", n;
  CHECK(i.is_number());
  CHECK(d.is_number());
  CHECK_FALSE(s.is_number());
  CHECK_FALSE(n.is_bool());
  CHECK(Value(false).is_bool());
  CHECK(Value(Array{}).is_array());
  CHECK(Value(Object{}).is_object());
  CHECK_FALSE(Value(Object{}).is_array());
}

TEST_CASE("typed access returns the value and throws on a mismatch naming both types") {
  CHECK(Value(true).as_bool());
  CHECK(Value(std::numeric_limits<std::int64_t>::min()).as_int() ==
        std::numeric_limits<std::int64_t>::min());
  CHECK(Value(2.5).as_double() == 2.5);
  CHECK(Value(7).as_double() == 7.0);  // ints widen
  CHECK(Value("abc").as_string() == "abc");
  CHECK(Value(Array{1, 2}).as_array().size() == 2);
  CHECK(Value(Object{{"k", 1}}).as_object().size() == 1);

  CHECK_THROWS_WITH_AS(Value("x").as_int(), "expected integer, got string", std::runtime_error);
  CHECK_THROWS_WITH_AS(Value(1.5).as_int(), "expected integer, got number", std::runtime_error);
  CHECK_THROWS_WITH_AS(Value(1).as_bool(), "expected boolean, got integer", std::runtime_error);
  CHECK_THROWS_WITH_AS(Value("1").as_double(), "expected number, got string", std::runtime_error);
  CHECK_THROWS_WITH_AS(Value(1).as_string(), "expected string, got integer", std::runtime_error);
  CHECK_THROWS_WITH_AS(Value().as_array(), "expected array, got null", std::runtime_error);
  CHECK_THROWS_WITH_AS(Value(Array{}).as_object(), "expected object, got array",
                       std::runtime_error);
  Value mutable_value = 1;
  CHECK_THROWS_AS(mutable_value.as_string(), std::runtime_error);
  CHECK_THROWS_AS(mutable_value.as_array(), std::runtime_error);
  CHECK_THROWS_AS(mutable_value.as_object(), std::runtime_error);
}

TEST_CASE("mutable access changes the stored value") {
  Value s = "ab";
  s.as_string() += "c";
  CHECK(s == Value("abc"));
  Value a = Array{1};
  a.as_array().emplace_back(2);
  CHECK(a == Value(Array{1, 2}));
  Value o = Object{};
  o.as_object().set("k", 1);
  CHECK(o.get("k")->as_int() == 1);
}

TEST_CASE("Object keeps insertion order and replaces on set") {
  Object o;
  CHECK(o.empty());
  o.set("b", 1);
  o.set("a", 2);
  o.set("c", 3);
  Value& replaced = o.set("b", 10);
  CHECK(replaced.as_int() == 10);
  REQUIRE(o.size() == 3);
  std::string order;
  for (const auto& [key, value] : o) order += key;
  CHECK(order == "bac");
  CHECK(o.find("b")->as_int() == 10);
  CHECK(o.find("z") == nullptr);
  CHECK(o.contains("a"));
  CHECK_FALSE(o.contains("z"));
}

TEST_CASE("Object initializer list: a repeated key keeps the last value") {
  const Object o{{"k", 1}, {"j", 2}, {"k", 3}};
  CHECK(o.size() == 2);
  CHECK(o.find("k")->as_int() == 3);
  CHECK(o.begin()->first == "k");
}

TEST_CASE("Object append_unchecked, erase, take, operator[], clear") {
  Object o;
  o.reserve(4);
  o.append_unchecked("a", 1);
  o.append_unchecked("b", "two");
  CHECK(o.size() == 2);

  CHECK(o.erase("a"));
  CHECK_FALSE(o.erase("a"));
  CHECK(o.size() == 1);

  CHECK(o.take("b") == Value("two"));
  CHECK(o.take("b").is_null());
  CHECK(o.empty());

  Value& inserted = o["new"];
  CHECK(inserted.is_null());
  inserted = 5;
  CHECK(o["new"].as_int() == 5);
  CHECK(o.size() == 1);

  o.clear();
  CHECK(o.empty());
}

TEST_CASE("Object equality ignores key order, not values") {
  const Object a{{"x", 1}, {"y", 2}};
  const Object b{{"y", 2}, {"x", 1}};
  const Object c{{"x", 1}, {"y", 3}};
  const Object d{{"x", 1}};
  const Object e{{"x", 1}, {"z", 2}};
  CHECK(a == b);
  CHECK_FALSE(a == c);
  CHECK_FALSE(a == d);
  CHECK_FALSE(d == a);
  CHECK_FALSE(a == e);
}

TEST_CASE("Value get and operator[] on objects") {
  Value v = Object{{"k", 1}};
  CHECK(v.get("k")->as_int() == 1);
  CHECK(v.get("missing") == nullptr);
  const Value& cv = v;
  CHECK(cv.get("k")->as_int() == 1);
  CHECK(Value(1).get("k") == nullptr);  // not an object: nullptr, no throw

  Value n;  // null turns into an object
  n["a"]["b"] = 2;
  CHECK(n.is_object());
  CHECK(n.find_path("a.b")->as_int() == 2);

  Value s = "text";
  CHECK_THROWS_AS(s["k"], std::runtime_error);
}

TEST_CASE("Value operator[] on arrays is bounds-checked") {
  const Value a = Array{"x", "y"};
  CHECK(a[1] == Value("y"));
  CHECK_THROWS_AS(a[2], std::out_of_range);
  const Value scalar = 1;
  CHECK_THROWS_AS(scalar[0], std::runtime_error);
}

TEST_CASE("find_path walks keys and indexes") {
  const Value v = sample();
  REQUIRE(v.find_path("a.b[2].c") != nullptr);
  CHECK(v.find_path("a.b[2].c")->as_string() == "deep");
  CHECK(v.find_path("a.b[0]")->as_int() == 10);
  CHECK(v.find_path("a")->is_object());
  CHECK(v.find_path("list[0][1]")->as_int() == 2);
  CHECK(v.find_path("list[1][0]")->as_int() == 3);
}

TEST_CASE("find_path: quoted keys hold dots, brackets and the other quote") {
  const Value v = sample();
  CHECK(v.find_path(R"(["x.y"])")->as_int() == 1);
  CHECK(v.find_path("['x.y']")->as_int() == 1);
  CHECK(v.find_path(R"(m["[k]"])")->as_int() == 2);
  CHECK(v.find_path(R"(m['q"'])")->as_int() == 3);
  CHECK(v.find_path(R"([""])")->as_string() == "empty key");
  // Unquoted, the dot splits: there is no key "x".
  CHECK(v.find_path("x.y") == nullptr);
}

TEST_CASE("find_path: missing steps and wrong types give nullptr") {
  const Value v = sample();
  CHECK(v.find_path("nope") == nullptr);
  CHECK(v.find_path("a.nope") == nullptr);
  CHECK(v.find_path("a.b[3]") == nullptr);        // past the end
  CHECK(v.find_path("a.b.c") == nullptr);         // key step on an array
  CHECK(v.find_path("a[0]") == nullptr);          // index step on an object
  CHECK(v.find_path("a.b[0].c") == nullptr);      // key step on an int
  CHECK(Value(1).find_path("a") == nullptr);
}

TEST_CASE("find_path: malformed paths give nullptr") {
  const Value v = sample();
  for (const char* path : {"", ".", "a.", ".a", "a..b", "a[", "a[]", "a[x]", "a[1", "a[-1]",
                           "a[1]b", "a.b[0]c", R"(a["b)", R"(a["b")", R"(a["b'])", "list.[0]",
                           R"(m.["[k]"])", "a.b[18446744073709551616]",
                           "a.b[99999999999999999999999999]"}) {
    CAPTURE(path);
    CHECK(v.find_path(path) == nullptr);
  }
}

TEST_CASE("find_path: an index too large for size_t does not wrap around to a valid one") {
  const Value v = sluice::json::parse("[7]");
  CHECK(v.find_path("[0]")->as_int() == 7);
  // 2^64 would wrap to 0 in unchecked size_t arithmetic.
  CHECK(v.find_path("[18446744073709551616]") == nullptr);
}

TEST_CASE("find_path on a mutable value returns a pointer that writes through") {
  Value v = sample();
  Value* c = v.find_path("a.b[2].c");
  REQUIRE(c != nullptr);
  *c = "changed";
  CHECK(v.find_path("a.b[2].c")->as_string() == "changed");
}

TEST_CASE("numbers compare across int and double, as JSON has one number type") {
  CHECK(Value(1) == Value(1.0));
  CHECK(Value(1.0) == Value(1));
  CHECK_FALSE(Value(1) == Value(1.5));
  CHECK(Value(0) == Value(-0.0));
  CHECK(Value(Array{1, 2}) == Value(Array{1.0, 2.0}));
  CHECK(Value(Object{{"n", 3}}) == Value(Object{{"n", 3.0}}));
  // Other types never compare equal across types.
  CHECK_FALSE(Value(1) == Value(true));
  CHECK_FALSE(Value(0) == Value());
  CHECK_FALSE(Value("1") == Value(1));
  CHECK_FALSE(Value(Array{}) == Value(Object{}));
  CHECK_FALSE(Value(Array{1}) == Value(Array{1, 2}));
}

TEST_CASE("moving a Value keeps its heap data where it is") {
  Value s = long_text;
  const char* data = s.as_string().data();
  Value moved = std::move(s);
  CHECK(moved.as_string().data() == data);
  Value assigned;
  assigned = std::move(moved);
  CHECK(assigned.as_string().data() == data);

  Value array = Array{long_text};
  const Value* first = &array.as_array()[0];
  Value moved_array = std::move(array);
  CHECK(&moved_array.as_array()[0] == first);

  Object o;
  o.set("k", Value(long_text));
  const char* in_object = o.find("k")->as_string().data();
  Value object = std::move(o);
  CHECK(object.get("k")->as_string().data() == in_object);
}

TEST_CASE("Object::set and append_unchecked move their value in") {
  Value s = long_text;
  const char* data = s.as_string().data();
  Object o;
  o.set("k", std::move(s));
  CHECK(o.find("k")->as_string().data() == data);

  Value t = long_text;
  const char* data_t = t.as_string().data();
  o.append_unchecked("t", std::move(t));
  CHECK(o.find("t")->as_string().data() == data_t);

  Value taken = o.take("t");
  CHECK(taken.as_string().data() == data_t);
}

TEST_CASE("copying a Value is deep") {
  Value a = Object{{"list", Array{1, 2}}};
  Value b = a;
  b["list"].as_array().emplace_back(3);
  CHECK(a.find_path("list")->as_array().size() == 2);
  CHECK(b.find_path("list")->as_array().size() == 3);
}

TEST_CASE("to_display_string: strings unquoted, the rest as JSON") {
  CHECK(Value("plain \"text\"").to_display_string() == "plain \"text\"");
  CHECK(Value(42).to_display_string() == "42");
  CHECK(Value(2.5).to_display_string() == "2.5");
  CHECK(Value(true).to_display_string() == "true");
  CHECK(Value().to_display_string() == "null");
  CHECK(Value(Array{1, "a"}).to_display_string() == R"([1,"a"])");
  CHECK(Value(Object{{"k", "v"}}).to_display_string() == R"({"k":"v"})");
}
