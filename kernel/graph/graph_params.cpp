// What the kernel does to param values between validation and the component: file paths
// resolved under the server's path policy, secret references replaced, secrets masked for
// display. docs/security.md says why; docs/graphs.md shows the syntax.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>

#include "graph/graph_spec.hpp"
#include "support/files.hpp"

namespace sluice {

namespace {

namespace fs = std::filesystem;

bool is_within(const fs::path& path, const fs::path& root) {
  const fs::path relative = path.lexically_relative(root);
  return !relative.empty() && *relative.begin() != "..";
}

std::string directories(const std::vector<fs::path>& roots) {
  std::string out;
  for (const auto& root : roots) out += (out.empty() ? "" : ", ") + root.string();
  return out;
}

// One ${env:NAME} or ${file:PATH} in a string: [start, end) is the whole reference.
struct Reference {
  std::size_t start = std::string::npos, end = 0;
  std::string_view kind, argument;  // "env" or "file"; NAME or PATH
};

Reference find_reference(std::string_view text, std::size_t from) {
  for (std::size_t start = text.find("${", from); start != std::string_view::npos;
       start = text.find("${", start + 2)) {
    const std::size_t close = text.find('}', start);
    if (close == std::string_view::npos) break;
    const std::string_view inside = text.substr(start + 2, close - start - 2);
    for (std::string_view kind : {"env", "file"})
      if (inside.size() > kind.size() + 1 && inside.substr(0, kind.size()) == kind &&
          inside[kind.size()] == ':')
        return {start, close + 1, kind, inside.substr(kind.size() + 1)};
  }
  return {};
}

std::string reference_value(const Reference& reference, const PathPolicy& policy) {
  const std::string written = "${" + std::string(reference.kind) + ":" + std::string(reference.argument) + "}";
  const std::string argument(reference.argument);
  if (reference.kind == "env") {
    const char* value = std::getenv(argument.c_str());
    if (!value) throw std::invalid_argument(written + ": the server has no environment variable " + argument);
    return value;
  }
  fs::path file;
  try {
    file = resolve_file_path(argument, policy);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(written + ": " + e.what());
  }
  std::string content;
  try {
    content = read_file(file);
  } catch (const std::system_error& e) {
    throw std::invalid_argument(written + ": " + e.what());
  }
  if (!content.empty() && content.back() == '\n') content.pop_back();
  if (!content.empty() && content.back() == '\r') content.pop_back();
  return content;
}

std::string resolve_references(const std::string& text, const PathPolicy& policy) {
  if (text == "***")
    throw std::invalid_argument("holds \"***\", which is how a secret is shown, not a value: write the "
                                "value, or a ${env:NAME} or ${file:PATH} reference");
  std::string out;
  std::size_t done = 0;
  for (Reference r = find_reference(text, 0); r.start != std::string::npos; r = find_reference(text, done)) {
    out.append(text, done, r.start - done);
    out += reference_value(r, policy);
    done = r.end;
  }
  out.append(text, done);
  return out;
}

// `value` with every scalar inside its arrays and objects replaced by leaf(scalar).
template <class Leaf>
Value map_leaves(const Value& value, const Leaf& leaf) {
  if (value.is_array()) {
    Array items;
    for (const auto& item : value.as_array()) items.push_back(map_leaves(item, leaf));
    return items;
  }
  if (value.is_object()) {
    Object members;
    for (const auto& [key, member] : value.as_object()) members.append_unchecked(key, map_leaves(member, leaf));
    return members;
  }
  return leaf(value);
}

}  // namespace

fs::path resolve_file_path(std::string_view path, const PathPolicy& policy) {
  const std::string text(path);
  if (text.empty()) throw std::invalid_argument("the path is empty");
  fs::path absolute(text);
  if (absolute.is_relative()) absolute = (policy.base.empty() ? fs::current_path() : policy.base) / absolute;
  std::error_code ec;
  const fs::path resolved = fs::weakly_canonical(absolute, ec);
  if (ec) throw std::invalid_argument("'" + text + "' cannot be resolved: " + ec.message());
  if (policy.roots.empty()) return resolved;
  for (const auto& root : policy.roots)
    if (is_within(resolved, root)) return resolved;
  throw std::invalid_argument("'" + text + "' resolves to " + resolved.string() +
                              ", outside the directories files may be in (" + directories(policy.roots) +
                              "); an operator allows another with `sluice serve --allow-path DIR`");
}

Value resolve_secret(const Value& value, const PathPolicy& policy) {
  return map_leaves(value, [&](const Value& leaf) {
    return leaf.is_string() ? Value(resolve_references(leaf.as_string(), policy)) : leaf;
  });
}

GraphSpec shown_spec(const GraphPlan& plan) {
  GraphSpec shown = plan.spec;
  bool changed = false;
  for (NodeSpec& node : shown.nodes) {
    const auto planned = std::find_if(plan.nodes.begin(), plan.nodes.end(),
                                      [&](const PlannedNode& p) { return p.id == node.id; });
    if (planned == plan.nodes.end()) continue;
    for (const ParamSpec& param : planned->component->params)
      if (Value* value = node.params.find(param.name); value && param.secret)
        *value = map_leaves(*value, [&](const Value& leaf) {
          // A reference says where the secret is, not what it is.
          const bool visible = leaf.is_null() || (leaf.is_string() && find_reference(leaf.as_string(), 0).start !=
                                                                          std::string::npos);
          changed = changed || !visible;
          return visible ? leaf : Value("***");
        });
  }
  if (changed) shown.yaml_text.clear();
  return shown;
}

}  // namespace sluice
