// `sluice new component NAME [--kind K] [--dir D] [--set VAR=VALUE]...`: writes a new
// component project from templates/component.
//
// A template is a cookiecutter template, so that `cookiecutter` renders it too: a
// cookiecutter.json with the variables in order (a string is a default, which may use the
// variables before it; a list is a choice whose first item is the default) and one directory
// named `{{cookiecutter.VAR}}` holding the project, whose file names and contents may use:
//   {{ cookiecutter.VAR }}, optionally through the filters replace('a', 'b') and title
//   {% if C %} … {% elif C %} … {% else %} … {% endif %}, where C compares two operands
//       (cookiecutter.VAR or a 'string') with == or !=, and joins comparisons with and / or
//   {# comments #}, and `-` whitespace control on every tag: {%- … -%}
// That subset of Jinja is rendered here in C++, so that the generator needs no Python; anything
// outside it is an error naming file:line:column. Beside cookiecutter.json, sluice-template.json
// (ignored by cookiecutter) gives each variable a description and validation rules.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include <sluice/component.hpp>
#include <sluice/json.hpp>

#include "cli/commands.hpp"
#include "registry/plugin_registry.hpp"
#include "support/files.hpp"

namespace sluice::cli {

namespace {

namespace fs = std::filesystem;

// ---- the Jinja subset ------------------------------------------------------------------------

// A problem in a template file, at a 1-based line and column.
class TemplateError : public std::runtime_error {
 public:
  TemplateError(const std::string& where, std::size_t line, std::size_t column,
                const std::string& message)
      : std::runtime_error(where + ":" + std::to_string(line) + ":" + std::to_string(column) +
                           ": " + message) {}
};

using Variables = std::map<std::string, std::string, std::less<>>;

// What an expression evaluates to: text, or the outcome of a comparison.
using ExprValue = std::variant<std::string, bool>;

bool truthy(const ExprValue& value) {
  if (const bool* b = std::get_if<bool>(&value)) return *b;
  return !std::get<std::string>(value).empty();
}

std::string to_text(const ExprValue& value) {
  if (const bool* b = std::get_if<bool>(&value)) return *b ? "True" : "False";  // as Jinja does
  return std::get<std::string>(value);
}

// Jinja's `title`: each word (a run of characters between whitespace, '-', '(', '{', '[' or '<')
// starts upper case and continues lower case. ASCII only, like the identifiers it is used on.
std::string title_case(std::string_view text) {
  auto separator = [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) || std::strchr("-({[<", c) != nullptr;
  };
  std::string out;
  bool word_start = true;
  for (const char c : text) {
    if (separator(c)) {
      out += c;
      word_start = true;
      continue;
    }
    out += static_cast<char>(word_start ? std::toupper(static_cast<unsigned char>(c))
                                        : std::tolower(static_cast<unsigned char>(c)));
    word_start = false;
  }
  return out;
}

// Parses and evaluates one tag's expression. Positions in errors are within the file.
class ExpressionParser {
 public:
  ExpressionParser(std::string_view text, const Variables& variables, const std::string& where,
                   std::size_t line, std::size_t column)
      : text_(text), variables_(variables), where_(where), line_(line), column_(column) {}

  ExprValue parse_whole() {
    ExprValue value = parse_or();
    skip_space();
    if (pos_ < text_.size()) fail("unexpected '" + std::string(text_.substr(pos_)) + "'");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& message) const {
    throw TemplateError(where_, line_, column_ + pos_, message);
  }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  static bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

  // The next word if it is `word` (not a prefix of a longer one); consumes it.
  bool accept_word(std::string_view word) {
    skip_space();
    if (text_.substr(pos_, word.size()) != word) return false;
    const std::size_t end = pos_ + word.size();
    if (end < text_.size() && word_char(text_[end])) return false;
    pos_ = end;
    return true;
  }

  bool accept(std::string_view symbol) {
    skip_space();
    if (text_.substr(pos_, symbol.size()) != symbol) return false;
    pos_ += symbol.size();
    return true;
  }

  std::string identifier() {
    skip_space();
    const std::size_t start = pos_;
    while (pos_ < text_.size() && word_char(text_[pos_])) ++pos_;
    if (start == pos_) fail("expected a name");
    return std::string(text_.substr(start, pos_ - start));
  }

  std::string string_literal() {
    skip_space();
    const char quote = text_[pos_];
    const std::size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string value(text_.substr(pos_ + 1, end - pos_ - 1));
    if (value.find('\\') != std::string::npos) fail("escapes in strings are not supported");
    pos_ = end + 1;
    return value;
  }

