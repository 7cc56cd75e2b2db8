// What the graph tests share: a ComponentCatalog of a few in-test descriptors, so that
// validator tests need no plugin files (the registry's own tests load real .so files), and
// diagnostics as lines that doctest prints when a check fails.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "graph/graph_spec.hpp"

namespace sluice::testing {

class FakeCatalog : public ComponentCatalog {
 public:
  FakeCatalog() {
    add({.name = "json_adapter",
         .summary = "Parses a JSON body",
         .kind = ComponentKind::adapter});
    // A transformer with a required list, a ranged integer with a default and an enum.
    add({.name = "delete_field",
         .summary = "Deletes fields",
         .kind = ComponentKind::transformer,
         .params = {{.name = "fields",
                     .type = ParamType::string_list,
                     .description = "fields to delete",
                     .required = true},
                    {.name = "limit",
                     .type = ParamType::integer,
                     .description = "at most this many",
                     .default_value = 10,
                     .minimum = 1,
                     .maximum = 100},
                    {.name = "mode",
                     .type = ParamType::string,
                     .description = "what to do",
                     .default_value = "drop",
                     .allowed = {"drop", "mask"}}}});
    // An operator with two inputs and two outputs, none of them the default `in`/`out`.
    add({.name = "router",
         .summary = "Joins and splits",
         .kind = ComponentKind::operator_,
         .inputs = {{"left", "left side"}, {"right", "right side"}},
         .outputs = {{"matched", "joined packets"}, {"unmatched", "the rest"}}});
    add({.name = "ticker", .summary = "Makes a packet now and then", .kind = ComponentKind::source});
    add({.name = "jsonl_writer",
         .summary = "Writes JSON lines",
         .kind = ComponentKind::publisher,
         .params = {{.name = "path",
                     .type = ParamType::string,
                     .description = "file to append to",
                     .required = true,
                     .file_path = true}},
         .capabilities = {"fs_write"}});
    // A publisher with secrets (a map of headers and a single token) and files in an object.
    add({.name = "webhook",
         .summary = "Posts packets",
         .kind = ComponentKind::publisher,
         .params = {{.name = "headers", .type = ParamType::object, .description = "headers", .secret = true},
                    {.name = "token", .type = ParamType::string, .description = "token", .secret = true},
                    {.name = "url", .type = ParamType::string, .description = "where to"},
                    {.name = "tls",
                     .type = ParamType::object,
                     .description = "certificates",
                     .file_keys = {"ca_file", "client_key"}}},
         .capabilities = {"fs_read", "net"}});
  }

  std::shared_ptr<const ComponentDescriptor> find(std::string_view name) const override {
    auto it = components_.find(std::string(name));
    return it == components_.end() ? nullptr : it->second;
  }

  // json_adapter and ticker come from a plugin file (isolation: process may run them in a
  // host); the others are built into the test.
  std::optional<ComponentOrigin> origin(std::string_view name) const override {
    if (name != "json_adapter" && name != "ticker") return std::nullopt;
    return ComponentOrigin{"/plugins/libjson.so", "/cache/abc.so", "json", "1.0.0", std::string(name), "abc"};
  }

  std::vector<std::string> names() const override {
    std::vector<std::string> out;
    for (const auto& [name, descriptor] : components_) out.push_back(name);
    return out;  // std::map keeps them sorted
  }

 private:
  void add(ComponentDescriptor descriptor) {
    apply_port_defaults(descriptor);
    std::string name = descriptor.name;
    components_[name] = std::make_shared<const ComponentDescriptor>(std::move(descriptor));
  }

  std::map<std::string, std::shared_ptr<const ComponentDescriptor>> components_;
};

// Every diagnostic as `sluice check` prints it.
inline std::vector<std::string> formatted(const std::vector<Diagnostic>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(format(e));
  return out;
}

}  // namespace sluice::testing

// Failed checks on lists of lines print the lines, one per line.
template <>
struct doctest::StringMaker<std::vector<std::string>> {
  static doctest::String convert(const std::vector<std::string>& lines) {
    std::string out = "{";
    for (const auto& line : lines) out += "\n  " + line;
    out += lines.empty() ? "}" : "\n}";
    return out.c_str();
  }
};
