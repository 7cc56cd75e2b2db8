// sluice::Packet: fields, paths, multi-valued fields, packet and field metadata, merge, moves.
#include <doctest/doctest.h>

#include <string>
#include <type_traits>
#include <utility>

#include <sluice/json.hpp>
#include <sluice/packet.hpp>

using sluice::Array;
using sluice::FieldPath;
using sluice::Object;
using sluice::Packet;
using sluice::Value;

namespace {

const std::string long_text(200, 'y');

Packet sample() {
  Packet p = sluice::json::to_packet(sluice::json::parse(R"({
    "user": {"name": "Ada", "emails": ["a@x", "b@x"], "x.y": {"z": 1}},
    "title": "Hello",
    "dotted.field": "d"
  })"));
  p.set_meta("mimetype", "text/plain");
  p.set_meta("title", "lang", "en");
  return p;
}

}  // namespace

// Copying must not compile, so that an accidental copy on a hot path is caught by the compiler.
static_assert(!std::is_copy_constructible_v<Packet>);
static_assert(!std::is_copy_assignable_v<Packet>);
static_assert(std::is_nothrow_move_constructible_v<Packet>);
static_assert(std::is_nothrow_move_assignable_v<Packet>);

TEST_CASE("set, get, has, get_or, size, fields") {
  Packet p;
  CHECK(p.size() == 0);
  Value& stored = p.set("a", 1);
  CHECK(stored.as_int() == 1);
  p.set("b", "two");
  p.set("a", 3);  // replaces in place
  CHECK(p.size() == 2);
  CHECK(p.has("a"));
  CHECK_FALSE(p.has("z"));
  CHECK(p.get("a")->as_int() == 3);
  CHECK(p.get("z") == nullptr);
  const Packet& cp = p;
  CHECK(cp.get("b")->as_string() == "two");
  const Value fallback = "fallback";
  CHECK(cp.get_or("b", fallback).as_string() == "two");
  CHECK(&cp.get_or("z", fallback) == &fallback);
  CHECK(p.fields().begin()->first == "a");  // insertion order kept through the replace
  p.fields().set("c", true);
  CHECK(p.get("c")->as_bool());
}

TEST_CASE("Packet from an object") {
  const Packet p(Object{{"k", 1}});
  CHECK(p.get("k")->as_int() == 1);
}

TEST_CASE("add inserts only when absent") {
  Packet p;
  CHECK(p.add("a", 1));
  CHECK_FALSE(p.add("a", 2));
  CHECK(p.get("a")->as_int() == 1);
}

TEST_CASE("append: absent → [v], scalar → [scalar, v], array → pushed") {
  Packet p;
  p.append("tags", "a");
  CHECK(*p.get("tags") == Value(Array{"a"}));
  p.append("tags", "b");
  CHECK(*p.get("tags") == Value(Array{"a", "b"}));
  p.set("one", 1);
  p.append("one", 2);
  CHECK(*p.get("one") == Value(Array{1, 2}));
  p.set("nested", Array{Array{1}});
  p.append("nested", Array{2});
  CHECK(*p.get("nested") == Value(Array{Array{1}, Array{2}}));
}

TEST_CASE("remove: every equal element of an array, or a scalar field equal to the value") {
  Packet p;
  p.set("tags", Array{"a", "b", "a", 1, 1.0});
  CHECK(p.remove("tags", "a") == 2);
  CHECK(*p.get("tags") == Value(Array{"b", 1, 1.0}));
  CHECK(p.remove("tags", 1) == 2);  // 1 == 1.0
  CHECK(*p.get("tags") == Value(Array{"b"}));
  CHECK(p.remove("tags", "zzz") == 0);
  CHECK(p.remove("tags", "b") == 1);
  CHECK(p.get("tags")->as_array().empty());  // an emptied array stays a field

  p.set("s", "v");
  p.set_meta("s", "note", 1);
  CHECK(p.remove("s", "other") == 0);
  CHECK(p.has("s"));
  CHECK(p.remove("s", "v") == 1);
  CHECK_FALSE(p.has("s"));
  CHECK_FALSE(p.has_meta("s", "note"));  // removing a scalar field removes its metadata
  CHECK(p.remove("absent", 1) == 0);
}

TEST_CASE("erase and take drop the field's metadata") {
  Packet p = sample();
  CHECK(p.erase("title"));
  CHECK_FALSE(p.has("title"));
  CHECK_FALSE(p.has_meta("title", "lang"));
  CHECK(p.field_meta().empty());
  CHECK_FALSE(p.erase("title"));

  Packet q = sample();
  Value taken = q.take("title");
  CHECK(taken == Value("Hello"));
  CHECK_FALSE(q.has("title"));
  CHECK_FALSE(q.has_meta("title", "lang"));
  CHECK(q.take("title").is_null());
  CHECK(q.has_meta("mimetype"));  // packet metadata is untouched
}