  ExprValue parse_or() {
    ExprValue left = parse_and();
    while (accept_word("or")) {
      ExprValue right = parse_and();  // both sides parse, so errors show on either branch
      left = truthy(left) || truthy(right);
    }
    return left;
  }

  ExprValue parse_and() {
    ExprValue left = parse_comparison();
    while (accept_word("and")) {
      ExprValue right = parse_comparison();
      left = truthy(left) && truthy(right);
    }
    return left;
  }

  ExprValue parse_comparison() {
    ExprValue left = parse_filtered();
    if (accept("==")) return left == parse_filtered();
    if (accept("!=")) return left != parse_filtered();
    return left;
  }

  ExprValue parse_filtered() {
    ExprValue value = parse_operand();
    while (accept("|")) {
      const std::size_t filter_pos = pos_;
      const std::string filter = identifier();
      std::string text = to_text(value);
      if (filter == "title") {
        value = title_case(text);
      } else if (filter == "replace") {
        if (!accept("(")) fail("replace needs its arguments: replace('old', 'new')");
        const std::string from = string_literal();
        if (!accept(",")) fail("replace needs two arguments: replace('old', 'new')");
        const std::string to = string_literal();
        if (!accept(")")) fail("expected ')' after the arguments of replace");
        if (from.empty()) fail("replace('', …) is not supported");
        for (std::size_t at = text.find(from); at != std::string::npos;
             at = text.find(from, at + to.size()))
          text.replace(at, from.size(), to);
        value = text;
      } else {
        pos_ = filter_pos;
        fail("unsupported filter '" + filter + "' (supported: replace, title)");
      }
    }
    return value;
  }

  ExprValue parse_operand() {
    skip_space();
    if (pos_ >= text_.size()) fail("expected cookiecutter.NAME or a 'string'");
    if (text_[pos_] == '\'' || text_[pos_] == '"') return string_literal();
    const std::size_t start = pos_;
    if (!accept_word("cookiecutter") || !accept(".")) {
      pos_ = start;
      fail("expected cookiecutter.NAME or a 'string'");
    }
    const std::size_t name_pos = pos_;
    const std::string name = identifier();
    const auto found = variables_.find(name);
    if (found == variables_.end()) {
      pos_ = name_pos;
      fail("'cookiecutter." + name + "' is undefined here (only the variables of "
           "cookiecutter.json are, and in cookiecutter.json only those before it)");
    }
    return found->second;
  }

  std::string_view text_;
  const Variables& variables_;
  const std::string& where_;
  std::size_t line_, column_;
  std::size_t pos_ = 0;
};

// Renders one template text. Tags are cut out first, whitespace control is applied to the
// text between them, then if-blocks are evaluated in one pass with a stack of their states.
class TemplateRenderer {
 public:
  TemplateRenderer(const Variables& variables, std::string where)
      : variables_(variables), where_(std::move(where)) {}

  std::string render(std::string_view text) {
    std::vector<Piece> pieces = split(text);
    apply_whitespace_control(pieces);
    return evaluate(pieces);
  }

 private:
  enum class PieceType { text, output, statement, comment };
  struct Piece {
    PieceType type;
    std::string text;  // the text, or the tag's content without delimiters and `-`
    std::size_t line = 1, column = 1;  // of the content's first character
    bool strip_before = false, strip_after = false;
  };

  struct Block {
    bool taken = false;      // some branch so far was true
    bool active = false;     // the current branch renders
    bool parent_active = true;
    bool seen_else = false;
    std::size_t line, column;  // of its `if`, for "unclosed" errors
  };

