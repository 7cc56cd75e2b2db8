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

TEST_CASE("puts the distinct hashtags into a list, in the order they first appear") {
  auto h = ComponentHarness::of<{{cookiecutter.class_name}}>();
  h.push_json(R"({"text": "#sluice is #fast, #sluice and #café!"})");
  REQUIRE(h.output().size() == 1);
  CHECK(sluice::json::to_string(*h.output()[0].get("hashtags")) == R"(["sluice","fast","café"])");
}

TEST_CASE("a '#' inside a word is no tag; a text without tags gets an empty list") {
  auto h = ComponentHarness::of<{{cookiecutter.class_name}}>();
  h.push_json(R"({"text": "C# and a#b, # alone"})");
  REQUIRE(h.output().size() == 1);
  CHECK(h.output()[0].get("hashtags")->as_array().empty());
}

TEST_CASE("a packet without the text passes unchanged; a text that is no string goes to the errors") {
  auto h = ComponentHarness::of<{{cookiecutter.class_name}}>();
  h.push_json(R"({"title": "no text"})");
  h.push_json(R"({"text": ["#a"]})");
  REQUIRE(h.output().size() == 1);
  CHECK_FALSE(h.output()[0].get("hashtags"));
  REQUIRE(h.errors().size() == 1);
  CHECK(h.errors()[0].get_meta("error")->as_string().find("'text'") != std::string::npos);
}

TEST_CASE("field and into are params") {
  auto h = ComponentHarness::of<{{cookiecutter.class_name}}>({
      {"field", "post.body"},
      {"into", "meta.tags"},
  });
  h.push_json(R"({"post": {"body": "#one"}})");
  REQUIRE(h.output().size() == 1);
  CHECK(h.output()[0].find_path("meta.tags")->as_array().size() == 1);
}