TEST_CASE("rename keeps the value, the metadata and the field's content") {
  Packet p = sample();
  CHECK(p.rename("title", "headline"));
  CHECK_FALSE(p.has("title"));
  CHECK(p.get("headline")->as_string() == "Hello");
  CHECK(p.get_meta("headline", "lang")->as_string() == "en");
  CHECK_FALSE(p.has_meta("title", "lang"));
  CHECK_FALSE(p.rename("absent", "x"));
  CHECK(p.rename("headline", "headline"));
  CHECK(p.get_meta("headline", "lang")->as_string() == "en");
}

TEST_CASE("rename over an existing field replaces it and its metadata") {
  Packet p;
  p.set("a", 1);
  p.set("b", 2);
  p.set_meta("b", "note", "b's");
  CHECK(p.rename("a", "b"));
  CHECK(p.size() == 1);
  CHECK(p.get("b")->as_int() == 1);
  CHECK_FALSE(p.has_meta("b", "note"));  // b's metadata described the old value

  p.set("c", 3);
  p.set_meta("c", "note", "c's");
  CHECK(p.rename("c", "b"));
  CHECK(p.get("b")->as_int() == 3);
  CHECK(p.get_meta("b", "note")->as_string() == "c's");
}

TEST_CASE("find_path starts at the fields") {
  const Packet p = sample();
  CHECK(p.find_path("title")->as_string() == "Hello");
  CHECK(p.find_path("user.name")->as_string() == "Ada");
  CHECK(p.find_path("user.emails[1]")->as_string() == "b@x");
  CHECK(p.find_path(R"(user["x.y"].z)")->as_int() == 1);
  CHECK(p.find_path(R"(["dotted.field"])")->as_string() == "d");
  CHECK(p.find_path("dotted.field") == nullptr);
  CHECK(p.find_path("user.emails[2]") == nullptr);
  CHECK(p.find_path("absent.x") == nullptr);
  for (const char* malformed : {"", ".", "user.", ".user", "user..name", "user[", "[0]",
                                "user.emails[x]", "user.emails[0]x", "user.emails.[0]"}) {
    CAPTURE(malformed);
    CHECK(p.find_path(malformed) == nullptr);
  }

  Packet m = sample();
  *m.find_path("user.emails[0]") = "changed";
  CHECK(m.find_path("user.emails[0]")->as_string() == "changed");
}

TEST_CASE("a FieldPath, parsed once, finds and sets what its text does") {
  const Packet p = sample();
  for (const char* text : {"title", "user.name", "user.emails[1]", R"(user["x.y"].z)", R"(["dotted.field"])",
                           "dotted.field", "user.emails[2]", "absent.x", "", "user.", "[0]", "user.emails.[0]"}) {
    CAPTURE(text);
    const FieldPath path(text);
    CHECK(path.text() == text);
    CHECK(p.find_path(path) == p.find_path(std::string_view(text)));
  }
  const Value list = Array{Object{{"emails", Array{"a@x", "b@x"}}}};
  CHECK(list.find_path(FieldPath("[0].emails[1]"))->as_string() == "b@x");
  CHECK(list.find_path(FieldPath("[1]")) == nullptr);
  CHECK_FALSE(FieldPath("user.").valid());
  CHECK(FieldPath("user.emails[1]").valid());
  CHECK(FieldPath("title").is_top_level());
  CHECK(FieldPath(R"(["dotted.field"])").is_top_level());
  CHECK_FALSE(FieldPath("user.name").is_top_level());
  CHECK_FALSE(FieldPath("tags[0]").is_top_level());

  CHECK(FieldPath("a.b[0]").parent().text() == "a.b");
  CHECK(FieldPath(R"(a["x.y"])").parent().text() == "a");
  CHECK(FieldPath("a.b.c").parent().text() == "a.b");
  CHECK_FALSE(FieldPath("a").parent().valid());
  CHECK_FALSE(FieldPath("a.").parent().valid());

  Packet m;
  const FieldPath deep("a.b.c");
  CHECK(m.set_path(deep, 1));
  CHECK(m.find_path(deep)->as_int() == 1);
  CHECK_FALSE(m.set_path(FieldPath("list[0]"), 1));
  CHECK_FALSE(m.set_path(FieldPath("a..b"), 1));
}