  static void advance_position(std::string_view text, std::size_t& line, std::size_t& column) {
    for (const char c : text) {
      if (c == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
  }

  std::vector<Piece> split(std::string_view text) const {
    std::vector<Piece> pieces;
    std::size_t line = 1, column = 1, pos = 0;
    while (pos < text.size()) {
      std::size_t open = pos;
      while ((open = text.find('{', open)) != std::string_view::npos && open + 1 < text.size() &&
             std::string_view("{%#").find(text[open + 1]) == std::string_view::npos)
        ++open;
      if (open == std::string_view::npos || open + 1 >= text.size()) open = text.size();
      if (open > pos) {
        pieces.push_back({.type = PieceType::text,
                          .text = std::string(text.substr(pos, open - pos)),
                          .line = line,
                          .column = column});
        advance_position(text.substr(pos, open - pos), line, column);
      }
      if (open == text.size()) break;
      const char kind = text[open + 1];
      const std::string_view close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
      const std::size_t tag_line = line, tag_column = column;
      std::size_t content = open + 2;
      Piece piece{.type = kind == '{'   ? PieceType::output
                          : kind == '%' ? PieceType::statement
                                        : PieceType::comment,
                  .text = {},
                  .line = tag_line,
                  .column = tag_column + 2};
      if (content < text.size() && text[content] == '-') {
        piece.strip_before = true;
        ++content;
        ++piece.column;
      }
      const std::size_t end = find_close(text, content, close, kind == '#');
      if (end == std::string_view::npos)
        throw TemplateError(where_, tag_line, tag_column,
                            "'" + std::string(text.substr(open, 2)) + "' is never closed with '" +
                                std::string(close) + "'");
      std::size_t content_end = end;
      if (content_end > content && text[content_end - 1] == '-') {
        piece.strip_after = true;
        --content_end;
      }
      piece.text = std::string(text.substr(content, content_end - content));
      pieces.push_back(std::move(piece));
      advance_position(text.substr(open, end + 2 - open), line, column);
      pos = end + 2;
    }
    return pieces;
  }

  // The closing delimiter, skipping quoted strings inside expressions.
  static std::size_t find_close(std::string_view text, std::size_t from, std::string_view close,
                                bool comment) {
    for (std::size_t i = from; i + 1 < text.size(); ++i) {
      if (!comment && (text[i] == '\'' || text[i] == '"')) {
        const std::size_t end = text.find(text[i], i + 1);
        if (end == std::string_view::npos) return end;
        i = end;
        continue;
      }
      if (text.substr(i, 2) == close) return i;
    }
    return std::string_view::npos;
  }

  // `{%-` removes all whitespace before the tag, `-%}` all whitespace after it.
  static void apply_whitespace_control(std::vector<Piece>& pieces) {
    auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      if (pieces[i].type == PieceType::text) continue;
      if (pieces[i].strip_before && i > 0 && pieces[i - 1].type == PieceType::text) {
        std::string& before = pieces[i - 1].text;
        while (!before.empty() && is_space(before.back())) before.pop_back();
      }
      if (pieces[i].strip_after && i + 1 < pieces.size() && pieces[i + 1].type == PieceType::text) {
        std::string& after = pieces[i + 1].text;
        after.erase(0, static_cast<std::size_t>(
                           std::find_if_not(after.begin(), after.end(), is_space) - after.begin()));
      }
    }
  }

  ExprValue evaluate_expression(const Piece& piece, std::string_view expression,
                                std::size_t offset) const {
    return ExpressionParser(expression, variables_, where_, piece.line, piece.column + offset)
        .parse_whole();
  }

  std::string evaluate(const std::vector<Piece>& pieces) const {
    std::string out;
    std::vector<Block> blocks;
    auto active = [&] { return blocks.empty() || blocks.back().active; };
    for (const Piece& piece : pieces) {
      switch (piece.type) {
        case PieceType::text:
          if (active()) out += piece.text;
          break;
        case PieceType::comment:
          break;
        case PieceType::output:
          // Evaluated also in branches not taken, so a typo fails on every variant.
          if (const std::string text = to_text(evaluate_expression(piece, piece.text, 0)); active())
            out += text;
          break;
        case PieceType::statement:
          statement(piece, blocks);
          break;
      }
    }
    if (!blocks.empty())
      throw TemplateError(where_, blocks.back().line, blocks.back().column,
                          "this 'if' has no 'endif'");
    return out;
  }

  void statement(const Piece& piece, std::vector<Block>& blocks) const {
    const std::string_view content = piece.text;
    const std::size_t first = content.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos)
      throw TemplateError(where_, piece.line, piece.column, "empty '{% %}' tag");
    std::size_t word_end = first;
    while (word_end < content.size() &&
           (std::isalnum(static_cast<unsigned char>(content[word_end])) || content[word_end] == '_'))
      ++word_end;
    const std::string_view keyword = content.substr(first, word_end - first);
    const std::string_view rest = content.substr(word_end);
    auto no_argument = [&] {
      if (rest.find_first_not_of(" \t\r\n") != std::string_view::npos)
        throw TemplateError(where_, piece.line, piece.column + word_end,
                            "'" + std::string(keyword) + "' takes no expression");
    };
    auto need_open_block = [&] {
      if (blocks.empty())
        throw TemplateError(where_, piece.line, piece.column + first,
                            "'" + std::string(keyword) + "' without an 'if'");
    };
    if (keyword == "if") {
      const bool parent = blocks.empty() || blocks.back().active;
      const bool condition = truthy(evaluate_expression(piece, rest, word_end));
      blocks.push_back({.taken = condition,
                        .active = parent && condition,
                        .parent_active = parent,
                        .line = piece.line,
                        .column = piece.column + first});
    } else if (keyword == "elif") {
      need_open_block();
      Block& block = blocks.back();
      if (block.seen_else)
        throw TemplateError(where_, piece.line, piece.column + first, "'elif' after 'else'");
      const bool condition = truthy(evaluate_expression(piece, rest, word_end));
      block.active = block.parent_active && !block.taken && condition;
      block.taken = block.taken || condition;
    } else if (keyword == "else") {
      need_open_block();
      no_argument();
      Block& block = blocks.back();
      if (block.seen_else)
        throw TemplateError(where_, piece.line, piece.column + first, "a second 'else'");
      block.seen_else = true;
      block.active = block.parent_active && !block.taken;
      block.taken = true;
    } else if (keyword == "endif") {
      need_open_block();
      no_argument();
      blocks.pop_back();
    } else {
      throw TemplateError(where_, piece.line, piece.column + first,
                          "unsupported tag '" + std::string(keyword) +
                              "' (supported: if, elif, else, endif)");
    }
  }

