#include "sluice/component.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "sluice/descriptor_rules.hpp"
#include "sluice/json.hpp"

namespace sluice {

// ---- kinds and types -----------------------------------------------------------------------

const char* to_string(ComponentKind kind) {
  switch (kind) {
    case ComponentKind::adapter: return "adapter";
    case ComponentKind::transformer: return "transformer";
    case ComponentKind::filter: return "filter";
    case ComponentKind::extractor: return "extractor";
    case ComponentKind::operator_: return "operator";
    case ComponentKind::publisher: return "publisher";
    case ComponentKind::source: return "source";
  }
  return "?";
}

std::optional<ComponentKind> parse_component_kind(std::string_view text) {
  for (auto kind : {ComponentKind::adapter, ComponentKind::transformer, ComponentKind::filter,
                    ComponentKind::extractor, ComponentKind::operator_, ComponentKind::publisher,
                    ComponentKind::source})
    if (text == to_string(kind)) return kind;
  return std::nullopt;
}

const char* to_string(ParamType type) {
  switch (type) {
    case ParamType::boolean: return "boolean";
    case ParamType::integer: return "integer";
    case ParamType::number: return "number";
    case ParamType::string: return "string";
    case ParamType::string_list: return "string_list";
    case ParamType::list: return "list";
    case ParamType::object: return "object";
    case ParamType::any: return "any";
  }
  return "?";
}

// ---- Params --------------------------------------------------------------------------------

bool Params::has(std::string_view name) const {
  const Value* v = values_.find(name);
  return v && !v->is_null();
}

const Value& Params::get(std::string_view name) const {
  const Value* v = values_.find(name);
  if (!v || v->is_null())
    throw std::invalid_argument("param '" + std::string(name) + "' is not set");
  return *v;
}

namespace {
template <class F>
auto typed_param(std::string_view name, F&& read) -> decltype(read()) {
  try {
    return read();
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument("param '" + std::string(name) + "': " + e.what());
  }
}
}  // namespace

std::string Params::get_string(std::string_view name) const {
  return typed_param(name, [&] { return get(name).as_string(); });
}

char Params::get_char(std::string_view name) const {
  const std::string value = get_string(name);
  if (value.size() != 1)
    throw std::invalid_argument("param '" + std::string(name) + "' must be one character, got '" + value + "'");
  return value[0];
}

std::int64_t Params::get_int(std::string_view name) const {
  return typed_param(name, [&] { return get(name).as_int(); });
}

double Params::get_number(std::string_view name) const {
  return typed_param(name, [&] { return get(name).as_double(); });
}

bool Params::get_bool(std::string_view name) const {
  return typed_param(name, [&] { return get(name).as_bool(); });
}

std::vector<std::string> Params::get_string_list(std::string_view name) const {
  return typed_param(name, [&] {
    const Value& v = get(name);
    std::vector<std::string> out;
    if (v.is_string()) {
      out.push_back(v.as_string());
      return out;
    }
    for (const auto& item : v.as_array()) out.push_back(item.as_string());
    return out;
  });
}

std::string Params::get_string(std::string_view name, std::string_view fallback) const {
  return has(name) ? get_string(name) : std::string(fallback);
}

std::int64_t Params::get_int(std::string_view name, std::int64_t fallback) const {
  return has(name) ? get_int(name) : fallback;
}

// ---- descriptors ---------------------------------------------------------------------------

void apply_port_defaults(ComponentDescriptor& descriptor) {
  const bool source = descriptor.kind == ComponentKind::source;
  if (descriptor.inputs.empty() && !source) descriptor.inputs.push_back({"in", "packets to process"});
  if (descriptor.outputs.empty() && descriptor.kind != ComponentKind::publisher)
    descriptor.outputs.push_back({"out", source ? "packets the source makes" : "processed packets"});
}

namespace {

bool matches_type(const Value& v, ParamType type) {
  switch (type) {
    case ParamType::boolean: return v.is_bool();
    case ParamType::integer: return v.is_int();
    case ParamType::number: return v.is_number();
    case ParamType::string: return v.is_string();
    case ParamType::string_list:
      if (v.is_string()) return true;
      if (!v.is_array()) return false;
      return std::all_of(v.as_array().begin(), v.as_array().end(),
                         [](const Value& item) { return item.is_string(); });
    case ParamType::list: return v.is_array();
    case ParamType::object: return v.is_object();
    case ParamType::any: return true;
  }
  return false;
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string format_number(double d) {
  std::string s = std::to_string(d);
  // std::to_string gives six decimals; trim them for messages ("10" not "10.000000").
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

// Why `v` does not fit `spec` ("" when it does). A secret's value is not repeated.
std::string param_problem(const ParamSpec& spec, const Value& v) {
  const auto shown = [&] { return spec.secret ? std::string("***") : v.to_display_string(); };
  if (!matches_type(v, spec.type))
    return "must be " + std::string(to_string(spec.type)) + ", got " + v.type_name();
  if (!spec.allowed.empty() &&
      std::find(spec.allowed.begin(), spec.allowed.end(), v) == spec.allowed.end()) {
    std::string list;
    for (const auto& a : spec.allowed) list += (list.empty() ? "" : ", ") + a.to_display_string();
    return "must be one of " + list + ", got " + shown();
  }
  if (v.is_number()) {
    const double d = v.as_double();
    if (spec.minimum && d < *spec.minimum)
      return "must be at least " + format_number(*spec.minimum) + ", got " + shown();
    if (spec.maximum && d > *spec.maximum)
      return "must be at most " + format_number(*spec.maximum) + ", got " + shown();
  }
  return {};
}

const std::vector<std::string> known_capabilities = {"fs_read", "fs_write", "net"};

bool has_capability(const ComponentDescriptor& d, std::string_view capability) {
  return std::find(d.capabilities.begin(), d.capabilities.end(), capability) != d.capabilities.end();
}

bool is_identifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

}  // namespace

bool has_example(const ComponentDescriptor& d) {
  const auto& e = d.example;
  return !(e.description.empty() && e.params.empty() && e.input.empty() && e.content_type.empty() &&
           e.output.empty());
}

namespace {

// The example's JSON lines parse, one object each: a catalogue entry that cannot be pasted
// would teach the wrong thing. (Its params are YAML, which the kernel checks: tests/cli.)
void check_json_lines(std::string_view text, const std::string& where, std::vector<std::string>& problems) {
  std::size_t line_number = 0;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line = text.substr(start, end - start);
    ++line_number;
    start = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    try {
      if (!json::parse(line).is_object())
        problems.push_back(where + " line " + std::to_string(line_number) + " is not a JSON object");
    } catch (const json::ParseError& e) {
      problems.push_back(where + " line " + std::to_string(line_number) + ": " + e.what());
    }
  }
}

void check_example(const ComponentDescriptor& d, const std::string& who, std::vector<std::string>& problems) {
  if (!has_example(d)) return;
  const auto& e = d.example;
  if (e.description.empty()) problems.push_back(who + "example has no description");
  if (!e.content_type.empty() && e.input.empty())
    problems.push_back(who + "example has a content_type but no input");
  if (e.content_type.empty()) check_json_lines(e.input, who + "example input", problems);
  check_json_lines(e.output, who + "example output", problems);
}

}  // namespace

std::vector<std::string> check_descriptor(const ComponentDescriptor& d) {
  std::vector<std::string> problems;
  if (!is_identifier(d.name))
    problems.push_back("component name " + quoted(d.name) +
                       " is not an identifier (letters, digits, _; not starting with a digit)");
  const std::string who = "component " + quoted(d.name) + ": ";
  if (d.summary.empty()) problems.push_back(who + "has no summary");
  if (!d.create) problems.push_back(who + "has no factory (use sluice::describe<T>())");
  if (d.kind == ComponentKind::publisher && !d.outputs.empty())
    problems.push_back(who + "is a publisher but declares out ports");
  // A source's packets enter the graph through one relay node per instance, out of one port.
  if (d.kind == ComponentKind::source && !d.inputs.empty())
    problems.push_back(who + "is a source but declares in ports");
  if (d.kind == ComponentKind::source && d.outputs.size() > 1)
    problems.push_back(who + "is a source and may declare only one out port");
  if (d.kind == ComponentKind::source && d.blocking)
    problems.push_back(who + "is a source: it runs on a thread of its own, so 'blocking' does not apply");
  auto check_ports = [&](const std::vector<PortSpec>& ports, const char* direction) {
    std::set<std::string> seen;
    for (const auto& port : ports) {
      if (!is_identifier(port.name))
        problems.push_back(who + direction + " port " + quoted(port.name) + " is not an identifier");
      if (port.name == error_port)
        problems.push_back(who + direction + " port 'error' is reserved for failed packets");
      if (!seen.insert(port.name).second)
        problems.push_back(who + "duplicate " + direction + " port " + quoted(port.name));
    }
  };
  check_ports(d.inputs, "in");
  check_ports(d.outputs, "out");
  std::set<std::string> seen_capabilities;
  for (const auto& capability : d.capabilities) {
    if (std::find(known_capabilities.begin(), known_capabilities.end(), capability) ==
        known_capabilities.end())
      problems.push_back(who + "unknown capability " + quoted(capability) + " (known: fs_read, fs_write, net)");
    if (!seen_capabilities.insert(capability).second)
      problems.push_back(who + "duplicate capability " + quoted(capability));
  }
  std::set<std::string> seen_params;
  for (const auto& p : d.params) {
    const std::string where = who + "param " + quoted(p.name) + ": ";
    if (!is_identifier(p.name)) problems.push_back(where + "name is not an identifier");
    if (!seen_params.insert(p.name).second) problems.push_back(who + "duplicate param " + quoted(p.name));
    if (p.description.empty()) problems.push_back(where + "has no description");
    if (p.minimum && p.maximum && *p.minimum > *p.maximum)
      problems.push_back(where + "minimum is greater than maximum");
    if ((p.minimum || p.maximum) && p.type != ParamType::integer && p.type != ParamType::number)
      problems.push_back(where + "a range needs type integer or number");
    for (const auto& a : p.allowed)
      if (!matches_type(a, p.type))
        problems.push_back(where + "allowed value " + a.to_display_string() + " is not a " +
                           to_string(p.type));
    if (p.file_path && p.type != ParamType::string)
      problems.push_back(where + "a file_path param has type string");
    if (p.file_path && !has_capability(d, "fs_read") && !has_capability(d, "fs_write"))
      problems.push_back(where + "is a file_path, but the component declares neither capability fs_read nor fs_write");
    if (!p.file_keys.empty() && p.type != ParamType::object)
      problems.push_back(where + "file_keys need type object");
    if (!p.file_keys.empty() && !has_capability(d, "fs_read") && !has_capability(d, "fs_write"))
      problems.push_back(where + "has file_keys, but the component declares neither capability fs_read nor fs_write");
    if (!p.default_value.is_null()) {
      if (p.required) problems.push_back(where + "is required but has a default");
      if (auto problem = param_problem(p, p.default_value); !problem.empty())
        problems.push_back(where + "default " + problem);
    }
  }
  check_example(d, who, problems);
  return problems;
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  // Levenshtein distance; a hint is offered within a third of the word's length (at least 2).
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        const std::size_t above = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diagonal = above;
      }
    }
    return row[b.size()];
  };
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const auto& candidate : candidates) {
    const std::size_t d = distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::vector<ParamError> validate_params(const ComponentDescriptor& descriptor, const Object& given,
                                        Object& resolved) {
  std::vector<ParamError> errors;
  resolved.clear();
  std::vector<std::string> names;
  for (const auto& p : descriptor.params) names.push_back(p.name);

  for (const auto& member : given) {
    // Named, not a structured binding: the lambdas below capture it (clang 14 cannot).
    const std::string& key = member.first;
    const auto spec = std::find_if(descriptor.params.begin(), descriptor.params.end(),
                                   [&](const ParamSpec& p) { return p.name == key; });
    if (spec == descriptor.params.end()) {
      std::string message = "unknown param " + quoted(key);
      if (auto hint = closest_match(key, names); !hint.empty())
        message += " (did you mean " + quoted(hint) + "?)";
      else if (!names.empty())
        message += " (" + descriptor.name + " takes: " + [&] {
          std::string list;
          for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
          return list;
        }() + ")";
      else
        message += " (" + descriptor.name + " takes no params)";
      errors.push_back({key, std::move(message)});
    }
  }
  for (const auto& spec : descriptor.params) {
    const Value* value = given.find(spec.name);
    if (!value || value->is_null()) {
      if (spec.required)
        errors.push_back({spec.name, "missing required param " + quoted(spec.name) + " (" +
                                         to_string(spec.type) + ": " + spec.description + ")"});
      else if (!spec.default_value.is_null())
        resolved.append_unchecked(spec.name, spec.default_value);
      continue;
    }
    if (auto problem = param_problem(spec, *value); !problem.empty()) {
      errors.push_back({spec.name, "param " + quoted(spec.name) + " " + problem});
      continue;
    }
    if (spec.type == ParamType::string_list && value->is_string())
      resolved.append_unchecked(spec.name, Array{*value});
    else
      resolved.append_unchecked(spec.name, *value);
  }
  return errors;
}

Value descriptor_to_json(const ComponentDescriptor& d) {
  auto ports = [](const std::vector<PortSpec>& list) {
    Array out;
    for (const auto& p : list) out.push_back(Object{{"name", p.name}, {"description", p.description}});
    return out;
  };
  Array params;
  for (const auto& p : d.params) {
    Object param{{"name", p.name},
                 {"type", to_string(p.type)},
                 {"description", p.description},
                 {"required", p.required}};
    if (!p.default_value.is_null()) param.set("default", p.default_value);
    if (!p.allowed.empty()) param.set("allowed", Array(p.allowed.begin(), p.allowed.end()));
    if (p.minimum) param.set("minimum", *p.minimum);
    if (p.maximum) param.set("maximum", *p.maximum);
    if (p.file_path) param.set("file_path", true);
    if (!p.file_keys.empty()) param.set("file_keys", Array(p.file_keys.begin(), p.file_keys.end()));
    if (p.secret) param.set("secret", true);
    params.push_back(std::move(param));
  }
  Object out{{"name", d.name},
             {"version", d.version},
             {"summary", d.summary},
             {"kind", to_string(d.kind)},
             {"inputs", ports(d.inputs)},
             {"outputs", ports(d.outputs)},
             {"params", std::move(params)},
             {"blocking", d.blocking},
             {"capabilities", Array(d.capabilities.begin(), d.capabilities.end())}};
  if (has_example(d)) {
    const auto& e = d.example;
    out.set("example", Object{{"description", e.description},
                              {"params", e.params},
                              {"input", e.input},
                              {"content_type", e.content_type},
                              {"output", e.output}});
  }
  return out;
}

// ---- Component defaults --------------------------------------------------------------------

void Component::process(Packet&, Emitter&) {
  throw std::logic_error("component implements neither process() nor run()");
}

void Component::run(RunContext& ctx) {
  Received received;
  while (ctx.receive(received)) {
    try {
      process(received.packet, ctx);
    } catch (const std::exception& e) {
      ctx.fail(std::move(received.packet), e.what());
    } catch (...) {
      ctx.fail(std::move(received.packet), "unknown exception");
    }
  }
  flush(ctx);
}

void Component::flush(Emitter&) {}

void Component::produce(SourceContext&) {
  throw std::logic_error("component is not a source: it implements no produce()");
}

}  // namespace sluice
