// Tests of {{cookiecutter.name}} on the SDK's harness: no kernel, no server. The component runs on
// its own fiber as in a graph; push() returns once it waits for the next packet.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>

#include <sluice/harness.hpp>
#include <sluice/json.hpp>

#include "{{cookiecutter.name}}.hpp"

using {{cookiecutter.name}}::{{cookiecutter.class_name}};
using sluice::ComponentHarness;

TEST_CASE("the descriptor is sound") {
  CHECK(sluice::descriptor_problems(sluice::describe<{{cookiecutter.class_name}}>()).empty());
}

namespace {

// A raw packet as the server makes of a POST body: the text in `data`, its type in `mimetype`.
sluice::Packet raw_packet(std::string text, std::string mimetype) {
  sluice::Packet raw;
  raw.set("data", std::move(text));
  raw.set_meta("mimetype", std::move(mimetype));
  return raw;
}

// A file of test data: TEST_DATA_DIR is the project's directory (meson.build), since
// `meson test` runs the tests in the build directory.
std::string test_data(const std::string& name) {
  std::ifstream in(std::string(TEST_DATA_DIR) + "/" + name, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("splits the sample into one packet per line, blank lines skipped, metadata kept") {
  auto h = ComponentHarness::of<{{cookiecutter.class_name}}>();
  sluice::Packet raw = raw_packet(test_data("sample.txt"), "text/plain; charset=utf-8");
  raw.set_meta("filename", "sample.txt");
  h.push(std::move(raw));
  REQUIRE(h.output().size() == 3);
  CHECK(h.output()[0].get("line")->as_string() == "first line");
  CHECK(h.output()[0].get("line_number")->as_int() == 1);
  CHECK(h.output()[2].get("line")->as_string() == "third line");
  CHECK(h.output()[2].get("line_number")->as_int() == 4);
  CHECK(h.output()[2].get_meta("filename")->as_string() == "sample.txt");
}

TEST_CASE("packets of another or no mimetype leave by unmatched, unchanged") {
  auto h = ComponentHarness::of<{{cookiecutter.class_name}}>();
  h.push(raw_packet("a,b\n1,2\n", "text/csv"));
  h.push_json(R"({"data": "no mimetype"})");
  CHECK(h.output().empty());
  REQUIRE(h.output("unmatched").size() == 2);
  CHECK(h.output("unmatched")[0].get("data")->as_string() == "a,b\n1,2\n");
  CHECK(h.output("unmatched")[0].get_meta("mimetype")->as_string() == "text/csv");
}

TEST_CASE("mimetypes: type/* matches a whole type; skip_blank false keeps every line") {
  auto h = ComponentHarness::of<{{cookiecutter.class_name}}>({
      {"mimetypes", sluice::Array{"text/*"}},
      {"skip_blank", false},
  });
  h.push(raw_packet("a\r\n\r\nb", "Text/Markdown"));
  REQUIRE(h.output().size() == 3);
  CHECK(h.output()[1].get("line")->as_string().empty());
  CHECK(h.output()[2].get("line")->as_string() == "b");
}

TEST_CASE("a packet of the type without text goes to the errors") {
  auto h = ComponentHarness::of<{{cookiecutter.class_name}}>();
  sluice::Packet raw;
  raw.set("data", 42);
  raw.set_meta("mimetype", "text/plain");
  h.push(std::move(raw));
  CHECK(h.output().empty());
  CHECK(h.errors().size() == 1);
}
