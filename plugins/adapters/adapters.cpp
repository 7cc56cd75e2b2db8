#include "adapters.hpp"

#include <gumbo.h>
#include <pugixml.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <unordered_set>
#include <vector>

#include <sluice/json.hpp>

#include "xml_parse.hpp"

namespace sluice::adapters {

namespace {

char one_char_param(const Params& params, std::string_view name) {
  const std::string value = params.get_string(name);
  if (value.size() != 1)
    throw std::invalid_argument("param '" + std::string(name) + "' must be one character, got '" +
                                value + "'");
  return value[0];
}

Packet object_packet(Value&& value, const std::string& where) {
  if (!value.is_object())
    throw std::runtime_error(where + " is " + value.type_name() + ", not an object");
  return Packet(std::move(value.as_object()));
}

}  // namespace

// ---- json / ndjson -------------------------------------------------------------------------

ComponentDescriptor JsonAdapter::descriptor() {
  return adapter_descriptor("json_adapter",
                            "Parses a JSON object (one packet) or an array of objects (one "
                            "packet each)",
                            {"application/json", "text/json"}, {},
                            ComponentExample{.description = "Reads a posted JSON array, a packet per element",
                                             .input = R"([{"name": "Ada"}, {"name": "Alan"}])",
                                             .content_type = "application/json",
                                             .output = R"({"name": "Ada"}
{"name": "Alan"})"});
}

std::vector<Packet> JsonAdapter::convert(std::string_view text) {
  Value document = json::parse(text);
  std::vector<Packet> children;
  if (document.is_array()) {
    auto& items = document.as_array();
    for (std::size_t i = 0; i < items.size(); ++i)
      children.push_back(object_packet(std::move(items[i]), "element " + std::to_string(i)));
  } else {
    children.push_back(object_packet(std::move(document), "the document"));
  }
  return children;
}

ComponentDescriptor NdjsonAdapter::descriptor() {
  return adapter_descriptor("ndjson_adapter",
                            "Parses newline-delimited JSON (one packet per non-blank line) and "
                            "JSON text sequences (RFC 7464: one per record)",
                            {"application/x-ndjson", "application/jsonl", "application/json-seq"},
                            {},
                            ComponentExample{.description = "Reads JSON lines, a packet per line",
                                             .input = R"({"name": "Ada"}
{"name": "Alan"}
)",
                                             .content_type = "application/x-ndjson",
                                             .output = R"({"name": "Ada"}
{"name": "Alan"})"});
}

std::vector<Packet> NdjsonAdapter::convert(std::string_view text) {
  std::vector<Packet> children;
  // RFC 7464 (application/json-seq): every record begins with RS (0x1E) and holds one JSON
  // text, which may span lines. NDJSON never holds an RS, so the first byte tells them apart.
  constexpr char record_separator = '\x1e';
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == record_separator) {
    for (std::size_t start = first; start != std::string_view::npos;) {
      const std::size_t end = text.find(record_separator, start + 1);
      const std::string_view record =
          text.substr(start + 1, end == std::string_view::npos ? end : end - start - 1);
      start = end;
      if (record.find_first_not_of(" \t\r\n") == std::string_view::npos) continue;  // RS RS
      children.push_back(object_packet(json::parse(record), "record " + std::to_string(children.size() + 1)));
    }
    return children;
  }
  json::for_each_ndjson(text, [&](Value&& record, std::size_t line) {
    children.push_back(object_packet(std::move(record), "line " + std::to_string(line)));
  });
  return children;
}

// ---- csv -----------------------------------------------------------------------------------

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
      delimiter_(one_char_param(params, "delimiter")),
      quote_(one_char_param(params, "quote")),
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

// ---- text ----------------------------------------------------------------------------------

ComponentDescriptor TextAdapter::descriptor() {
  return adapter_descriptor("text_adapter", "Turns plain text into one packet per line, or one "
                                            "packet for the whole text",
                            {"text/plain"},
                            {{.name = "mode",
                              .type = ParamType::string,
                              .description = "lines: one packet per line; whole: one packet",
                              .default_value = "lines",
                              .allowed = {"lines", "whole"}},
                             {.name = "into",
                              .type = ParamType::string,
                              .description = "field that receives the text",
                              .default_value = "text"},
                             {.name = "skip_empty",
                              .type = ParamType::boolean,
                              .description = "with mode lines: skip lines that are empty or "
                                             "only whitespace",
                              .default_value = true}},
                            ComponentExample{.description = "A packet per line of a text, blank lines skipped",
                                             .params = "into: line",
                                             .input = R"(first line

second line
)",
                                            .content_type = "text/plain",
                                            .output = R"({"line": "first line"}
{"line": "second line"})"});
}

TextAdapter::TextAdapter(const Params& params)
    : Adapter(params),
      lines_(params.get_string("mode") == "lines"),
      skip_empty_(params.get_bool("skip_empty")),
      into_(params.get_string("into")) {}

std::vector<Packet> TextAdapter::convert(std::string_view text) {
  std::vector<Packet> children;
  auto add = [&](std::string_view piece) {
    Packet child;
    child.set(into_, piece);
    children.push_back(std::move(child));
  };
  if (!lines_) {
    add(text);
    return children;
  }
  // A line ends at LF, CRLF, or a lone CR (classic Mac OS files, some exports).
  while (!text.empty()) {
    const std::size_t end = text.find_first_of("\r\n");
    const std::string_view piece = text.substr(0, end);
    const std::size_t ending = end == std::string_view::npos  ? 0
                               : text.substr(end, 2) == "\r\n" ? 2
                                                               : 1;
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + ending);
    if (skip_empty_ && piece.find_first_not_of(" \t\f\v") == std::string_view::npos) continue;
    add(piece);
  }
  return children;
}

