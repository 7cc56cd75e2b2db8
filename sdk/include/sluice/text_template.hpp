// sluice/text_template.hpp — a text with {name} placeholders, parsed once: the `template`
// component's {field.path}s, nats_publish's subject (orders.{region}), generate's {seq}/{now}.
//
//   sluice::TextTemplate subject("orders.{region}");
//   std::string s = subject.render([&](const sluice::TextTemplate::Piece& p, std::string& out) {
//     if (const sluice::Value* v = packet.find_path(p.path)) out += v->to_display_string();
//   });
//
// {{ and }} stand for one brace each; a '{' that is not closed, an empty {} and a '}' that
// closes nothing are errors.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/field_path.hpp>

namespace sluice {

class TextTemplate {
 public:
  struct Piece {
    std::string text;          // literal text, or the placeholder's name
    bool placeholder = false;
    std::size_t offset = 0;    // where it starts in the text (a placeholder: its '{')
    FieldPath path;            // a placeholder's name read as a field path, parsed once
  };
  // Appends what `placeholder` stands for to `out`.
  using Fill = std::function<void(const Piece& placeholder, std::string& out)>;

  // Throws std::invalid_argument naming the offset of the problem.
  explicit TextTemplate(std::string_view text);

  const std::string& text() const { return text_; }
  const std::vector<Piece>& pieces() const { return pieces_; }
  bool empty() const { return pieces_.empty(); }
  // The text with every placeholder filled.
  std::string render(const Fill& fill) const;

 private:
  std::string text_;
  std::vector<Piece> pieces_;
};

}  // namespace sluice
