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

TEST_CASE("passes the packets whose field equals one of the values") {
  auto h = ComponentHarness::of<{{cookiecutter.class_name}}>({
      {"field", "lang"},
      {"values", sluice::Array{"en", "de"}},
  });
  h.push_json(R"({"lang": "en", "n": 1})");
  h.push_json(R"({"lang": "fr", "n": 2})");
  h.push_json(R"({"n": 3})");
  h.push_json(R"({"lang": "de", "n": 4})");
  REQUIRE(h.output().size() == 2);
  CHECK(h.output()[0].get("n")->as_int() == 1);
  CHECK(h.output()[1].get("n")->as_int() == 4);
}

TEST_CASE("invert passes the others, numbers compare as their JSON text") {
  auto h = ComponentHarness::of<{{cookiecutter.class_name}}>({
      {"field", "status"},
      {"values", "200"},
      {"invert", true},
  });
  h.push_json(R"({"status": 200})");
  h.push_json(R"({"status": 404})");
  REQUIRE(h.output().size() == 1);
  CHECK(h.output()[0].get("status")->as_int() == 404);
}

TEST_CASE("field and values are required") {
  const sluice::Object no_values = {
      {"field", "lang"},
  };
  CHECK_THROWS_AS(ComponentHarness::of<{{cookiecutter.class_name}}>(no_values), std::invalid_argument);
}