  const Variables& variables_;
  std::string where_;
};

// ---- template files ------------------------------------------------------------------------

Value read_json(const fs::path& path) {
  try {
    return json::parse(read_file(path));
  } catch (const json::ParseError& e) {
    throw std::runtime_error(path.string() + ":" + std::to_string(e.line()) + ":" +
                             std::to_string(e.column()) + ": " + e.reason());
  }
}

// One variable of cookiecutter.json with its entry in sluice-template.json.
struct TemplateVariable {
  std::string name;
  std::string raw_default;           // a string variable's default, before rendering
  std::vector<std::string> choices;  // a choice variable's items, the default first
  std::string description;
  std::vector<std::string> rules;
};

struct ProjectTemplate {
  fs::path root;         // the template directory (holds cookiecutter.json)
  fs::path project_dir;  // root/{{cookiecutter.…}}: the project to render
  std::string description;  // what it makes, shown before asking questions
  std::vector<TemplateVariable> variables;  // in cookiecutter.json order
};

std::string string_or_throw(const Value& value, const std::string& what) {
  if (!value.is_string()) throw std::runtime_error(what + " must be a string");
  return value.as_string();
}

ProjectTemplate load_template(const fs::path& root) {
  ProjectTemplate tmpl{root, {}, {}, {}};
  const fs::path manifest = root / "cookiecutter.json";
  const Value variables = read_json(manifest);
  if (!variables.is_object()) throw std::runtime_error(manifest.string() + " is not a JSON object");
  const fs::path metadata_path = root / "sluice-template.json";
  const Value metadata = read_json(metadata_path);
  const Value* described = metadata.get("variables");
  if (!described || !described->is_object())
    throw std::runtime_error(metadata_path.string() + " has no \"variables\" object");
  if (const Value* description = metadata.get("description"))
    tmpl.description = description->to_display_string();

  for (const auto& [name, value] : variables.as_object()) {
    // cookiecutter's private variables (_copy_without_render, _extensions) change how it
    // renders; a template for both renderers must not depend on them.
    if (name.starts_with('_'))
      throw std::runtime_error(manifest.string() + ": private variable '" + name +
                               "' is not supported by sluice new");
    TemplateVariable variable{name, {}, {}, {}, {}};
    const std::string what = manifest.string() + ": '" + name + "'";
    if (value.is_array()) {
      for (const Value& choice : value.as_array())
        variable.choices.push_back(string_or_throw(choice, what + " choices"));
      if (variable.choices.empty()) throw std::runtime_error(what + " has no choices");
    } else {
      variable.raw_default = string_or_throw(value, what + " (a string or a list of choices)");
    }
    if (const Value* entry = described->get(name)) {
      if (const Value* d = entry->get("description")) variable.description = d->to_display_string();
      if (const Value* rules = entry->get("rules"))
        for (const Value& rule : rules->is_array() ? rules->as_array() : Array{*rules})
          variable.rules.push_back(string_or_throw(rule, metadata_path.string() + ": rules of '" + name + "'"));
    }
    tmpl.variables.push_back(std::move(variable));
  }
  for (const auto& [name, entry] : described->as_object()) {
    const bool known = std::any_of(tmpl.variables.begin(), tmpl.variables.end(),
                                   [&](const TemplateVariable& v) { return v.name == name; });
    if (!known)
      throw std::runtime_error(metadata_path.string() + " describes '" + name +
                               "', which cookiecutter.json does not have");
  }

  // As cookiecutter: the project is the directory whose name is a {{cookiecutter.…}} expression.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.find("cookiecutter") != std::string::npos &&
        name.find("{{") != std::string::npos && name.find("}}") != std::string::npos)
      tmpl.project_dir = entry.path();
  }
  if (ec) throw std::runtime_error("cannot list " + root.string() + ": " + ec.message());
  if (tmpl.project_dir.empty())
    throw std::runtime_error(root.string() + " has no '{{cookiecutter.…}}' project directory");
  return tmpl;
}

