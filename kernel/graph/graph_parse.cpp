// YAML → GraphSpec: the file's structure (keys, shapes, edge syntax, YAML scalars → Values),
// with a location for everything a later error may need to point at. What the text means
// (components, ports, cycles) is plan_graph's job, so every such error is reported once.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <iterator>

#include <sluice/json.hpp>

#include "graph/graph_spec.hpp"
#include "support/byte_size.hpp"
#include "support/duration.hpp"

namespace sluice {

const char* to_string(Isolation isolation) {
  return isolation == Isolation::process ? "process" : "in_process";
}

const char* to_string(Durability durability) {
  return durability == Durability::none ? "none" : "wal";
}

std::string format(const Diagnostic& diagnostic) {
  std::string out = diagnostic.where.file.empty() ? "<input>" : diagnostic.where.file;
  if (diagnostic.where.line != 0) {
    out += ':' + std::to_string(diagnostic.where.line);
    if (diagnostic.where.column != 0) out += ':' + std::to_string(diagnostic.where.column);
  }
  out += ": error: ";
  out += diagnostic.message;
  return out;
}

namespace {

std::string in_quotes(std::string_view text) { return "'" + std::string(text) + "'"; }

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

// Node ids appear in edges as `id.port`, and graph names in URLs and file names, so both are
// kept to characters that need no quoting anywhere.
bool is_plain_name(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

// The budget of a graph's params, aliases expanded: far above any real graph, far below what
// would take seconds or gigabytes to build.
constexpr std::size_t max_param_values = 100'000;
constexpr std::size_t max_param_bytes = std::size_t{16} << 20;

const std::vector<std::string> top_level_keys = {"name",  "description", "workers",  "durability",
                                                 "nodes", "edges",       "pipeline"};
const std::vector<std::string> node_keys = {"component", "params", "isolation", "timeout", "ui"};
const std::vector<std::string> edge_keys = {"from", "to", "capacity", "capacity_bytes"};

struct Endpoint {
  std::string node, port;
  SourceLocation where;
};

struct EdgeCapacity {
  std::optional<std::size_t> packets, bytes;
};

// Where each document of the stream starts. Not YAML::LoadAll: yaml-cpp 0.7 loops forever
// (allocating) on input such as a lone "," (jbeder/yaml-cpp#1040, fixed upstream by stopping
// at the first empty document, as this does): a document after the first that holds nothing
// but a null ends the count.
std::vector<YAML::Mark> document_starts(std::string_view text) {
  struct DocumentStartRecorder final : YAML::EventHandler {
    std::vector<YAML::Mark> starts;  // where each document's first node is
    bool only_null = true;
    bool fresh = false;
    void content(const YAML::Mark& mark, bool null) {
      if (fresh) starts.back() = mark;
      fresh = false;
      only_null = only_null && null;
    }
    void OnDocumentStart(const YAML::Mark& mark) override {
      starts.push_back(mark);
      only_null = true;
      fresh = true;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { content(mark, true); }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { content(mark, false); }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
      content(mark, false);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
      content(mark, false);
    }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
      content(mark, false);
    }
    void OnMapEnd() override {}
  } counter;
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  while (parser.HandleNextDocument(counter)) {
    if (counter.starts.size() > 1 && counter.only_null) {
      counter.starts.pop_back();
      break;
    }
  }
  return counter.starts;
}

class GraphReader {
 public:
  // `file` names the text in locations; `named_file` says whether it is a real file name
  // (which then names the graph when `name` is absent).
  GraphReader(std::string_view text, std::string file, bool named_file,
              std::vector<Diagnostic>& errors)
      : text_(text), file_(std::move(file)), named_file_(named_file), errors_(errors) {}

