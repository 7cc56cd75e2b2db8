#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <chrono>

#include <sluice/harness.hpp>
#include <sluice/json.hpp>

#include "flow.hpp"
#include "plugin_test.hpp"

using namespace sluice;
using namespace sluice::flow;
using namespace std::chrono_literals;

namespace {
std::vector<std::int64_t> ints(const std::vector<Packet>& packets, std::string_view field) {
  std::vector<std::int64_t> out;
  for (const auto& p : packets) out.push_back(p.find_path(field)->as_int());
  return out;
}
}  // namespace

TEST_CASE("the module exports the flow components") {
  check_plugin_module(
      {"drop", "keep", "route", "dedupe", "sample", "split", "batch", "unbatch", "merge"});
}

TEST_CASE("drop removes matching packets; keep passes only them") {
  auto drop = ComponentHarness::of<Drop>({{"if", "status == 'spam' || !exists(body)"}});
  auto keep = ComponentHarness::of<Keep>({{"if", "age >= 18"}});
  for (const char* json : {R"({"n": 1, "status": "ok", "body": "x", "age": 20})",
                           R"({"n": 2, "status": "spam", "body": "x", "age": 17})",
                           R"({"n": 3, "age": 18})"}) {
    drop.push_json(json);
    keep.push_json(json);
  }
  CHECK(ints(drop.output(), "n") == std::vector<std::int64_t>{1});
  CHECK(ints(keep.output(), "n") == std::vector<std::int64_t>{1, 3});
}

TEST_CASE("a bad condition fails construction naming the param and the column") {
  CHECK_THROWS_WITH(ComponentHarness::of<Keep>({{"if", "age >> 3"}}),
                    doctest::Contains("param 'if': column 6"));
  CHECK_THROWS_WITH(ComponentHarness::of<Route>({{"routes", Array{"a", "b ="}}}),
                    doctest::Contains("param 'routes[1]'"));
}

TEST_CASE("route sends to the first matching route's port and marks it in meta") {
  auto h = ComponentHarness::of<Route>({{"routes", Array{"lang == 'en'", "lang =~ /^(de|fr)$/", "exists(lang)"}}});
  h.push_json(R"({"lang": "fr"})");
  h.push_json(R"({"lang": "en"})");
  h.push_json(R"({"lang": "nl"})");
  h.push_json(R"({"text": "no language"})");
  REQUIRE(h.output("route1").size() == 1);
  REQUIRE(h.output("route2").size() == 1);
  REQUIRE(h.output("route3").size() == 1);
  REQUIRE(h.output("out").size() == 1);
  CHECK(h.output("route2")[0].get("lang")->as_string() == "fr");
  CHECK(h.output("route2")[0].get_meta("route")->as_string() == "route2");
  CHECK(h.output("route3")[0].get("lang")->as_string() == "nl");
  CHECK_FALSE(h.output("out")[0].has_meta("route"));
  CHECK(h.output("route4").empty());
}

TEST_CASE("route in mode all copies the packet to every matching port") {
  auto h = ComponentHarness::of<Route>({{"routes", Array{"n > 1", "n > 2", "n > 3"}}, {"mode", "all"}});
  h.push_json(R"({"n": 3})");
  CHECK(h.output("route1").size() == 1);
  CHECK(h.output("route2").size() == 1);
  CHECK(h.output("route3").empty());
  CHECK(h.output("route2")[0].get("n")->as_int() == 3);
  CHECK(h.output("route1")[0].get_meta("route")->as_string() == "route1");
}

TEST_CASE("route accepts at most as many routes as it has ports") {
  Array nine(9, Value("true"));
  CHECK_THROWS_WITH(ComponentHarness::of<Route>({{"routes", nine}}), doctest::Contains("at most 8"));
}

TEST_CASE("dedupe: values equal in conditions (1 and 1.0, any key order) are one key") {
  auto h = ComponentHarness::of<Dedupe>({{"key", Array{"id", "o"}}});
  h.push_json(R"({"n": 1, "id": 1, "o": {"a": 1, "b": 2}})");
  h.push_json(R"({"n": 2, "id": 1.0, "o": {"b": 2, "a": 1.0}})");  // duplicate
  h.push_json(R"({"n": 3, "id": "1", "o": {"a": 1, "b": 2}})");
  CHECK(ints(h.output(), "n") == std::vector<std::int64_t>{1, 3});
  CHECK(ints(h.output("duplicate"), "n") == std::vector<std::int64_t>{2});
}