struct RenderedFile {
  fs::path relative_path;
  std::string content;
  fs::perms permissions;
};

// Renders the project in memory: nothing is written before every file rendered.
std::vector<RenderedFile> render_project(const ProjectTemplate& tmpl, const Variables& variables,
                                         fs::path& project_name) {
  auto render_name = [&](const fs::path& name, const fs::path& where) {
    return TemplateRenderer(variables, where.string()).render(name.string());
  };
  project_name = render_name(tmpl.project_dir.filename(), tmpl.project_dir);
  std::vector<fs::path> sources;
  for (const auto& entry : fs::recursive_directory_iterator(tmpl.project_dir))
    if (entry.is_regular_file()) sources.push_back(entry.path());
  std::sort(sources.begin(), sources.end());

  std::vector<RenderedFile> files;
  for (const fs::path& source : sources) {
    fs::path relative;
    for (const auto& part : fs::relative(source, tmpl.project_dir))
      relative /= render_name(part, source);
    std::string content = read_file(source);
    // Like cookiecutter, binary files (here: any with a NUL byte) are copied as they are.
    if (content.find('\0') == std::string::npos)
      content = TemplateRenderer(variables, source.string()).render(content);
    files.push_back({std::move(relative), std::move(content), fs::status(source).permissions()});
  }
  return files;
}

// ---- validation ----------------------------------------------------------------------------

constexpr std::array cpp_keywords = {
    "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break",
    "case", "catch", "char", "char8_t", "char16_t", "char32_t", "class", "compl", "concept",
    "const", "consteval", "constexpr", "constinit", "const_cast", "continue", "co_await",
    "co_return", "co_yield", "decltype", "default", "delete", "do", "double", "dynamic_cast",
    "else", "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto",
    "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
    "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register",
    "reinterpret_cast", "requires", "return", "short", "signed", "sizeof", "static",
    "static_assert", "static_cast", "struct", "switch", "template", "this", "thread_local",
    "throw", "true", "try", "typedef", "typeid", "typename", "union", "unsigned", "using",
    "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq"};

// Common checks of a C++ identifier; "" when fine.
std::string identifier_problem(std::string_view value) {
  if (std::find(cpp_keywords.begin(), cpp_keywords.end(), value) != cpp_keywords.end())
    return "'" + std::string(value) + "' is a C++ keyword";
  if (value.find("__") != std::string_view::npos)
    return "'__' is reserved in C++ identifiers";
  if (value.size() > 64) return "at most 64 characters";
  return "";
}

std::string lowercase_identifier_problem(std::string_view value) {
  if (value.empty()) return "must not be empty";
  if (!std::islower(static_cast<unsigned char>(value[0])))
    return "must start with a lowercase letter (a-z), e.g. word_count";
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (!std::islower(static_cast<unsigned char>(c)) && !std::isdigit(static_cast<unsigned char>(c)) && c != '_')
      return "'" + std::string(1, c) + "' at position " + std::to_string(i + 1) +
             " is not allowed: use lowercase letters, digits and '_' (a C identifier, e.g. word_count)";
  }
  // The name is also the component's C++ namespace.
  static const std::set<std::string, std::less<>> taken_namespaces = {"std", "sluice", "boost", "doctest"};
  if (taken_namespaces.contains(value))
    return "'" + std::string(value) + "' is a namespace of the SDK or its libraries";
  return identifier_problem(value);
}

std::string cpp_class_name_problem(std::string_view value) {
  if (value.empty() || !std::isupper(static_cast<unsigned char>(value[0])))
    return "must start with an uppercase letter (A-Z), e.g. WordCount";
  for (std::size_t i = 0; i < value.size(); ++i)
    if (!std::isalnum(static_cast<unsigned char>(value[i])) && value[i] != '_')
      return "'" + std::string(1, value[i]) + "' at position " + std::to_string(i + 1) +
             " is not allowed in a C++ class name";
  return identifier_problem(value);
}

std::string one_line_text_problem(std::string_view value) {
  if (value.empty()) return "must not be empty";
  if (value.size() > 200) return "at most 200 characters";
  for (const char c : value)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "must be one line of text";
  // It lands in C++ string literals.
  if (value.find_first_of("\"\\") != std::string_view::npos) return "must not contain '\"' or '\\'";
  return "";
}

std::string version_problem(std::string_view value) {
  int parts = 0;
  std::size_t digits = 0;
  for (const char c : value) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      ++digits;
    } else if (c == '.' && digits > 0 && parts < 2) {
      ++parts;
      digits = 0;
    } else {
      return "must be MAJOR.MINOR.PATCH, e.g. 0.1.0";
    }
  }
  if (parts != 2 || digits == 0) return "must be MAJOR.MINOR.PATCH, e.g. 0.1.0";
  return "";
}

