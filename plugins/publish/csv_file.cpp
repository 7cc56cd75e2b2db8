#include "csv_file.hpp"

#include <stdexcept>

namespace sluice::publish {

namespace {

// RFC 4180: a value holding the delimiter, a quote or a line break is quoted, quotes doubled.
void append_csv_value(std::string_view text, char delimiter, std::string& out) {
  if (text.find_first_of(std::string{delimiter, '"', '\n', '\r'}) == std::string_view::npos) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

// RFC 4180 ends every row, the last one too, with CRLF; `line_ending: lf` is for Unix tools.
std::string csv_line_end(const Params& params) {
  return params.get_string("line_ending") == "lf" ? "\n" : "\r\n";
}

// Also validates the params the header depends on, before the file is opened.
std::string csv_header(const Params& params) {
  if (params.get_string_list("columns").empty())
    throw std::invalid_argument("param 'columns' is empty");
  const char delimiter = params.get_char("delimiter");
  if (!params.get_bool("header")) return {};
  std::string line;
  bool first = true;
  for (const auto& column : params.get_string_list("columns")) {
    if (!first) line += delimiter;
    first = false;
    append_csv_value(column, delimiter, line);
  }
  return line + csv_line_end(params);
}

}  // namespace

ComponentDescriptor CsvFile::descriptor() {
  return {.name = "csv_file",
          .version = "1.0.0",
          .summary = "Appends chosen fields of each packet as one CSV row (RFC 4180)",
          .kind = ComponentKind::publisher,
          .params = with_file_params(
              {{.name = "columns",
                .type = ParamType::string_list,
                .description = "field paths, one per column (e.g. [id, user.name]); a missing "
                               "field is an empty value, non-strings are written as JSON",
                .required = true},
               {.name = "delimiter",
                .type = ParamType::string,
                .description = "one character between values",
                .default_value = ","},
               {.name = "header",
                .type = ParamType::boolean,
                .description = "write the column names as the first row of every new file",
                .default_value = true},
               {.name = "line_ending",
                .type = ParamType::string,
                .description = "what ends each row: crlf (RFC 4180) or lf",
                .default_value = "crlf",
                .allowed = {"crlf", "lf"}}}),
          .capabilities = {"fs_write"},
          .example = {.description = "Writes the id, name and e-mail address of each user as a CSV row",
                      .params = R"(path: exports/users.csv
columns: [id, name, contact.email])"}};
}

CsvFile::CsvFile(const Params& params)
    : LineFileSink(params, csv_header(params)),
      columns_(field_paths(params.get_string_list("columns"))),
      delimiter_(params.get_string("delimiter")[0]),
      line_end_(csv_line_end(params)) {}

void CsvFile::append_line(const Packet& packet, std::string& out) const {
  bool first = true;
  for (const auto& column : columns_) {
    if (!first) out += delimiter_;
    first = false;
    const Value* value = packet.find_path(column);
    if (!value || value->is_null()) continue;
    append_csv_value(value->to_display_string(), delimiter_, out);
  }
  out += line_end_;
}

}  // namespace sluice::publish
