// Tests of {{cookiecutter.name}} on the SDK's harness: no kernel, no server. The component runs on
// its own fiber as in a graph; push() returns once it waits for the next packet.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
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

// A file name of our own under the temporary directory, removed at the end of the test.
struct TempFile {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("{{cookiecutter.name}}-test-" + std::to_string(::getpid())) / "out.txt";
  ~TempFile() { std::filesystem::remove_all(path.parent_path()); }
  std::string text() const {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
};

}  // namespace

TEST_CASE("appends each packet as one JSON line, creating the directory") {
  TempFile file;
  {
    auto h = ComponentHarness::of<{{cookiecutter.class_name}}>({
        {"path", file.path.string()},
    });
    h.push_json(R"({"a": 1})");
    h.push_json(R"({"b": "two"})");
    h.close();
    CHECK(h.errors().empty());
  }
  CHECK(file.text() == "{\"a\":1}\n{\"b\":\"two\"}\n");
}

TEST_CASE("field writes only that field's text; a packet without it goes to the errors") {
  TempFile file;
  auto h = ComponentHarness::of<{{cookiecutter.class_name}}>({
      {"path", file.path.string()},
      {"field", "msg"},
  });
  h.push_json(R"({"msg": "hello"})");
  h.push_json(R"({"other": 1})");
  h.close();
  CHECK(h.errors().size() == 1);
  CHECK(file.text() == "hello\n");
}