// "not a taken component name": asks the plugin registry over the same search path as
// `sluice plugins`; built on first use, since scanning loads every plugin once.
class TakenNames {
 public:
  explicit TakenNames(std::vector<std::string> dirs) : dirs_(std::move(dirs)) {}

  std::string problem(const std::string& name) {
    if (!registry_ && !unavailable_) {
      try {
        registry_ = std::make_unique<PluginRegistry>(plugin_search_path(dirs_));
      } catch (const std::exception& e) {
        std::cerr << "sluice new: warning: cannot scan the plugin path, so '" << name
                  << "' is not checked against the components there: " << e.what() << '\n';
        unavailable_ = true;
      }
    }
    if (!registry_ || !registry_->find(name)) return "";
    for (const auto& package : registry_->packages())
      if (std::find(package.components.begin(), package.components.end(), name) != package.components.end())
        return "'" + name + "' is taken: plugin package '" + package.name + "' (" +
               package.path.string() + ") has a component of that name, and graphs name components";
    return "'" + name + "' is taken by a component on the plugin path";
  }

 private:
  std::vector<std::string> dirs_;
  std::unique_ptr<PluginRegistry> registry_;
  bool unavailable_ = false;
};

// The reason `value` breaks `rule`, or "".
std::string rule_problem(const std::string& rule, const std::string& value, TakenNames& taken) {
  if (rule == "lowercase_identifier") return lowercase_identifier_problem(value);
  if (rule == "cpp_class_name") return cpp_class_name_problem(value);
  if (rule == "one_line_text") return one_line_text_problem(value);
  if (rule == "version") return version_problem(value);
  if (rule == "component_name_free") return taken.problem(value);
  throw std::runtime_error("sluice-template.json: unknown rule '" + rule +
                           "' (known: lowercase_identifier, component_name_free, cpp_class_name, "
                           "one_line_text, version)");
}

// Every problem of one value; "" when it is fine.
std::string value_problem(const TemplateVariable& variable, const std::string& value,
                          TakenNames& taken) {
  if (!variable.choices.empty()) {
    if (std::find(variable.choices.begin(), variable.choices.end(), value) != variable.choices.end())
      return "";
    std::string list;
    for (const auto& choice : variable.choices) list += (list.empty() ? "" : ", ") + choice;
    return "'" + value + "' is not one of: " + list;
  }
  // cookiecutter renders every value as a template; a value must mean the same to both.
  for (const char* tag : {"{{", "{%", "{#"})
    if (value.find(tag) != std::string::npos) return "must not contain '" + std::string(tag) + "'";
  for (const auto& rule : variable.rules)
    if (std::string problem = rule_problem(rule, value, taken); !problem.empty()) return problem;
  return "";
}

// ---- asking --------------------------------------------------------------------------------

// Reads one answer; nullopt at the end of input.
std::optional<std::string> ask(const std::string& prompt) {
  std::cout << prompt << std::flush;
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  return line;
}

// Prompts like cookiecutter does, until the answer is valid.
std::string prompt_for(const TemplateVariable& variable, const std::string& default_value,
                       TakenNames& taken) {
  if (!variable.description.empty()) std::cout << "# " << variable.description << '\n';
  for (;;) {
    std::optional<std::string> answer;
    std::string value;
    if (variable.choices.empty()) {
      answer = ask(variable.name + " [" + default_value + "]: ");
      if (!answer) throw std::runtime_error("input ended before '" + variable.name + "' was given");
      value = answer->empty() ? default_value : *answer;
    } else {
      std::string numbers;
      std::cout << "Select " << variable.name << ":\n";
      for (std::size_t i = 0; i < variable.choices.size(); ++i) {
        std::cout << i + 1 << " - " << variable.choices[i] << '\n';
        numbers += (i ? ", " : "") + std::to_string(i + 1);
      }
      answer = ask("Choose from " + numbers + " [1]: ");
      if (!answer) throw std::runtime_error("input ended before '" + variable.name + "' was chosen");
      value = answer->empty() ? variable.choices.front() : *answer;
      // A number picks by position; the choice itself is accepted too.
      if (!value.empty() && value.size() <= 3 &&
          std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        const std::size_t index = std::stoul(value);
        if (index >= 1 && index <= variable.choices.size()) value = variable.choices[index - 1];
      }
    }
    const std::string problem = value_problem(variable, value, taken);
    if (problem.empty()) return value;
    std::cout << "  " << variable.name << ": " << problem << '\n';
  }
}