// ---- xml -----------------------------------------------------------------------------------

ComponentDescriptor XmlAdapter::descriptor() {
  return adapter_descriptor(
      "xml_adapter", "Parses XML: one packet per record element, fields by XPath",
      {"application/xml", "text/xml", "application/rss+xml", "application/atom+xml",
       "application/rdf+xml"},
      {{.name = "records",
        .type = ParamType::string,
        .description = "XPath selecting the record elements (e.g. /feed/entry)",
        .default_value = "/*"},
       {.name = "fields",
        .type = ParamType::object,
        .description = "field name → XPath relative to the record (e.g. {title: title, id: "
                       "\"@id\"}), each giving the text of its match (absent if none; several "
                       "matches: an array of their texts), or the value of an expression such as "
                       "count(item) (integral numbers as integers); unset: the whole record "
                       "element as JSON (attributes as @name, repeated children as arrays, text "
                       "as #text when mixed)"},
       {.name = "namespaces",
        .type = ParamType::object,
        .description = "prefix → namespace URI for the XPaths: an element or attribute in that "
                       "namespace is matched by this prefix whatever prefix the document uses; "
                       "merged over the defaults dc (Dublin Core), content and media (RSS "
                       "modules)",
        .default_value = Object{}}},
      ComponentExample{.description = "A packet per <book> element, with its title and its id attribute",
                       .params = R"(records: /catalog/book
fields: { title: title, id: "@id" })",
                       .input = R"(<catalog><book id="b1"><title>Emma</title></book><book id="b2"><title>Persuasion</title></book></catalog>)",
                       .content_type = "application/xml",
                       .output = R"({"title": "Emma", "id": "b1"}
{"title": "Persuasion", "id": "b2"})"});
}

