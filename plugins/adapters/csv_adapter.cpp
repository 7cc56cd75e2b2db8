#include "csv_adapter.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>
#include <utility>

namespace sluice::adapters {

ComponentDescriptor CsvAdapter::descriptor() {
  return adapter_descriptor(
      "csv_adapter", "Parses CSV (RFC 4180): one packet per row",
      {"text/csv", "text/tab-separated-values", "application/csv"},
      {{.name = "delimiter",
        .type = ParamType::string,
        .description = "one character between values (\"\\t\" for TSV)",
        .default_value = ","},
       {.name = "quote",
        .type = ParamType::string,
        .description = "one character that quotes values holding delimiters, quotes (doubled) "
                       "or line breaks",
        .default_value = "\""},
       {.name = "header",
        .type = ParamType::boolean,
        .description = "the first row names the fields (a repeated name gets _2, _3 …); "
                       "false: fields are column1..columnN",
        .default_value = true},
       {.name = "infer_types",
        .type = ParamType::boolean,
        .description = "unquoted values that read as integers, numbers, true or false become "
                       "those (not ones with a leading zero, such as 007); empty unquoted values "
                       "become null; false: every value is a string",
        .default_value = false}},
      ComponentExample{.description = "Reads a CSV file with a header row, numbers as numbers",
                       .params = "infer_types: true",
                       .input = R"(name,born,active
Ada,1815,true
"Turing, Alan",1912,false
)",
                       .content_type = "text/csv",
                       .output = R"({"name": "Ada", "born": 1815, "active": true}
{"name": "Turing, Alan", "born": 1912, "active": false})"});
}

CsvAdapter::CsvAdapter(const Params& params)
    : Adapter(params),
      delimiter_(params.get_char("delimiter")),
      quote_(params.get_char("quote")),
      header_(params.get_bool("header")),
      infer_types_(params.get_bool("infer_types")) {
  if (delimiter_ == quote_) throw std::invalid_argument("params 'delimiter' and 'quote' are the same");
}

namespace {

struct CsvCell {
  std::string text;
  bool quoted = false;
};

Value typed_cell(CsvCell&& cell, bool infer) {
  if (!infer || cell.quoted) return std::move(cell.text);
  const std::string& s = cell.text;
  if (s.empty()) return nullptr;
  if (s == "true") return true;
  if (s == "false") return false;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (*begin == '+') ++begin;
  // A leading zero makes an identifier (ZIP code 007, a phone number), not a number: 0 and
  // 0.5 are numbers, 007 and -01 stay text.
  const char* digits = *begin == '-' ? begin + 1 : begin;
  if (end - digits > 1 && digits[0] == '0' && std::isdigit(static_cast<unsigned char>(digits[1])))
    return std::move(cell.text);
  std::int64_t i = 0;
  if (auto [p, ec] = std::from_chars(begin, end, i); ec == std::errc() && p == end) return i;
  double d = 0;
  if (auto [p, ec] = std::from_chars(begin, end, d); ec == std::errc() && p == end) return d;
  return std::move(cell.text);
}

// Splits a CSV text into rows of cells (RFC 4180). Read once: CsvReader(...).read_rows().
class CsvReader {
 public:
  CsvReader(std::string_view text, char delimiter, char quote)
      : text_(text), delimiter_(delimiter), quote_(quote) {}

  std::vector<std::vector<CsvCell>> read_rows() && {
    if (text_.starts_with("\xEF\xBB\xBF")) i_ = 3;  // a UTF-8 byte order mark is not data
    while (i_ < text_.size()) {
      const char c = text_[i_];
      if (c == quote_ && cell_.text.empty() && !cell_.quoted) {
        read_quoted_value();
      } else if (c == delimiter_) {
        end_cell();
        ++i_;
      } else if (c == '\n' || c == '\r') {
        end_row();
        if (c == '\r' && i_ + 1 < text_.size() && text_[i_ + 1] == '\n') ++i_;
        ++i_;
        ++line_;
      } else {
        cell_.text += c;
        row_has_content_ = true;
        ++i_;
      }
    }
    if (row_has_content_ || !row_.empty()) end_row();
    return std::move(rows_);
  }

 private:
  // From the opening quote at `i_` to past the closing one; a doubled quote stands for one.
  void read_quoted_value() {
    const std::size_t open_line = line_;
    cell_.quoted = true;
    row_has_content_ = true;
    ++i_;
    for (;;) {
      if (i_ >= text_.size())
        throw std::runtime_error("CSV line " + std::to_string(open_line) + ": unterminated quoted value");
      if (text_[i_] == quote_) {
        if (i_ + 1 < text_.size() && text_[i_ + 1] == quote_) {
          cell_.text += quote_;
          i_ += 2;
          continue;
        }
        ++i_;
        break;
      }
      if (text_[i_] == '\n') ++line_;
      cell_.text += text_[i_++];
    }
    if (i_ < text_.size() && text_[i_] != delimiter_ && text_[i_] != '\n' && text_[i_] != '\r')
      throw std::runtime_error("CSV line " + std::to_string(line_) + ": text after a closing quote");
  }

  void end_cell() {
    row_.push_back(std::move(cell_));
    cell_ = CsvCell();
  }

  void end_row() {
    end_cell();
    if (row_has_content_ || row_.size() > 1) rows_.push_back(std::move(row_));
    row_.clear();
    row_has_content_ = false;
  }

  std::string_view text_;
  char delimiter_;
  char quote_;
  std::size_t i_ = 0;
  std::size_t line_ = 1;
  std::vector<std::vector<CsvCell>> rows_;
  std::vector<CsvCell> row_;
  CsvCell cell_;
  bool row_has_content_ = false;  // a row that is one empty, unquoted cell is a blank line
};

// The name of an unnamed column, counting from 1.
std::string column_name(std::size_t number) { return "column" + std::to_string(number); }

// The field names a header row gives; its cells' texts are moved out.
std::vector<std::string> header_names(std::vector<CsvCell>& header) {
  std::vector<std::string> names;
  for (auto& header_cell : header) {
    std::string name = header_cell.text.empty() ? column_name(names.size() + 1) : std::move(header_cell.text);
    // A repeated name would overwrite the earlier column: the second `name` is `name_2`.
    const std::string given = name;
    for (int k = 2; std::find(names.begin(), names.end(), name) != names.end(); ++k)
      name = given + "_" + std::to_string(k);
    names.push_back(std::move(name));
  }
  return names;
}

// A row's packet: cells beyond the named columns are named by their position.
Packet row_packet(std::vector<CsvCell>&& row, const std::vector<std::string>& names, bool infer_types) {
  Packet child;
  for (std::size_t c = 0; c < row.size(); ++c) {
    const std::string name = c < names.size() ? names[c] : column_name(c + 1);
    child.set(name, typed_cell(std::move(row[c]), infer_types));
  }
  return child;
}

}  // namespace

std::vector<Packet> CsvAdapter::convert(std::string_view text) {
  std::vector<std::vector<CsvCell>> rows = CsvReader(text, delimiter_, quote_).read_rows();
  std::vector<std::string> names;
  std::size_t first = 0;
  if (header_ && !rows.empty()) {
    names = header_names(rows.front());
    first = 1;
  }
  std::vector<Packet> children;
  children.reserve(rows.size() - first);
  for (std::size_t r = first; r < rows.size(); ++r)
    children.push_back(row_packet(std::move(rows[r]), names, infer_types_));
  return children;
}

}  // namespace sluice::adapters