TEST_CASE("dedupe passes the first of each key and forgets keys beyond its window") {
  auto h = ComponentHarness::of<Dedupe>({{"key", Array{"id", "day"}}, {"window", 2}});
  h.push_json(R"({"n": 1, "id": 1, "day": "mon"})");
  h.push_json(R"({"n": 2, "id": 1, "day": "mon"})");  // duplicate
  h.push_json(R"({"n": 3, "id": 1, "day": "tue"})");
  h.push_json(R"({"n": 4, "id": 1})");                // absent day is its own key
  h.push_json(R"({"n": 5, "id": 1, "day": null})");   // and null differs from absent
  h.push_json(R"({"n": 6, "id": 1, "day": "mon"})");  // mon fell out of the 2-key window
  CHECK(ints(h.output(), "n") == std::vector<std::int64_t>{1, 3, 4, 5, 6});
  CHECK(ints(h.output("duplicate"), "n") == std::vector<std::int64_t>{2});
}

TEST_CASE("sample passes none at rate 0, all at 1, about the rate in between") {
  auto none = ComponentHarness::of<Sample>({{"rate", 0}});
  auto all = ComponentHarness::of<Sample>({{"rate", 1}});
  auto half = ComponentHarness::of<Sample>({{"rate", 0.25}, {"seed", 42}});
  for (int i = 0; i < 4000; ++i) {
    const std::string json = R"({"i": )" + std::to_string(i) + "}";
    none.push_json(json);
    all.push_json(json);
    half.push_json(json);
  }
  CHECK(none.output().empty());
  CHECK(all.output().size() == 4000);
  CHECK(half.output().size() > 800);
  CHECK(half.output().size() < 1200);
}

TEST_CASE("sample by key gives a key the same answer every time") {
  auto a = ComponentHarness::of<Sample>({{"rate", 0.5}, {"key", "user"}});
  auto b = ComponentHarness::of<Sample>({{"rate", 0.5}, {"key", "user"}});  // another worker
  for (int round = 0; round < 3; ++round)
    for (int u = 0; u < 200; ++u) {
      a.push_json(R"({"user": )" + std::to_string(u) + "}");
      b.push_json(R"({"user": )" + std::to_string(u) + "}");
    }
  const auto passed = ints(a.output(), "user");
  CHECK(passed == ints(b.output(), "user"));
  CHECK(passed.size() % 3 == 0);
  CHECK(passed.size() > 3 * 60);
  CHECK(passed.size() < 3 * 140);
}

TEST_CASE("split emits one packet per element, keeping the other fields and the metadata") {
  auto h = ComponentHarness::of<Split>({{"field", "items"}, {"into", "item"}, {"index", "pos"}});
  Packet p = json::to_packet(json::parse(R"({"order": 7, "items": [{"sku": "a"}, {"sku": "b"}]})"));
  p.set_meta("stream", "s1");
  h.push(std::move(p));
  REQUIRE(h.output().size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    const Packet& child = h.output()[i];
    CHECK(child.get("order")->as_int() == 7);
    CHECK_FALSE(child.has("items"));
    CHECK(child.get("pos")->as_int() == static_cast<std::int64_t>(i));
    CHECK(child.get_meta("stream")->as_string() == "s1");
  }
  CHECK(h.output()[1].find_path("item.sku")->as_string() == "b");
}

TEST_CASE("split in place; an empty array yields nothing; a non-array is an error") {
  auto h = ComponentHarness::of<Split>({{"field", "tags"}});
  h.push_json(R"({"tags": ["x", "y"]})");
  h.push_json(R"({"tags": []})");
  h.push_json(R"({"tags": "x"})");
  REQUIRE(h.output().size() == 2);
  CHECK(h.output()[0].get("tags")->as_string() == "x");
  REQUIRE(h.errors().size() == 1);
  CHECK(h.errors()[0].get_meta("error")->as_string() == "split: field 'tags' is string, not an array");
}

TEST_CASE("batch emits by size, by time after the first packet, and the rest at the end") {
  auto h = ComponentHarness::of<Batch>({{"size", 3}, {"max_wait_ms", 500}});
  for (int n = 1; n <= 4; ++n) h.push_json(R"({"n": )" + std::to_string(n) + "}");
  REQUIRE(h.output().size() == 1);
  CHECK(h.output()[0].get("packets")->as_array().size() == 3);
  h.advance(499ms);
  CHECK(h.output().size() == 1);
  h.advance(1ms);  // 500 ms after packet 4 arrived
  REQUIRE(h.output().size() == 2);
  CHECK(h.output()[1].get("packets")->as_array().size() == 1);
  CHECK(h.output()[1].find_path("packets[0].n")->as_int() == 4);
  h.advance(10s);  // no packet, no empty batch
  CHECK(h.output().size() == 2);
  h.push_json(R"({"n": 5})");
  h.close();
  REQUIRE(h.output().size() == 3);
  CHECK(h.output()[2].find_path("packets[0].n")->as_int() == 5);
}

