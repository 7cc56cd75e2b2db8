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

TEST_CASE("counts the words of the text field") {
  auto h = ComponentHarness::of<{{cookiecutter.class_name}}>();
  h.push_json(R"({"text": "  the quick\tbrown\n fox "})");
  h.push_json(R"({"text": ""})");
  REQUIRE(h.output().size() == 2);
  CHECK(h.output()[0].get("words")->as_int() == 4);
  CHECK(h.output()[1].get("words")->as_int() == 0);
}

TEST_CASE("field and into are params") {
  auto h = ComponentHarness::of<{{cookiecutter.class_name}}>({
      {"field", "doc.body"},
      {"into", "stats.words"},
  });
  h.push_json(R"({"doc": {"body": "one two"}})");
  REQUIRE(h.output().size() == 1);
  CHECK(h.output()[0].find_path("stats.words")->as_int() == 2);
}

TEST_CASE("a packet without the text passes unchanged; a text that is no string goes to the errors") {
  auto h = ComponentHarness::of<{{cookiecutter.class_name}}>();
  h.push_json(R"({"title": "no text"})");
  h.push_json(R"({"text": 42})");
  h.push_json(R"({"text": "still running"})");
  REQUIRE(h.output().size() == 2);
  CHECK(h.output()[0].get("title")->as_string() == "no text");
  CHECK_FALSE(h.output()[0].get("words"));
  CHECK(h.output()[1].get("words")->as_int() == 2);
  REQUIRE(h.errors().size() == 1);
  CHECK(h.errors()[0].get_meta("error")->as_string().find("'text'") != std::string::npos);
}
