// sluice/text.hpp (protocol text) and sluice/text_template.hpp ({name} placeholders).
#include <doctest/doctest.h>

#include <sluice/text.hpp>
#include <sluice/text_template.hpp>

using namespace sluice;

TEST_CASE("text: media types compare by their lower-case essence, parameters apart") {
  CHECK(text::media_type(" Text/CSV ; charset=UTF-8") == "text/csv");
  CHECK(text::media_type("application/x-ndjson") == "application/x-ndjson");
  CHECK(text::media_type("") == "");
  CHECK(text::media_type_parameter("text/csv; charset=\"ISO-8859-1\"", "charset") == "iso-8859-1");
  CHECK(text::media_type_parameter("text/plain; format=flowed; Charset = utf-8 ", "charset") == "utf-8");
  CHECK(text::media_type_parameter("text/plain; format=flowed", "charset") == "");
  CHECK(text::media_type_parameter("text/plain; charset", "charset") == "");
  CHECK(text::lower("Content-Type: Ä") == "content-type: Ä");  // ASCII only
  CHECK(text::trim(" \t x y \r\n") == "x y");
}

TEST_CASE("text template: literals, placeholders and escaped braces, each with its offset") {
  const TextTemplate t("{{a}} {user.name} <{email}>}}");
  const auto& pieces = t.pieces();
  REQUIRE(pieces.size() == 5);
  CHECK(pieces[0].text == "{a} ");
  CHECK(pieces[0].offset == 0);
  CHECK(pieces[1].placeholder);
  CHECK(pieces[1].text == "user.name");
  CHECK(pieces[1].offset == 6);
  CHECK(pieces[2].text == " <");
  CHECK(pieces[3].text == "email");
  CHECK(pieces[4].text == ">}");
  CHECK(t.render([](const TextTemplate::Piece& p, std::string& out) { out += "[" + p.text + "]"; }) ==
        "{a} [user.name] <[email]>}");
  // Each placeholder's name is parsed as a field path once, with the template.
  CHECK(pieces[1].path.steps().size() == 2);
  CHECK(pieces[1].path.steps()[1].key == "name");
  CHECK(pieces[3].path.is_top_level());
  CHECK(TextTemplate("").empty());
}

TEST_CASE("text template: a brace that opens or closes nothing is an error at its offset") {
  CHECK_THROWS_WITH(TextTemplate("ab{c"), "'{' at offset 2 is not closed (write {{ for a brace)");
  CHECK_THROWS_WITH(TextTemplate("a{}"), "empty {} at offset 1");
  CHECK_THROWS_WITH(TextTemplate("a}b"), "'}' at offset 1 closes nothing (write }} for a brace)");
}