  void read(GraphSpec& spec) {
    YAML::Node root;
    std::vector<YAML::Mark> documents;
    try {
      root = YAML::Load(std::string(text_));
      documents = document_starts(text_);
    } catch (const YAML::ParserException& e) {
      error(at(e.mark), "invalid YAML: " + e.msg);
      return;
    } catch (const YAML::Exception& e) {
      error(at(e.mark), std::string("invalid YAML: ") + e.what());
      return;
    }
    if (documents.size() > 1) {
      error(at(documents[1]), "the file holds " + std::to_string(documents.size()) +
                                  " YAML documents; a graph file holds exactly one");
    }
    spec.where = {file_, 1, 1};
    if (!root.IsMap()) {
      error(root.IsDefined() && !root.IsNull() ? at(root) : SourceLocation{file_, 1, 1},
            "a graph file must be a YAML map with the keys name, description, workers, durability, "
            "nodes, edges and pipeline");
      return;
    }

    bool named = false;
    for_each_member(root, "the graph", [&](const std::string& key, const YAML::Node& key_node,
                                           const YAML::Node& value) {
      if (key == "name") {
        named = true;
        read_name(value, spec);
      } else if (key == "description") {
        if (auto text = string_value(value, "'description'")) spec.description = *text;
      } else if (key == "workers") {
        spec.workers = positive_integer(value, "'workers'");
      } else if (key == "durability") {
        spec.durability_where = value_at(key_node, value);
        if (auto text = string_value(value, "'durability'")) {
          if (*text == "wal")
            spec.durability = Durability::wal;
          else if (*text == "none")
            spec.durability = Durability::none;
          else
            error(at(value), "'durability' must be wal (log submissions before answering) or none (keep them "
                             "in memory only), got " + in_quotes(*text));
        }
      } else if (key == "nodes") {
        spec.where = at(key_node);
        read_nodes(value, spec);
      } else if (key == "edges") {
        read_edges(value, spec);
      } else if (key == "pipeline") {
        read_pipeline(value, spec);
      } else if (key == "status") {
        // What GET /v1/graphs/{g} reports about the running graph: ignored, so that the
        // document it sends can be PUT back as it is.
      } else {
        error(at(key_node), "unknown key " + in_quotes(key) + hint(key, top_level_keys) +
                                "; a graph has: " + joined(top_level_keys));
      }
    });
    if (!named) default_name(spec);
  }

 private:
  // ---- locations and errors --------------------------------------------------------------

  SourceLocation at(const YAML::Mark& mark) const {
    if (mark.is_null()) return {file_, 0, 0};
    return {file_, static_cast<std::size_t>(mark.line) + 1,
            static_cast<std::size_t>(mark.column) + 1};
  }
  SourceLocation at(const YAML::Node& node) const { return at(node.Mark()); }

  // Where a map value is. yaml-cpp marks an empty value (`key:` with nothing after it) at the
  // next token, often on a later line, so those point at their key instead.
  SourceLocation value_at(const YAML::Node& key, const YAML::Node& value) const {
    if (value.IsNull()) {
      const auto mark = value.Mark();
      const bool written = !mark.is_null() && static_cast<std::size_t>(mark.pos) < text_.size() &&
                           (text_[mark.pos] == '~' || text_[mark.pos] == 'n' ||
                            text_[mark.pos] == 'N');
      if (!written) return at(key);
    }
    return at(value);
  }

  // The location `offset` characters into a scalar's value, when the value appears verbatim
  // in the text (one line, no escapes); the scalar's own location otherwise.
  SourceLocation inside(const YAML::Node& scalar, std::size_t offset) const {
    SourceLocation where = at(scalar);
    const auto mark = scalar.Mark();
    if (mark.is_null()) return where;
    std::size_t start = static_cast<std::size_t>(mark.pos);
    if (start < text_.size() && (text_[start] == '"' || text_[start] == '\'')) ++start;
    const std::string& value = scalar.Scalar();
    if (text_.substr(start, value.size()) != value) return where;
    where.column += start - static_cast<std::size_t>(mark.pos) + offset;
    return where;
  }

  void error(SourceLocation where, std::string message) {
    errors_.push_back({std::move(where), std::move(message)});
  }

  static std::string hint(std::string_view word, const std::vector<std::string>& candidates) {
    auto match = closest_match(word, candidates);
    return match.empty() ? "" : " (did you mean " + in_quotes(match) + "?)";
  }