TEST_CASE("set_path creates intermediate objects and refuses to go through other types") {
  Packet p;
  CHECK(p.set_path("a.b.c", 1));
  CHECK(p.find_path("a.b.c")->as_int() == 1);
  CHECK(p.set_path("a.b.d", 2));
  CHECK(p.get("a")->get("b")->as_object().size() == 2);
  CHECK(p.set_path("a.b.c", "replaced"));
  CHECK(p.find_path("a.b.c")->as_string() == "replaced");
  CHECK(p.set_path(R"(a["x.y"])", 3));
  CHECK(p.get("a")->get("x.y")->as_int() == 3);
  CHECK(p.set_path(R"(["top.level"])", 4));
  CHECK(p.get("top.level")->as_int() == 4);
  CHECK(p.find_path(R"(["top.level"])")->as_int() == 4);

  p.set("n", nullptr);
  CHECK(p.set_path("n.k", 5));  // null becomes an object
  CHECK(p.find_path("n.k")->as_int() == 5);

  p.set("s", "text");
  CHECK_FALSE(p.set_path("s.k", 1));
  CHECK(p.get("s")->as_string() == "text");
  CHECK_FALSE(p.set_path("a.b.c.d", 1));  // a.b.c is a string
  CHECK_FALSE(p.set_path("list[0]", 1));   // indexes are not created
  CHECK_FALSE(p.has("list"));
  CHECK_FALSE(p.set_path("", 1));
  CHECK_FALSE(p.set_path("a..b", 1));
}

TEST_CASE("packet metadata") {
  Packet p;
  CHECK_FALSE(p.has_meta("mimetype"));
  p.set_meta(sluice::meta::mimetype, "text/csv");
  p.set_meta("mimetype", "text/plain");
  CHECK(p.has_meta("mimetype"));
  CHECK(p.get_meta("mimetype")->as_string() == "text/plain");
  CHECK(p.meta().size() == 1);
  CHECK(p.get_meta("absent") == nullptr);
  CHECK(p.erase_meta("mimetype"));
  CHECK_FALSE(p.erase_meta("mimetype"));
  p.meta().set("id", 7);
  CHECK(p.get_meta("id")->as_int() == 7);
  CHECK(p.size() == 0);  // metadata is not a field
}

TEST_CASE("field metadata") {
  Packet p;
  p.set("title", "x");
  p.set_meta("title", "lang", "en");
  p.set_meta("title", "score", 0.5);
  CHECK(p.has_meta("title", "lang"));
  CHECK_FALSE(p.has_meta("title", "other"));
  CHECK_FALSE(p.has_meta("body", "lang"));
  CHECK(p.get_meta("title", "score")->as_double() == 0.5);
  CHECK(p.get_meta("body", "lang") == nullptr);
  CHECK_FALSE(p.has_meta("lang"));  // field metadata is not packet metadata
  CHECK(p.field_meta().find("title")->as_object().size() == 2);

  CHECK(p.erase_meta("title", "lang"));
  CHECK_FALSE(p.erase_meta("title", "lang"));
  CHECK_FALSE(p.erase_meta("body", "lang"));
  CHECK(p.erase_meta("title", "score"));
  CHECK(p.field_meta().empty());  // the last name gone, the field's entry goes too

  // A field's metadata entry that is not an object is replaced, not written through.
  p.field_meta().set("title", 1);
  CHECK_FALSE(p.erase_meta("title", "x"));
  p.set_meta("title", "lang", "fr");
  CHECK(p.get_meta("title", "lang")->as_string() == "fr");
}

TEST_CASE("merge: the other packet wins for fields, meta and field meta") {
  Packet a;
  a.set("keep", 1);
  a.set("both", "a");
  a.set_meta("m", "a");
  a.set_meta("src", "a");
  a.set_meta("both", "lang", "en");
  a.set_meta("both", "only_a", true);

  Packet b;
  b.set("both", "b");
  b.set("new", 2);
  b.set_meta("m", "b");
  b.set_meta("both", "lang", "de");
  b.set_meta("new", "unit", "kg");

  a.merge(b);
  CHECK(a.get("keep")->as_int() == 1);
  CHECK(a.get("both")->as_string() == "b");
  CHECK(a.get("new")->as_int() == 2);
  CHECK(a.get_meta("m")->as_string() == "b");
  CHECK(a.get_meta("src")->as_string() == "a");
  CHECK(a.get_meta("both", "lang")->as_string() == "de");
  CHECK(a.get_meta("both", "only_a")->as_bool());
  CHECK(a.get_meta("new", "unit")->as_string() == "kg");
  CHECK(b.get("both")->as_string() == "b");  // the source is unchanged
}