TEST_CASE("batch and unbatch with envelopes round-trip packets and their metadata") {
  auto batch = ComponentHarness::of<Batch>({{"size", 2}, {"envelopes", true}});
  auto unbatch = ComponentHarness::of<Unbatch>({{"envelopes", true}});
  std::vector<Packet> originals;
  for (int n = 0; n < 2; ++n) {
    Packet p;
    p.set("n", n);
    p.set_meta("id", "p" + std::to_string(n));
    p.set_meta("n", "unit", "kg");
    originals.push_back(p.clone());
    batch.push(std::move(p));
  }
  REQUIRE(batch.output().size() == 1);
  unbatch.push(std::move(batch.output()[0]));
  REQUIRE(unbatch.output().size() == 2);
  CHECK(unbatch.output()[0] == originals[0]);
  CHECK(unbatch.output()[1] == originals[1]);
}

TEST_CASE("unbatch of plain objects gives each the batch's metadata; bad batches fail whole") {
  auto h = ComponentHarness::of<Unbatch>();
  Packet p = json::to_packet(json::parse(R"({"packets": [{"a": 1}, {"a": 2}]})"));
  p.set_meta("stream", "s9");
  h.push(std::move(p));
  REQUIRE(h.output().size() == 2);
  CHECK(h.output()[1].get("a")->as_int() == 2);
  CHECK(h.output()[1].get_meta("stream")->as_string() == "s9");
  h.push_json(R"({"packets": [{"a": 1}, 2]})");
  CHECK(h.output().size() == 2);
  CHECK(h.errors().size() == 1);
}

TEST_CASE("merge pairs left and right by key, right's fields winning") {
  auto h = ComponentHarness::of<Merge>({{"key", "id"}, {"timeout_ms", 1000}});
  h.push_json(R"({"id": 1, "name": "left", "l": true})", "left");
  h.push_json(R"({"id": 2, "name": "right"})", "right");
  h.push_json(R"({"id": 1, "name": "right", "r": true})", "right");
  REQUIRE(h.output().size() == 1);
  const Packet& pair = h.output()[0];
  CHECK(pair.get("name")->as_string() == "right");
  CHECK(pair.get("l")->as_bool());
  CHECK(pair.get("r")->as_bool());
  h.push_json(R"({"id": 2, "name": "left"})", "left");  // right came first: still left + right
  REQUIRE(h.output().size() == 2);
  CHECK(h.output()[1].get("name")->as_string() == "right");
  CHECK(h.output("unpaired").empty());
}

TEST_CASE("merge sends packets whose partner does not come in time to unpaired") {
  auto h = ComponentHarness::of<Merge>({{"key", "id"}, {"timeout_ms", 1000}});
  h.push_json(R"({"id": 1})", "left");
  h.advance(600ms);
  h.push_json(R"({"id": 2})", "left");
  h.push_json(R"({"id": 2})", "left");  // same side: waits too, no pair
  h.advance(400ms);                     // id 1 has waited 1000 ms
  REQUIRE(h.output("unpaired").size() == 1);
  CHECK(h.output("unpaired")[0].get("id")->as_int() == 1);
  h.push_json(R"({"id": 1})", "right");  // too late for its partner: waits alone
  h.push_json(R"({"id": 2})", "right");  // pairs with the older id 2
  REQUIRE(h.output().size() == 1);
  h.close();  // what still waits is unpaired
  CHECK(h.output("unpaired").size() == 3);
  CHECK(h.output().size() == 1);
}

TEST_CASE("merge bounds the packets waiting, and fails packets without the key") {
  auto h = ComponentHarness::of<Merge>({{"key", "id"}, {"max_pending", 2}});
  for (int id = 1; id <= 3; ++id) h.push_json(R"({"id": )" + std::to_string(id) + "}", "left");
  REQUIRE(h.output("unpaired").size() == 1);
  CHECK(h.output("unpaired")[0].get("id")->as_int() == 1);
  h.push_json(R"({"other": 1})", "right");
  REQUIRE(h.errors().size() == 1);
  CHECK(h.errors()[0].get_meta("error")->as_string() == "merge: key field 'id' is missing");
}