  // ---- generic shapes ----------------------------------------------------------------------

  // Calls `visit(key, key_node, value)` for every member of a map. yaml-cpp keeps every pair
  // of a map that repeats a key (and lookups see only the first), so repeats are caught here.
  template <class Visit>
  void for_each_member(const YAML::Node& map, const std::string& owner, Visit&& visit) {
    std::map<std::string, SourceLocation> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node key_node = it->first;
      const YAML::Node value = it->second;
      if (!key_node.IsScalar()) {
        error(at(key_node), "in " + owner + ", keys must be plain names, not lists or maps");
        continue;
      }
      const std::string& key = key_node.Scalar();
      if (auto [first, inserted] = seen.emplace(key, at(key_node)); !inserted) {
        error(at(key_node), "in " + owner + ", duplicate key " + in_quotes(key) +
                                " (first given at line " + std::to_string(first->second.line) +
                                ")");
        continue;
      }
      visit(key, key_node, value);
    }
  }

  std::optional<std::string> string_value(const YAML::Node& value, const std::string& what) {
    if (value.IsScalar()) return value.Scalar();
    // `component: null` reads as YAML's null, not as the bundled `null` sink.
    if (value.IsNull())
      error(at(value), what + " must be a string, not YAML null (for the text null, quote it: 'null')");
    else
      error(at(value), what + " must be a string");
    return std::nullopt;
  }

  std::optional<std::size_t> positive_integer(const YAML::Node& value, const std::string& what) {
    const std::size_t errors_before = errors_.size();
    const Value number = value.IsScalar() ? scalar_value(value) : Value();
    if (errors_.size() != errors_before) return std::nullopt;  // a bad tag or overflow, said
    if (number.is_int() && number.as_int() >= 1) return static_cast<std::size_t>(number.as_int());
    error(at(value), what + " must be a whole number of at least 1, got " + describe(value));
    return std::nullopt;
  }

  // A byte count, as the command line takes them (support/byte_size.hpp), such as 16MiB.
  std::optional<std::size_t> byte_size(const YAML::Node& value, const std::string& what) {
    if (value.IsScalar())
      if (const auto bytes = parse_byte_size(value.Scalar()); bytes && *bytes >= 1) return bytes;
    error(at(value), what + " must be a number of bytes of at least 1, such as 1048576 or 16MiB, got " +
                         describe(value));
    return std::nullopt;
  }

  static std::string describe(const YAML::Node& value) {
    if (value.IsScalar()) return in_quotes(value.Scalar());
    if (value.IsSequence()) return "a list";
    if (value.IsMap()) return "a map";
    return "nothing";
  }

  // ---- YAML values → sluice::Value ---------------------------------------------------------

  // Plain scalars resolve by the YAML 1.2 core schema (so `yes`, `on` and `1_000` stay
  // strings, unlike YAML 1.1); quoted and block scalars, and `!!str`, are always strings.
  Value scalar_value(const YAML::Node& node) {
    const std::string& tag = node.Tag();
    const std::string& text = node.Scalar();
    if (tag == "!" || tag == "tag:yaml.org,2002:str") return text;
    if (tag != "?") {
      error(at(node), "unsupported YAML tag " + in_quotes(tag) +
                          " (only !!str is understood; quote a value to make it a string)");
      return text;
    }
    if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL")
      return nullptr;
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    if (auto integer = integer_literal(node, text)) return *integer;
    if (auto number = float_literal(text)) return *number;
    return text;
  }

