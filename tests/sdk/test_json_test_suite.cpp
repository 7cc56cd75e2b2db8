// JSONTestSuite's test_parsing corpus (tests/data/JSONTestSuite): y_ files must parse, n_ files
// must be a ParseError, i_ files may go either way; none may crash, hang or throw anything else.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <sluice/json.hpp>

namespace fs = std::filesystem;
namespace json = sluice::json;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("JSONTestSuite test_parsing: y_ parse, n_ are rejected, i_ do not crash") {
  const fs::path dir = fs::path(SLUICE_TEST_DATA_DIR) / "JSONTestSuite" / "test_parsing";
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  // An empty or half-copied directory must fail, not pass with nothing checked.
  REQUIRE(files.size() > 300);

  std::size_t accepted = 0, rejected = 0, either = 0;
  for (const fs::path& path : files) {
    const std::string name = path.filename().string();
    const std::string text = read_file(path);
    CAPTURE(name);
    if (name.starts_with("y_")) {
      ++accepted;
      try {
        const sluice::Value v = json::parse(text);
        // What the writer makes of it must read back the same.
        CHECK(json::parse(json::to_string(v)) == v);
      } catch (const json::ParseError& e) {
        FAIL_CHECK("valid JSON rejected: ", e.what());
      }
    } else if (name.starts_with("n_")) {
      ++rejected;
      CHECK_THROWS_AS(json::parse(text), json::ParseError);
    } else if (name.starts_with("i_")) {
      ++either;
      try {
        json::parse(text);
      } catch (const json::ParseError&) {
        // Implementation-defined: rejecting is as good as accepting.
      }
    }
  }
  CHECK(accepted == 95);
  CHECK(rejected == 188);
  CHECK(either == 35);
}