namespace {

pugi::xpath_query* compile_xpath(const std::string& param, const std::string& expression) {
  try {
    return new pugi::xpath_query(expression.c_str());
  } catch (const pugi::xpath_exception& e) {
    throw std::invalid_argument("param '" + param + "': bad XPath '" + expression + "' at offset " +
                                std::to_string(e.result().offset) + ": " + e.what());
  }
}

// XPath has one number type; count(), sum() of integers and the like are integers in JSON.
Value xpath_number(double number) {
  if (std::trunc(number) == number && std::abs(number) < 9007199254740992.0)  // 2^53: exact
    return static_cast<std::int64_t>(number);
  return number;
}

std::string trimmed(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

// True when no element is nested deeper than the JSON limit: the walks below recurse once per
// level (pugixml's own parser and destructor do not), and their output is JSON.
bool within_json_depth(pugi::xml_document& document) {
  struct DepthCheck : pugi::xml_tree_walker {
    bool for_each(pugi::xml_node& node) override {
      return node.type() != pugi::node_element || static_cast<std::size_t>(depth()) < json::max_depth;
    }
  } check;
  return document.traverse(check);
}

// An element as JSON: text-only elements are strings; otherwise an object.
Value element_to_value(const pugi::xml_node& element) {
  Object object;
  std::string text;
  bool has_children = false;
  for (const auto& attribute : element.attributes())
    object.set(std::string("@") + attribute.name(), attribute.value());
  for (const auto& child : element.children()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      text += child.value();
    } else if (child.type() == pugi::node_element) {
      has_children = true;
      Value value = element_to_value(child);
      if (Value* existing = object.find(child.name())) {
        if (!existing->is_array()) *existing = Array{std::move(*existing)};
        existing->as_array().push_back(std::move(value));
      } else {
        object.set(child.name(), std::move(value));
      }
    }
  }
  text = has_children ? trimmed(text) : text;
  if (!has_children && object.empty()) return text;
  if (!text.empty()) object.set("#text", std::move(text));
  return object;
}

// Renames the elements and attributes under `node` whose namespace URI is in `prefix_of_uri`
// to that prefix, so that XPath (which pugixml matches by qualified name) finds them by the
// namespace rather than by the prefix a document happens to choose. `in_scope` maps the
// document's prefixes ("" for the default namespace) to URIs.
void rename_by_namespace(pugi::xml_node node, std::map<std::string, std::string> in_scope,
                         const std::map<std::string, std::string>& prefix_of_uri) {
  for (const auto& attribute : node.attributes()) {
    const std::string_view name = attribute.name();
    if (name == "xmlns") in_scope[""] = attribute.value();
    if (name.starts_with("xmlns:")) in_scope[std::string(name.substr(6))] = attribute.value();
  }
  // Gives `name` (prefix:local) the prefix chosen for its namespace; unprefixed attributes
  // have no namespace, unprefixed elements the default one.
  auto renamed = [&](std::string_view name, bool element) -> std::optional<std::string> {
    const auto colon = name.find(':');
    if (colon == std::string_view::npos && !element) return std::nullopt;
    const std::string prefix(colon == std::string_view::npos ? "" : name.substr(0, colon));
    if (prefix == "xmlns") return std::nullopt;
    const auto uri = in_scope.find(prefix);
    if (uri == in_scope.end()) return std::nullopt;
    const auto chosen = prefix_of_uri.find(uri->second);
    if (chosen == prefix_of_uri.end() || chosen->second == prefix) return std::nullopt;
    return chosen->second + ":" +
           std::string(colon == std::string_view::npos ? name : name.substr(colon + 1));
  };
  if (auto name = renamed(node.name(), true)) node.set_name(name->c_str());
  for (auto attribute : node.attributes())
    if (auto name = renamed(attribute.name(), false)) attribute.set_name(name->c_str());
  for (auto child : node.children())
    if (child.type() == pugi::node_element) rename_by_namespace(child, in_scope, prefix_of_uri);
}

// The namespaces feeds use, by their customary prefixes. Atom is here for Atom elements inside
// RSS (atom:link); an Atom feed's own unprefixed elements keep matching unprefixed XPaths.
const std::map<std::string, std::string> default_namespaces = {
    {"dc", "http://purl.org/dc/elements/1.1/"},
    {"content", "http://purl.org/rss/1.0/modules/content/"},
    {"media", "http://search.yahoo.com/mrss/"},
};

}  // namespace

XmlAdapter::XmlAdapter(const Params& params)
    : Adapter(params), records_(compile_xpath("records", params.get_string("records"))) {
  for (const auto& [prefix, uri] : default_namespaces) prefix_of_uri_[uri] = prefix;
  const Value given = params.get("namespaces");
  for (const auto& [prefix, uri] : given.as_object()) {
    if (!uri.is_string() || prefix.empty() || prefix.find(':') != std::string::npos)
      throw std::invalid_argument("param 'namespaces': '" + prefix +
                                  "' must be a prefix (no colon) mapped to a URI string");
    prefix_of_uri_[uri.as_string()] = prefix;  // over a default prefix for the same URI
  }
  if (records_->return_type() != pugi::xpath_type_node_set)
    throw std::invalid_argument("param 'records': the XPath must select nodes, not compute a value");
  if (!params.has("fields")) return;
  for (const auto& [name, expression] : params.get("fields").as_object()) {
    if (!expression.is_string())
      throw std::invalid_argument("param 'fields': the XPath of '" + name + "' is " +
                                  expression.type_name() + ", not a string");
    fields_.emplace_back(name, std::unique_ptr<pugi::xpath_query>(
                                   compile_xpath("fields." + name, expression.as_string())));
  }
}