  std::optional<Value> integer_literal(const YAML::Node& node, std::string_view text) {
    bool negative = false;
    std::string_view digits = text;
    if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) {
      negative = digits.front() == '-';
      digits.remove_prefix(1);
    }
    int base = 10;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'o')) {
      if (text.size() != digits.size()) return std::nullopt;  // the core schema has no -0x1
      base = digits[1] == 'x' ? 16 : 8;
      digits.remove_prefix(2);
    }
    if (digits.empty()) return std::nullopt;
    std::uint64_t magnitude = 0;
    auto [end, status] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
    if (end != digits.data() + digits.size()) return std::nullopt;
    const std::uint64_t limit =
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1 : 0);
    if (status == std::errc::result_out_of_range || magnitude > limit) {
      error(at(node), "the integer " + std::string(text) +
                          " does not fit in 64 bits (quote it to keep it as a string)");
      return Value(nullptr);
    }
    if (negative) return Value(static_cast<std::int64_t>(0 - magnitude));
    return Value(static_cast<std::int64_t>(magnitude));
  }

  static std::optional<double> float_literal(std::string_view text) {
    std::string_view body = text;
    const double sign = !body.empty() && body.front() == '-' ? -1.0 : 1.0;
    if (!body.empty() && (body.front() == '-' || body.front() == '+')) body.remove_prefix(1);
    if (body == ".inf" || body == ".Inf" || body == ".INF")
      return sign * std::numeric_limits<double>::infinity();
    if (text == ".nan" || text == ".NaN" || text == ".NAN")
      return std::numeric_limits<double>::quiet_NaN();
    // The core schema's [-+]? ( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    // rebuilt into the form from_chars takes (no '+', no bare '.' before the exponent).
    std::string number;
    std::size_t i = 0;
    auto digits = [&] {
      const std::size_t start = i;
      while (i < body.size() && body[i] >= '0' && body[i] <= '9') number += body[i++];
      return i - start;
    };
    std::size_t mantissa = digits();
    if (i < body.size() && body[i] == '.') {
      ++i;
      number += '.';
      const std::size_t fraction = digits();
      if (fraction == 0) number += '0';
      mantissa += fraction;
    }
    if (mantissa == 0) return std::nullopt;
    bool tiny = false;
    if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
      number += body[i++];
      if (i < body.size() && (body[i] == '-' || body[i] == '+')) {
        tiny = body[i] == '-';
        number += body[i++];
      }
      if (digits() == 0) return std::nullopt;
    }
    if (i != body.size()) return std::nullopt;
    double value = 0;
    const auto [end, status] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (end != number.data() + number.size()) return std::nullopt;
    // Beyond double's range from_chars leaves `value` alone; YAML readers give inf (or 0).
    if (status == std::errc::result_out_of_range)
      value = tiny ? 0.0 : std::numeric_limits<double>::infinity();
    return sign * value;
  }

  // An alias repeats its anchor's whole subtree, so aliases of aliases let a few hundred bytes
  // stand for billions of values. yaml-cpp shares aliased subtrees; only this conversion would
  // expand them, so it counts what it has expanded and stops at the budget.
  bool within_budget(const YAML::Node& node) {
    if (conversion_stopped_) return false;
    ++expanded_values_;
    if (node.IsScalar()) expanded_bytes_ += node.Scalar().size();
    if (expanded_values_ <= max_param_values && expanded_bytes_ <= max_param_bytes) return true;
    conversion_stopped_ = true;
    error(at(node), "the params expand to more than " + std::to_string(max_param_values) +
                        " values or " + std::to_string(max_param_bytes >> 20) +
                        " MiB of text, the most a graph may hold (YAML aliases repeating each "
                        "other?)");
    return false;
  }

  // `depth` counts the containers around `node`. An alias inside its own anchor
  // (`&a [1, *a]`) is a cycle that yaml-cpp builds as such: without the limit, converting it
  // recursed until the stack overflowed. The limit is the JSON reader's, so params always
  // read back.
  Value to_value(const YAML::Node& node, const std::string& owner, std::size_t depth = 1) {
    if (!within_budget(node)) return nullptr;
    if (depth > json::max_depth && (node.IsSequence() || node.IsMap())) {
      conversion_stopped_ = true;  // one error, not one per level on the way back
      error(at(node), owner + " is nested deeper than " + std::to_string(json::max_depth) +
                          " levels (a YAML alias inside its own anchor?)");
      return nullptr;
    }
    switch (node.Type()) {
      case YAML::NodeType::Scalar:
        return scalar_value(node);
      case YAML::NodeType::Sequence: {
        Array items;
        items.reserve(node.size());
        for (const auto& item : node) items.push_back(to_value(item, owner, depth + 1));
        return items;
      }
      case YAML::NodeType::Map: {
        Object members;
        for_each_member(node, owner, [&](const std::string& key, const YAML::Node&,
                                         const YAML::Node& value) {
          members.append_unchecked(key, to_value(value, owner, depth + 1));
        });
        return members;
      }
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        break;
    }
    return nullptr;
  }

  // ---- the graph's parts -------------------------------------------------------------------

  void read_name(const YAML::Node& name, GraphSpec& spec) {
    if (auto text = string_value(name, "'name'")) {
      spec.name = *text;
      if (!is_plain_name(spec.name))
        error(at(name), "graph name " + in_quotes(spec.name) +
                            " may contain only letters, digits, '_' and '-'");
    }
  }

  void default_name(GraphSpec& spec) {
    if (named_file_) {
      // A graph file names its graph by default, as graphs/enrich.yaml → enrich.
      spec.name = std::filesystem::path(spec.file).stem().string();
      if (!is_plain_name(spec.name))
        error({file_, 1, 1}, "the graph has no 'name', and its file name " + in_quotes(spec.name) +
                                 " is not a valid one (letters, digits, '_' and '-' only)");
      return;
    }
    error({file_, 1, 1}, "the graph has no 'name'");
  }

  void read_nodes(const YAML::Node& nodes, GraphSpec& spec) {
    if (nodes.IsNull()) return;  // `nodes:` with nothing under it: plan_graph says "no nodes"
    if (!nodes.IsMap()) {
      error(at(nodes), "'nodes' must be a map of node id to {component: NAME, params: {...}}");
      return;
    }
    // Not for_each_member: a repeated node id is plan_graph's "duplicate node" error, which
    // also covers specs built without YAML.
    for (auto it = nodes.begin(); it != nodes.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node body = it->second;
      if (!key.IsScalar()) {
        error(at(key), "node ids must be plain names, not lists or maps");
        continue;
      }
      NodeSpec node;
      node.id = key.Scalar();
      node.where = at(key);
      if (!is_plain_name(node.id))
        error(node.where, "node id " + in_quotes(node.id) +
                              " may contain only letters, digits, '_' and '-' (edges write "
                              "'node.port')");
      read_node_body(body, node);
      spec.nodes.push_back(std::move(node));
    }
  }

  void read_node_body(const YAML::Node& body, NodeSpec& node) {
    const std::string owner = "node " + in_quotes(node.id);
    if (body.IsNull()) return;  // no component: plan_graph reports it
    if (!body.IsMap()) {
      error(at(body), owner + " must be a map like {component: NAME, params: {...}}");
      return;
    }
    for_each_member(body, owner, [&](const std::string& key, const YAML::Node& key_node,
                                     const YAML::Node& value) {
      if (key == "component") {
        node.component_where = value_at(key_node, value);
        if (auto name = string_value(value, owner + ": 'component'")) node.component = *name;
      } else if (key == "params") {
        read_params(value, node, owner);
      } else if (key == "isolation") {
        node.isolation_where = value_at(key_node, value);
        if (auto text = string_value(value, owner + ": 'isolation'")) {
          if (*text == "process")
            node.isolation = Isolation::process;
          else if (*text != "in_process")
            error(at(value), owner + ": 'isolation' must be in_process (the default) or process, got " +
                                 in_quotes(*text));
        }
      } else if (key == "timeout") {
        const auto parsed = value.IsScalar() ? parse_duration(value.Scalar()) : std::nullopt;
        if (parsed && parsed->count() > 0)
          node.timeout = *parsed;
        else
          error(at(value), owner + ": 'timeout' must be a duration above 0 such as 500ms, 30s, 2m or 2.5, got " +
                               describe(value));
      } else if (key == "ui") {
        // The editor's (the node's position): kept with the graph, never read by the runtime.
        if (!value.IsMap() && !value.IsNull())
          error(at(value), owner + ": 'ui' must be a map like {x: 120, y: 40} (the editor's layout)");
        else if (value.IsMap())
          node.ui = to_value(value, owner + " ui").as_object();
      } else {
        error(at(key_node), owner + ": unknown key " + in_quotes(key) + hint(key, node_keys) +
                                "; a node has: " + joined(node_keys));
      }
    });
  }

  void read_params(const YAML::Node& params, NodeSpec& node, const std::string& owner) {
    if (params.IsNull()) return;
    if (!params.IsMap()) {
      error(at(params), owner + ": 'params' must be a map of name: value");
      return;
    }
    for_each_member(params, owner + " params", [&](const std::string& key,
                                                   const YAML::Node& key_node,
                                                   const YAML::Node& value) {
      node.params.append_unchecked(key, to_value(value, owner + " param " + in_quotes(key)));
      node.param_locations.emplace_back(key, value_at(key_node, value));
    });
  }

  // `node` or `node.port`; `where` is the endpoint's first character.
  std::optional<Endpoint> endpoint(std::string_view text, SourceLocation where,
                                   const std::string& edge) {
    Endpoint end;
    end.where = std::move(where);
    const auto dot = text.find('.');
    end.node = std::string(text.substr(0, dot));
    if (dot != std::string_view::npos) end.port = std::string(text.substr(dot + 1));
    if (end.node.empty() || (dot != std::string_view::npos && end.port.empty())) {
      error(end.where, "edge " + in_quotes(edge) + ": " + in_quotes(text) +
                           " is not an endpoint; write 'node' or 'node.port'");
      return std::nullopt;
    }
    return end;
  }

  void add_edge(GraphSpec& spec, Endpoint from, Endpoint to, SourceLocation where, EdgeCapacity capacity = {}) {
    EdgeSpec edge;
    edge.from_node = std::move(from.node);
    edge.from_port = std::move(from.port);
    edge.to_node = std::move(to.node);
    edge.to_port = std::move(to.port);
    edge.from_where = std::move(from.where);
    edge.to_where = std::move(to.where);
    edge.where = std::move(where);
    edge.capacity = capacity.packets;
    edge.capacity_bytes = capacity.bytes;
    spec.edges.push_back(std::move(edge));
  }

  void read_edges(const YAML::Node& edges, GraphSpec& spec) {
    if (edges.IsNull()) return;
    if (!edges.IsSequence()) {
      error(at(edges), "'edges' must be a list of 'from -> to' strings or {from, to, capacity, capacity_bytes} maps");
      return;
    }
    for (const auto& item : edges) {
      if (item.IsScalar())
        read_edge_string(item, spec);
      else if (item.IsMap())
        read_edge_map(item, spec);
      else
        error(at(item), "an edge must be a 'from -> to' string or a {from, to, capacity, capacity_bytes} map");
    }
  }

  void read_edge_string(const YAML::Node& item, GraphSpec& spec) {
    const std::string& text = item.Scalar();
    const auto arrow = text.find("->");
    if (arrow == std::string::npos || text.find("->", arrow + 2) != std::string::npos) {
      error(at(item), "edge " + in_quotes(text) +
                          " is not of the form 'from -> to' (ports optional: 'from.port -> to.port')");
      return;
    }
    const std::string_view whole(text);
    const auto left = trimmed(whole.substr(0, arrow));
    const auto right = trimmed(whole.substr(arrow + 2));
    auto offset_of = [&](std::string_view part) {
      return part.empty() ? 0 : static_cast<std::size_t>(part.data() - whole.data());
    };
    auto from = endpoint(left, inside(item, offset_of(left)), text);
    auto to = endpoint(right, inside(item, offset_of(right)), text);
    if (from && to) add_edge(spec, std::move(*from), std::move(*to), at(item));
  }

  void read_edge_map(const YAML::Node& item, GraphSpec& spec) {
    // The edge's name in messages, from whatever `from` and `to` say ("?" when missing).
    std::string from_text = "?", to_text = "?";
    for (auto it = item.begin(); it != item.end(); ++it) {
      if (!it->first.IsScalar() || !it->second.IsScalar()) continue;
      if (it->first.Scalar() == "from" && from_text == "?") from_text = it->second.Scalar();
      if (it->first.Scalar() == "to" && to_text == "?") to_text = it->second.Scalar();
    }
    const std::string text = from_text + " -> " + to_text;
    const std::string owner = "edge " + in_quotes(text);

    std::optional<Endpoint> from, to;  // empty when absent or wrong (and reported)
    bool has_from = false, has_to = false, capacity_ok = true;
    std::optional<std::size_t> capacity, capacity_bytes;
    for_each_member(item, owner, [&](const std::string& key, const YAML::Node& key_node,
                                     const YAML::Node& value) {
      if (key == "from" || key == "to") {
        (key == "from" ? has_from : has_to) = true;
        auto name = string_value(value, owner + ": '" + key + "'");
        if (name) (key == "from" ? from : to) = endpoint(*name, value_at(key_node, value), text);
      } else if (key == "capacity") {
        capacity = positive_integer(value, owner + ": 'capacity'");
        capacity_ok = capacity_ok && capacity.has_value();
      } else if (key == "capacity_bytes") {
        capacity_bytes = byte_size(value, owner + ": 'capacity_bytes'");
        capacity_ok = capacity_ok && capacity_bytes.has_value();
      } else {
        error(at(key_node), owner + ": unknown key " + in_quotes(key) + hint(key, edge_keys) +
                                "; an edge has: " + joined(edge_keys));
      }
    });
    if (!has_from) error(at(item), owner + " has no 'from'");
    if (!has_to) error(at(item), owner + " has no 'to'");
    if (from && to && capacity_ok)
      add_edge(spec, std::move(*from), std::move(*to), at(item), {capacity, capacity_bytes});
  }

  void read_pipeline(const YAML::Node& pipeline, GraphSpec& spec) {
    if (pipeline.IsNull()) return;
    if (!pipeline.IsSequence()) {
      error(at(pipeline), "'pipeline' must be a list of node ids, like [a, b, c]");
      return;
    }
    std::optional<Endpoint> previous;
    for (const auto& item : pipeline) {
      std::optional<Endpoint> current;
      if (!item.IsScalar() || !is_plain_name(item.Scalar())) {
        error(at(item), "'pipeline' entries are node ids (use 'edges' to name ports), got " +
                            describe(item));
      } else {
        current = Endpoint{item.Scalar(), "", at(item)};
      }
      if (previous && current) {
        add_edge(spec, *previous, *current, previous->where);
      }
      previous = std::move(current);
    }
  }

  std::string_view text_;
  std::string file_;
  bool named_file_;
  std::vector<Diagnostic>& errors_;
  std::size_t expanded_values_ = 0, expanded_bytes_ = 0;  // by to_value, aliases expanded
  // Set at the first budget or depth error: nothing more is converted, nor reported.
  bool conversion_stopped_ = false;
};

}  // namespace

GraphSpec parse_graph(std::string_view yaml_text, std::string_view file_name,
                      std::vector<Diagnostic>& errors) {
  GraphSpec spec;
  spec.file = std::string(file_name);
  spec.yaml_text = std::string(yaml_text);
  GraphReader reader(spec.yaml_text, file_name.empty() ? "<input>" : std::string(file_name),
                     !file_name.empty(), errors);
  reader.read(spec);
  return spec;
}

GraphSpec load_graph_file(const std::filesystem::path& file, std::vector<Diagnostic>& errors) {
  auto unreadable = [&](std::string reason) {
    GraphSpec spec;
    spec.file = file.string();
    errors.push_back({{spec.file, 0, 0}, "cannot read the graph file: " + std::move(reason)});
    return spec;
  };
  // An ifstream opens a directory without complaint and then reads nothing from it.
  if (std::error_code ec; std::filesystem::is_directory(file, ec)) return unreadable("it is a directory");
  std::ifstream in(file, std::ios::binary);
  if (!in) return unreadable(std::strerror(errno));
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return unreadable(std::strerror(errno));
  return parse_graph(text, file.string(), errors);
}

}  // namespace sluice
