// Tests of {{cookiecutter.name}} on the SDK's harness: no kernel, no server. The component runs on
// its own fiber as in a graph; push() returns once it waits for the next packet.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <sluice/harness.hpp>
#include <sluice/json.hpp>

#include "{{cookiecutter.name}}.hpp"

using {{cookiecutter.name}}::{{cookiecutter.class_name}};
using sluice::ComponentHarness;

TEST_CASE("the descriptor is sound") {
  CHECK(sluice::descriptor_problems(sluice::describe<{{cookiecutter.class_name}}>()).empty());
}

TEST_CASE("pairs left and right packets by key, in any order") {
  auto h = ComponentHarness::of<{{cookiecutter.class_name}}>();
  h.push_json(R"({"id": 1, "name": "ada"})", "left");
  h.push_json(R"({"id": 2, "total": 5})", "right");
  h.push_json(R"({"id": 1, "total": 7})", "right");
  REQUIRE(h.output().size() == 1);
  const sluice::Packet& pair = h.output()[0];
  CHECK(pair.get("key")->as_int() == 1);
  CHECK(pair.find_path("left.name")->as_string() == "ada");
  CHECK(pair.find_path("right.total")->as_int() == 7);
  h.close();
  REQUIRE(h.output("unpaired").size() == 1);
  CHECK(h.output("unpaired")[0].get("id")->as_int() == 2);
}

TEST_CASE("keys compare as JSON: 1 and \"1\" do not pair") {
  auto h = ComponentHarness::of<{{cookiecutter.class_name}}>();
  h.push_json(R"({"id": 1})", "left");
  h.push_json(R"({"id": "1"})", "right");
  CHECK(h.output().empty());
}

TEST_CASE("max_waiting bounds what waits; a packet without the key goes to the errors") {
  auto h = ComponentHarness::of<{{cookiecutter.class_name}}>({
      {"max_waiting", 1},
  });
  h.push_json(R"({"id": 1})", "left");
  h.push_json(R"({"id": 2})", "left");
  h.push_json(R"({"name": "no id"})", "right");
  REQUIRE(h.output("unpaired").size() == 1);
  CHECK(h.output("unpaired")[0].get("id")->as_int() == 2);
  CHECK(h.errors().size() == 1);
}