// ---- the command ---------------------------------------------------------------------------

struct NewOptions {
  std::string name;
  std::string kind;
  std::string dir = ".";
  std::vector<std::string> sets;
  std::vector<std::string> plugin_dirs;
  std::string templates;
};

// A meson build tree that holds `path`, found by its meson-info/meson-info.json.
std::optional<fs::path> enclosing_build_dir(fs::path path) {
  std::error_code ec;
  for (; !path.empty() && path != path.root_path(); path = path.parent_path())
    if (fs::exists(path / "meson-info" / "meson-info.json", ec)) return path;
  return std::nullopt;
}

fs::path own_executable() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe;
}

// The directory holding the templates: --templates, $SLUICE_TEMPLATE_DIR, the installed
// <prefix>/share/sluice/templates beside <prefix>/bin/sluice, or, for a sluice in a build
// tree, the source tree's templates/.
fs::path find_templates(const NewOptions& options) {
  if (!options.templates.empty()) return options.templates;
  if (const char* env = std::getenv("SLUICE_TEMPLATE_DIR"); env && *env) return env;
  std::vector<fs::path> tried;
  const fs::path exe = own_executable();
  std::error_code ec;
  if (!exe.empty()) {
    tried.push_back(exe.parent_path().parent_path() / "share" / "sluice" / "templates");
    if (auto build = enclosing_build_dir(exe.parent_path())) {
      const Value info = read_json(*build / "meson-info" / "meson-info.json");
      if (const Value* source = info.find_path("directories.source"); source && source->is_string())
        tried.push_back(fs::path(source->as_string()) / "templates");
    }
  }
  for (const auto& candidate : tried)
    if (fs::is_directory(candidate, ec)) return candidate;
  std::string list;
  for (const auto& candidate : tried) list += "\n  " + candidate.string();
  throw std::runtime_error("no templates directory found; looked in:" + list +
                           "\npass --templates DIR or set SLUICE_TEMPLATE_DIR");
}

// Resolves every variable: NAME, --kind and --set first, then (on a terminal) the user's
// answers, else the defaults. Collects every problem before giving up.
std::optional<Variables> resolve_variables(const ProjectTemplate& tmpl, const NewOptions& options,
                                           TakenNames& taken, bool interactive) {
  std::map<std::string, std::string> given;
  std::vector<std::string> problems;
  std::vector<std::string> names;
  for (const auto& variable : tmpl.variables) names.push_back(variable.name);
  for (const auto& assignment : options.sets) {
    const auto equals = assignment.find('=');
    if (equals == std::string::npos || equals == 0) {
      problems.push_back("--set '" + assignment + "': expected VAR=VALUE");
      continue;
    }
    const std::string var = assignment.substr(0, equals);
    if (std::find(names.begin(), names.end(), var) == names.end()) {
      std::string message = "--set " + var + ": the template has no variable '" + var + "'";
      if (const std::string hint = closest_match(var, names); !hint.empty())
        message += " (did you mean '" + hint + "'?)";
      std::string list;
      for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
      problems.push_back(message + "; its variables: " + list);
      continue;
    }
    given[var] = assignment.substr(equals + 1);
  }
  auto give = [&](const std::string& var, const std::string& value, const char* option) {
    if (value.empty()) return;
    if (given.contains(var) && given[var] != value)
      problems.push_back(std::string(option) + " and --set " + var + "= disagree");
    given[var] = value;
  };
  give("name", options.name, "NAME");
  give("kind", options.kind, "--kind");
  if (!interactive && !given.contains("name"))
    problems.push_back("NAME is missing: sluice new component NAME (e.g. word_count)");
  if (interactive && !tmpl.description.empty())
    std::cout << tmpl.description << "\nPress Enter to take the default in [brackets].\n\n";

  Variables values;
  for (const auto& variable : tmpl.variables) {
    const auto fixed = given.find(variable.name);
    std::string value;
    if (fixed != given.end()) {
      value = fixed->second;
    } else {
      const std::string fallback =
          variable.choices.empty()
              ? TemplateRenderer(values, (tmpl.root / "cookiecutter.json").string() + " '" +
                                             variable.name + "'")
                    .render(variable.raw_default)
              : variable.choices.front();
      if (interactive) {
        values[variable.name] = prompt_for(variable, fallback, taken);
        continue;
      }
      value = fallback;
    }
    if (const std::string problem = value_problem(variable, value, taken); !problem.empty())
      problems.push_back(variable.name + ": " + problem);
    values[variable.name] = value;
  }
  if (problems.empty()) return values;
  for (const auto& problem : problems) std::cerr << "sluice new: " << problem << '\n';
  std::cerr << "sluice new: nothing was written\n";
  return std::nullopt;
}