XmlAdapter::~XmlAdapter() = default;


std::vector<Packet> XmlAdapter::convert(std::string_view text) {
  pugi::xml_document document;
  plugins::load_xml(document, text, "XML");
  if (!within_json_depth(document))
    throw std::runtime_error("XML nested deeper than " + std::to_string(json::max_depth) + " elements");
  rename_by_namespace(document.document_element(), {}, prefix_of_uri_);
  std::vector<Packet> children;
  for (const auto& record : records_->evaluate_node_set(document)) {
    const pugi::xml_node node = record.node() ? record.node() : record.parent();
    Packet child;
    if (fields_.empty()) {
      Value value = element_to_value(node);
      if (value.is_object())
        child = Packet(std::move(value.as_object()));
      else
        child.set(node.name(), std::move(value));
    } else {
      for (const auto& [name, query] : fields_) {
        switch (query->return_type()) {
          case pugi::xpath_type_node_set: {
            const pugi::xpath_node_set found = query->evaluate_node_set(node);
            auto text = [](const pugi::xpath_node& n) {
              return Value(n.attribute() ? n.attribute().value() : n.node().text().get());
            };
            if (found.size() == 1) {
              child.set(name, text(found.first()));
            } else if (found.size() > 1) {
              Array texts;
              for (const auto& n : found) texts.push_back(text(n));
              child.set(name, std::move(texts));
            }
            break;
          }
          case pugi::xpath_type_number: child.set(name, xpath_number(query->evaluate_number(node))); break;
          case pugi::xpath_type_boolean: child.set(name, query->evaluate_boolean(node)); break;
          default: child.set(name, query->evaluate_string(node)); break;
        }
      }
    }
    children.push_back(std::move(child));
  }
  return children;
}

// ---- html ----------------------------------------------------------------------------------

ComponentDescriptor HtmlAdapter::descriptor() {
  return adapter_descriptor("html_adapter",
                            "Parses an HTML page into title, visible text and links "
                            "[{href, text}]",
                            {"text/html", "application/xhtml+xml"}, {},
                            ComponentExample{.description = "A page's title, visible text and links",
                                             .input = R"(<html><head><title>Welcome</title><script>var x;</script></head><body><h1>Hello</h1><p>Read <a href="/docs">the docs</a>.</p></body></html>)",
                                             .content_type = "text/html",
                                             .output = R"({"title": "Welcome", "text": "Hello Read the docs.", "links": [{"href": "/docs", "text": "the docs"}]})"});
}

namespace {

bool invisible(GumboTag tag) {
  return tag == GUMBO_TAG_SCRIPT || tag == GUMBO_TAG_STYLE || tag == GUMBO_TAG_NOSCRIPT ||
         tag == GUMBO_TAG_TEMPLATE || tag == GUMBO_TAG_HEAD;
}

// Inline elements flow with the surrounding text; every other element separates words.
bool is_inline(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_A: case GUMBO_TAG_ABBR: case GUMBO_TAG_B: case GUMBO_TAG_BDI:
    case GUMBO_TAG_BDO: case GUMBO_TAG_CITE: case GUMBO_TAG_CODE: case GUMBO_TAG_DATA:
    case GUMBO_TAG_DFN: case GUMBO_TAG_EM: case GUMBO_TAG_I: case GUMBO_TAG_KBD:
    case GUMBO_TAG_MARK: case GUMBO_TAG_Q: case GUMBO_TAG_S: case GUMBO_TAG_SAMP:
    case GUMBO_TAG_SMALL: case GUMBO_TAG_SPAN: case GUMBO_TAG_STRONG: case GUMBO_TAG_SUB:
    case GUMBO_TAG_SUP: case GUMBO_TAG_TIME: case GUMBO_TAG_U: case GUMBO_TAG_VAR:
    case GUMBO_TAG_LABEL: case GUMBO_TAG_FONT:
      return true;
    default:
      return false;
  }
}