TEST_CASE("clone is a deep, equal copy") {
  const Packet p = sample();
  Packet c = p.clone();
  CHECK(c == p);
  c.find_path("user.emails")->as_array().push_back("c@x");
  c.set_meta("title", "lang", "fr");
  c.set_meta("mimetype", "text/html");
  CHECK_FALSE(c == p);
  CHECK(p.find_path("user.emails")->as_array().size() == 2);
  CHECK(p.get_meta("title", "lang")->as_string() == "en");
  CHECK(p.get_meta("mimetype")->as_string() == "text/plain");
}

TEST_CASE("packet equality covers fields, meta and field meta") {
  const Packet p = sample();
  Packet fields = p.clone();
  fields.set("title", "other");
  Packet meta = p.clone();
  meta.set_meta("id", 1);
  Packet field_meta = p.clone();
  field_meta.set_meta("title", "lang", "de");
  CHECK_FALSE(fields == p);
  CHECK_FALSE(meta == p);
  CHECK_FALSE(field_meta == p);
}

TEST_CASE("moving a packet never copies its data") {
  Packet p;
  p.set("body", long_text);
  p.set_meta("note", long_text);
  p.set_meta("body", "raw", long_text);
  const char* body = p.get("body")->as_string().data();
  const char* note = p.get_meta("note")->as_string().data();
  const char* raw = p.get_meta("body", "raw")->as_string().data();

  Packet moved = std::move(p);
  CHECK(moved.get("body")->as_string().data() == body);
  CHECK(moved.get_meta("note")->as_string().data() == note);
  CHECK(moved.get_meta("body", "raw")->as_string().data() == raw);

  Packet assigned;
  assigned = std::move(moved);
  CHECK(assigned.get("body")->as_string().data() == body);

  // set/append/take move their values in and out, too.
  Value v = long_text;
  const char* data = v.as_string().data();
  assigned.set("other", std::move(v));
  CHECK(assigned.get("other")->as_string().data() == data);
  Value taken = assigned.take("other");
  CHECK(taken.as_string().data() == data);
  assigned.append("list", std::move(taken));
  CHECK(assigned.get("list")->as_array()[0].as_string().data() == data);

  // A scalar turning into an array moves, too.
  Value second = long_text;
  const char* second_data = second.as_string().data();
  assigned.append("body", std::move(second));
  CHECK(assigned.get("body")->as_array()[0].as_string().data() == body);
  CHECK(assigned.get("body")->as_array()[1].as_string().data() == second_data);
}

TEST_CASE("to_packet moves the parsed document's strings into the packet") {
  Value doc = sluice::json::parse(R"({"body": ")" + long_text + R"("})");
  const char* data = doc.get("body")->as_string().data();
  const Packet p = sluice::json::to_packet(std::move(doc));
  CHECK(p.get("body")->as_string().data() == data);
}

TEST_CASE("bytes: UTF-8 stays text; other bytes travel as base64 and come back byte for byte") {
  Packet text;
  text.set_bytes("data", "caf\xc3\xa9 ok");
  CHECK(text.get("data")->as_string() == "caf\xc3\xa9 ok");
  CHECK_FALSE(text.has_meta("data", sluice::meta::encoding));
  std::string scratch;
  CHECK(text.bytes("data", scratch) == "caf\xc3\xa9 ok");

  for (std::size_t length : {1u, 2u, 3u, 4u, 255u, 256u, 257u}) {
    CAPTURE(length);
    std::string bytes;
    for (std::size_t i = 0; i < length; ++i) bytes += static_cast<char>(0xff - i % 256);
    Packet binary;
    binary.set_bytes("data", bytes);
    CHECK(binary.get_meta("data", sluice::meta::encoding)->as_string() == "base64");
    CHECK(binary.get("data")->as_string().size() == (length + 2) / 3 * 4);
    CHECK(binary.bytes("data", scratch) == bytes);
    // Through the envelope the write-ahead log keeps: still the same bytes.
    std::string envelope;
    sluice::json::write_envelope(binary, envelope);
    const Packet back = sluice::json::parse_envelope(envelope);
    CHECK(back.bytes("data", scratch) == bytes);
  }
  Packet broken;
  broken.set("data", "not*base64");
  broken.set_meta("data", sluice::meta::encoding, "base64");
  CHECK_THROWS_WITH(broken.bytes("data", scratch), "field 'data' is marked base64 but holds '*'");
  CHECK_THROWS_WITH(broken.bytes("absent", scratch), "field 'absent' is missing");
}