// Writes the files into a hidden sibling, then renames it into place: a failure leaves no
// half-written project, and the rename itself refuses to replace anything that appeared.
void write_project(const fs::path& target, const std::vector<RenderedFile>& files) {
  const fs::path staging =
      target.parent_path() / ("." + target.filename().string() + ".new-" + std::to_string(::getpid()));
  try {
    fs::create_directories(staging);
    for (const auto& file : files) {
      const fs::path path = staging / file.relative_path;
      fs::create_directories(path.parent_path());
      std::ofstream out(path, std::ios::binary);
      out << file.content;
      out.close();
      if (!out) throw std::runtime_error("cannot write " + path.string());
      fs::permissions(path, file.permissions);
    }
    if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) != 0)
      throw std::system_error(errno, std::generic_category(), "cannot create " + target.string());
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    throw;
  }
}

// Shell-quotes a path when it needs it.
std::string shell_word(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789_-./=:+@%") == std::string::npos)
    return text;
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

void print_next_steps(const fs::path& target, const Variables& values, std::size_t file_count) {
  const std::string& name = values.at("name");
  std::cout << "created " << target.string() << "/: " << values.at("kind") << " '" << name
            << "' (" << file_count << " files)\n\nnext:\n";
  // A sluice run from its build tree has an SDK there that pkg-config does not know about.
  std::string pkg_config_path;
  const fs::path exe = own_executable();
  if (auto build = exe.empty() ? std::nullopt : enclosing_build_dir(exe.parent_path())) {
    std::error_code ec;
    if (fs::exists(*build / "meson-uninstalled" / "sluice-sdk-uninstalled.pc", ec))
      pkg_config_path = "PKG_CONFIG_PATH=" + shell_word((*build / "meson-uninstalled").string()) + " ";
  }
  // How the sample graph runs depends on the kind (over a file, a raw body, in a server): the
  // project's README says it, so the generator does not repeat the template's knowledge.
  std::cout << "  cd " << shell_word(target.string()) << '\n'
            << "  " << pkg_config_path << "meson setup build\n"
            << "  meson test -C build            # builds build/lib" << name
            << ".so and runs its tests\n"
            << "  then README.md, \"Run it\": the sample graph over the sample data\n"
            << "  cp build/lib" << name
            << ".so PLUGINS_DIR/    # a running `sluice serve --plugins PLUGINS_DIR` picks it up\n";
}

void run_new_component(const NewOptions& options) {
  try {
    const ProjectTemplate tmpl = load_template(find_templates(options) / "component");
    TakenNames taken(options.plugin_dirs);
    const bool interactive = ::isatty(STDIN_FILENO) != 0;
    const auto values = resolve_variables(tmpl, options, taken, interactive);
    if (!values) {
      set_exit_code(1);
      return;
    }
    fs::path project_name;
    const std::vector<RenderedFile> files = render_project(tmpl, *values, project_name);
    const fs::path target = (fs::path(options.dir) / project_name).lexically_normal();
    std::error_code ec;
    if (fs::exists(fs::symlink_status(target, ec))) {
      std::cerr << "sluice new: " << target.string()
                << " already exists; nothing was written (choose another name or --dir)\n";
      set_exit_code(1);
      return;
    }
    write_project(target, files);
    print_next_steps(target, *values, files.size());
    set_exit_code(0);
  } catch (const std::exception& e) {
    std::cerr << "sluice new: " << e.what() << '\n';
    set_exit_code(1);
  }
}

}  // namespace

void add_new_command(CLI::App& app) {
  auto options = std::make_shared<NewOptions>();
  CLI::App* command = app.add_subcommand("new", "generate a project from a template");
  command->require_subcommand(1);
  CLI::App* component = command->add_subcommand(
      "component", "write a buildable, tested component project (templates/component)");
  component->add_option("name", options->name,
                        "component name: lowercase letters, digits and '_', e.g. word_count "
                        "(asked for on a terminal when left out)");
  component->add_option("--kind", options->kind,
                        "the example to start from, one of the template's kinds: transformer "
                        "(default), filter, adapter, extractor, publisher, operator, source");
  component->add_option("--dir", options->dir, "where to create the project directory")
      ->capture_default_str();
  component->add_option("--set", options->sets, "set a template variable (repeatable): VAR=VALUE")
      ->allow_extra_args(false);
  component->add_option("--templates", options->templates,
                        "templates directory (default: $SLUICE_TEMPLATE_DIR, the installed one, "
                        "or the source tree's)");
  add_plugin_dirs_option(*component, options->plugin_dirs);
  component->callback([options] { run_new_component(*options); });
}

}  // namespace sluice::cli