// Appends `text` to `out` with runs of whitespace collapsed to one space, and without soft
// hyphens (U+00AD, `&shy;`): they only mark where a browser may break a word.
void append_collapsed(std::string_view text, std::string& out) {
  static constexpr std::string_view soft_hyphen = "\u00ad";
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (text.substr(i, soft_hyphen.size()) == soft_hyphen) {
      i += soft_hyphen.size() - 1;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
}

// The walks below keep their own stack of nodes: HTML may nest to any depth, and recursing once
// per level could take a fiber beyond its stack.

// Pushes an element's children so that they are taken in document order.
template <class Pending>
void push_children(const GumboNode* node, Pending& pending) {
  const GumboVector& children = node->v.element.children;
  for (unsigned i = children.length; i-- > 0;) pending.push_back({static_cast<const GumboNode*>(children.data[i])});
}

// Visible text of a subtree (block boundaries become spaces).
void collect_text(const GumboNode* root, std::string& out) {
  struct Step {
    const GumboNode* node;
    bool block_end = false;  // after a block's children: the space that ends it
  };
  auto space = [&] {
    if (!out.empty() && out.back() != ' ') out += ' ';
  };
  std::vector<Step> pending{{root}};
  while (!pending.empty()) {
    const Step step = pending.back();
    pending.pop_back();
    const GumboNode* node = step.node;
    if (step.block_end) {
      space();
    } else if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_CDATA) {
      append_collapsed(node->v.text.text, out);
    } else if ((node->type == GUMBO_NODE_ELEMENT || node->type == GUMBO_NODE_TEMPLATE) &&
               !invisible(node->v.element.tag)) {
      if (!is_inline(node->v.element.tag)) {
        space();
        pending.push_back({node, true});
      }
      push_children(node, pending);
    }
  }
}

void collect_page(const GumboNode* root, std::string& title, Array& links) {
  struct Step {
    const GumboNode* node;
  };
  std::vector<Step> pending{{root}};
  while (!pending.empty()) {
    const GumboNode* node = pending.back().node;
    pending.pop_back();
    if (node->type != GUMBO_NODE_ELEMENT) continue;
    const GumboElement& element = node->v.element;
    if (element.tag == GUMBO_TAG_TITLE && title.empty()) {
      collect_text(node, title);
      title = trimmed(title);
    } else if (element.tag == GUMBO_TAG_A) {
      if (const GumboAttribute* href = gumbo_get_attribute(&element.attributes, "href")) {
        std::string text;
        collect_text(node, text);
        links.push_back(Object{{"href", href->value}, {"text", trimmed(text)}});
      }
    }
    push_children(node, pending);
  }
}

// Gumbo's memory, tracked so that the tree can be freed without gumbo_destroy_output, which
// recurses once per level of the tree.
class GumboAllocations {
 public:
  GumboAllocations() = default;
  GumboAllocations(const GumboAllocations&) = delete;
  GumboAllocations& operator=(const GumboAllocations&) = delete;
  ~GumboAllocations() {
    for (void* block : live_) std::free(block);
  }
  GumboOptions options() {
    GumboOptions options = kGumboDefaultOptions;
    options.allocator = &allocate;
    options.deallocator = &release;
    options.userdata = this;
    options.max_errors = 0;  // parse errors are not used: do not keep them
    return options;
  }

 private:
  static void* allocate(void* self, std::size_t size) {
    void* block = std::malloc(size);
    if (block) static_cast<GumboAllocations*>(self)->live_.insert(block);
    return block;
  }
  static void release(void* self, void* block) {
    if (!block) return;
    static_cast<GumboAllocations*>(self)->live_.erase(block);
    std::free(block);
  }
  std::unordered_set<void*> live_;
};

}  // namespace

std::vector<Packet> HtmlAdapter::convert(std::string_view text) {
  // Gumbo follows the HTML5 parsing algorithm: any input gives a tree, so there is no error.
  GumboAllocations allocations;  // frees the tree on the way out
  const GumboOptions options = allocations.options();
  const GumboOutput* output = gumbo_parse_with_options(&options, text.data(), text.size());
  std::string title;
  Array links;
  std::string body;
  collect_page(output->root, title, links);
  collect_text(output->root, body);
  Packet page;
  page.set("title", std::move(title));
  page.set("text", trimmed(body));
  page.set("links", std::move(links));
  std::vector<Packet> children;
  children.push_back(std::move(page));
  return children;
}

}  // namespace sluice::adapters
