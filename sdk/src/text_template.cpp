#include "sluice/text_template.hpp"

#include <stdexcept>

namespace sluice {

TextTemplate::TextTemplate(std::string_view text) : text_(text) {
  Piece literal;
  const auto end_literal = [&] {
    if (!literal.text.empty()) pieces_.push_back(std::move(literal));
    literal = Piece{};
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      if (literal.text.empty()) literal.offset = i;
      literal.text += c;
      ++i;
    } else if (c == '{') {
      const auto close = text.find('}', i);
      if (close == std::string_view::npos)
        throw std::invalid_argument("'{' at offset " + std::to_string(i) + " is not closed (write {{ for a brace)");
      if (close == i + 1) throw std::invalid_argument("empty {} at offset " + std::to_string(i));
      end_literal();
      const std::string_view name = text.substr(i + 1, close - i - 1);
      pieces_.push_back({std::string(name), true, i, FieldPath(name)});
      i = close;
    } else if (c == '}') {
      throw std::invalid_argument("'}' at offset " + std::to_string(i) + " closes nothing (write }} for a brace)");
    } else {
      if (literal.text.empty()) literal.offset = i;
      literal.text += c;
    }
  }
  end_literal();
}

std::string TextTemplate::render(const Fill& fill) const {
  std::string out;
  for (const auto& piece : pieces_) {
    if (piece.placeholder)
      fill(piece, out);
    else
      out += piece.text;
  }
  return out;
}

}  // namespace sluice
