// Tests of {{cookiecutter.name}} on the SDK's harness: no kernel, no server. The component runs on
// its own fiber as in a graph; push() returns once it waits for the next packet.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
{%- if cookiecutter.kind == 'publisher' %}

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
{%- elif cookiecutter.kind == 'adapter' %}

#include <fstream>
#include <iterator>
#include <string>
{%- elif cookiecutter.kind == 'source' %}

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>
{%- endif %}

#include <sluice/harness.hpp>
#include <sluice/json.hpp>

#include "{{cookiecutter.name}}.hpp"

using {{cookiecutter.name}}::{{cookiecutter.class_name}};
using sluice::ComponentHarness;

TEST_CASE("the descriptor is sound") {
  CHECK(sluice::descriptor_problems(sluice::describe<{{cookiecutter.class_name}}>()).empty());
}
{%- if cookiecutter.kind == 'transformer' %}

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
{%- elif cookiecutter.kind == 'filter' %}

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
{%- elif cookiecutter.kind == 'adapter' %}

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
{%- elif cookiecutter.kind == 'extractor' %}

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
{%- elif cookiecutter.kind == 'publisher' %}

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
{%- elif cookiecutter.kind == 'source' %}

namespace {

std::vector<std::int64_t> numbers(const std::vector<sluice::Packet>& packets) {
  std::vector<std::int64_t> n;
  for (const auto& p : packets) n.push_back(p.get("n")->as_int());
  return n;
}

}  // namespace

// The source runs on a thread of its own, as in a graph; the harness collects what it sends
// and completes its streams when the test says so (ack_all).
TEST_CASE("sends count packets in batches, then stops by itself") {
  sluice::SourceHarness h(sluice::describe<{{cookiecutter.class_name}}>(), { {"count", 5}, {"batch", 2}, {"interval_ms", 0}});
  REQUIRE(h.wait_finished());
  CHECK(numbers(h.take_packets()) == std::vector<std::int64_t>{1, 2, 3, 4, 5});
  CHECK(h.streams_sent() == 3);
}

TEST_CASE("is held back while its packets are not done (backpressure)") {
  // send() waits while 2 packets are in flight.
  sluice::SourceHarness h(sluice::describe<{{cookiecutter.class_name}}>(), { {"count", 0}, {"interval_ms", 0}}, "", 2);
  REQUIRE(h.wait_for_packets(2));
  CHECK_FALSE(h.wait_for_packets(3, std::chrono::milliseconds(200)));
  h.ack_all();
  CHECK(h.wait_for_packets(3));
}

TEST_CASE("after a restart it goes on after the last batch done, sending again what was not") {
  const auto state = std::filesystem::temp_directory_path() / ("{{cookiecutter.name}}-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(state);
  std::filesystem::create_directories(state);
  {
    sluice::SourceHarness h(sluice::describe<{{cookiecutter.class_name}}>(), { {"count", 3}, {"interval_ms", 0}}, state.string());
    REQUIRE(h.wait_finished());
    CHECK(numbers(h.take_packets()) == std::vector<std::int64_t>{1, 2, 3});
  }  // none done
  {
    sluice::SourceHarness h(sluice::describe<{{cookiecutter.class_name}}>(), { {"count", 2}, {"interval_ms", 0}}, state.string());
    REQUIRE(h.wait_finished());
    CHECK(h.ack_all() == 2);
  }  // 1 and 2 done
  sluice::SourceHarness h(sluice::describe<{{cookiecutter.class_name}}>(), { {"count", 3}, {"interval_ms", 0}}, state.string());
  REQUIRE(h.wait_finished());
  CHECK(numbers(h.take_packets()) == std::vector<std::int64_t>{3});
  std::filesystem::remove_all(state);
}
{%- else %}

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
{%- endif %}
