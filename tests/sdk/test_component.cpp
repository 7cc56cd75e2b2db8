// The component API: descriptors, parameter tables and their validation.
#include <doctest/doctest.h>

#include <sluice/component.hpp>
#include <sluice/descriptor_rules.hpp>
#include <sluice/json.hpp>

using namespace sluice;

namespace {

ComponentDescriptor regex_like() {
  ComponentDescriptor d{
      .name = "regex_extract",
      .summary = "pulls matches out of a field",
      .kind = ComponentKind::extractor,
      .params = {
          {.name = "field", .type = ParamType::string, .description = "field to search", .required = true},
          {.name = "pattern", .type = ParamType::string, .description = "regular expression", .required = true},
          {.name = "into", .type = ParamType::string, .description = "where matches go", .default_value = "matches"},
          {.name = "max", .type = ParamType::integer, .description = "most matches", .default_value = 10,
           .minimum = 1, .maximum = 1000},
          {.name = "mode", .type = ParamType::string, .description = "first or all", .default_value = "all",
           .allowed = {"first", "all"}},
          {.name = "fields", .type = ParamType::string_list, .description = "extra fields"},
      }};
  d.create = [](const Params&, std::string&) { return std::unique_ptr<Component>(); };
  apply_port_defaults(d);
  return d;
}

std::vector<std::string> messages(const std::vector<ParamError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.param + ": " + e.message);
  return out;
}

}  // namespace

TEST_CASE("valid params get their defaults filled in") {
  Object resolved;
  auto errors = validate_params(regex_like(), Object{{"field", "body"}, {"pattern", "a+"}, {"fields", "x"}}, resolved);
  CHECK(errors.empty());
  CHECK(resolved.find("into")->as_string() == "matches");
  CHECK(resolved.find("max")->as_int() == 10);
  CHECK(resolved.find("mode")->as_string() == "all");
  // A single string is a list of one.
  CHECK(*resolved.find("fields") == Value(Array{"x"}));
  Params params(std::move(resolved));
  CHECK(params.get_string("field") == "body");
  CHECK(params.get_int("max") == 10);
  CHECK(params.get_string_list("fields") == std::vector<std::string>{"x"});
  CHECK(params.has("pattern"));
  CHECK_FALSE(params.has("nope"));
  CHECK(params.get_int("nope", 7) == 7);
  CHECK_THROWS_WITH_AS(params.get_int("field"), "param 'field': expected integer, got string",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(params.get("nope"), "param 'nope' is not set", std::invalid_argument);
}

TEST_CASE("every param error is collected, with a did-you-mean for unknown keys") {
  Object resolved;
  auto errors = validate_params(
      regex_like(), Object{{"feild", "body"}, {"max", 0}, {"mode", "some"}, {"into", 3}, {"zzzzzz", 1}},
      resolved);
  CHECK(messages(errors) ==
        std::vector<std::string>{
            "feild: unknown param 'feild' (did you mean 'field'?)",
            "zzzzzz: unknown param 'zzzzzz' (regex_extract takes: field, pattern, into, max, mode, fields)",
            "field: missing required param 'field' (string: field to search)",
            "pattern: missing required param 'pattern' (string: regular expression)",
            "into: param 'into' must be string, got integer",
            "max: param 'max' must be at least 1, got 0",
            "mode: param 'mode' must be one of first, all, got some",
        });
}

TEST_CASE("numbers: integers are numbers, not the other way round; ranges apply to both") {
  ComponentDescriptor d{.name = "n", .summary = "s",
                        .params = {{.name = "rate", .type = ParamType::number, .description = "r",
                                    .maximum = 1.0},
                                   {.name = "count", .type = ParamType::integer, .description = "c"}}};
  Object resolved;
  CHECK(validate_params(d, Object{{"rate", 1}, {"count", 2}}, resolved).empty());
  CHECK(messages(validate_params(d, Object{{"rate", 1.5}, {"count", 2.5}}, resolved)) ==
        std::vector<std::string>{"rate: param 'rate' must be at most 1, got 1.5",
                                 "count: param 'count' must be integer, got number"});
}

TEST_CASE("a descriptor that breaks its own table is reported") {
  ComponentDescriptor d{
      .name = "bad-name",
      .summary = "",
      .kind = ComponentKind::publisher,
      .outputs = {{"out", ""}},
      .params = {{.name = "max", .type = ParamType::integer, .description = "m", .default_value = 0,
                  .minimum = 1},
                 {.name = "max", .type = ParamType::integer, .description = "again"},
                 {.name = "mode", .type = ParamType::string, .description = "", .allowed = {1}}},
  };
  auto problems = check_descriptor(d);
  CHECK(problems == std::vector<std::string>{
                        "component name 'bad-name' is not an identifier (letters, digits, _; not starting with a digit)",
                        "component 'bad-name': has no summary",
                        "component 'bad-name': has no factory (use sluice::describe<T>())",
                        "component 'bad-name': is a publisher but declares out ports",
                        "component 'bad-name': param 'max': default must be at least 1, got 0",
                        "component 'bad-name': duplicate param 'max'",
                        "component 'bad-name': param 'mode': has no description",
                        "component 'bad-name': param 'mode': allowed value 1 is not a string",
                    });
  CHECK(check_descriptor(regex_like()).empty());
}

TEST_CASE("a source has no inputs and one output by default, and may declare no more") {
  ComponentDescriptor d = regex_like();
  d.kind = ComponentKind::source;
  d.inputs.clear();
  d.outputs.clear();
  apply_port_defaults(d);
  CHECK(d.inputs.empty());
  REQUIRE(d.outputs.size() == 1);
  CHECK(d.outputs[0].name == "out");
  CHECK(check_descriptor(d).empty());
  CHECK(parse_component_kind("source") == ComponentKind::source);

  d.inputs = {{"in", ""}};
  d.outputs.push_back({"more", ""});
  d.blocking = true;
  const std::string who = "component '" + d.name + "': ";
  CHECK(check_descriptor(d) ==
        std::vector<std::string>{who + "is a source but declares in ports",
                                 who + "is a source and may declare only one out port",
                                 who + "is a source: it runs on a thread of its own, so 'blocking' does not apply"});
}

TEST_CASE("an example says what it shows, and its JSON lines are objects") {
  ComponentDescriptor d = regex_like();
  CHECK_FALSE(has_example(d));
  d.example = {.description = "Finds the first number", .params = "field: text", .input = "{\"text\": \"a 1\"}\n\n",
               .output = "{\"text\": \"a 1\", \"n\": \"1\"}"};
  CHECK(has_example(d));
  CHECK(check_descriptor(d).empty());
  CHECK(descriptor_to_json(d).get("example")->get("params")->as_string() == "field: text");
  d.example = {.input = "{\"ok\": 1}\n[1]\n{oops", .content_type = "", .output = "\"text\""};
  const auto problems = check_descriptor(d);
  REQUIRE(problems.size() == 4);
  CHECK(problems[0] == "component 'regex_extract': example has no description");
  CHECK(problems[1] == "component 'regex_extract': example input line 2 is not a JSON object");
  CHECK(problems[2].starts_with("component 'regex_extract': example input line 3: "));
  CHECK(problems[3] == "component 'regex_extract': example output line 1 is not a JSON object");
  d.example = {.description = "Raw", .content_type = "text/csv"};
  CHECK(check_descriptor(d) == std::vector<std::string>{"component 'regex_extract': example has a content_type but no input"});
}

TEST_CASE("capabilities are known names, and a file_path param needs fs_read or fs_write") {
  ComponentDescriptor d = regex_like();
  d.capabilities = {"net", "disk", "net"};
  d.params.push_back({.name = "out", .type = ParamType::string, .description = "file", .file_path = true});
  d.params.push_back({.name = "many", .type = ParamType::string_list, .description = "files", .file_path = true});
  CHECK(check_descriptor(d) ==
        std::vector<std::string>{
            "component 'regex_extract': unknown capability 'disk' (known: fs_read, fs_write, net)",
            "component 'regex_extract': duplicate capability 'net'",
            "component 'regex_extract': param 'out': is a file_path, but the component declares neither "
            "capability fs_read nor fs_write",
            "component 'regex_extract': param 'many': a file_path param has type string",
            "component 'regex_extract': param 'many': is a file_path, but the component declares neither "
            "capability fs_read nor fs_write",
        });
  d.capabilities = {"fs_write"};
  d.params.pop_back();
  CHECK(check_descriptor(d).empty());

  // Files inside an object param: file_keys, on an object, with a file capability.
  d.capabilities = {"net"};
  d.params = {{.name = "tls", .type = ParamType::object, .description = "tls", .file_keys = {"ca_file"}},
              {.name = "ca", .type = ParamType::string, .description = "ca", .file_keys = {"x"}}};
  CHECK(check_descriptor(d) ==
        std::vector<std::string>{
            "component 'regex_extract': param 'tls': has file_keys, but the component declares neither capability "
            "fs_read nor fs_write",
            "component 'regex_extract': param 'ca': file_keys need type object",
            "component 'regex_extract': param 'ca': has file_keys, but the component declares neither capability "
            "fs_read nor fs_write",
        });
  d.capabilities = {"fs_read", "net"};
  d.params.pop_back();
  CHECK(check_descriptor(d).empty());
  CHECK(descriptor_to_json(d).get("params")->as_array()[0].get("file_keys")->as_array() == Array{"ca_file"});
}

TEST_CASE("a secret's value is not repeated in its param errors") {
  ComponentDescriptor d = regex_like();
  d.params = {{.name = "key", .type = ParamType::string, .description = "api key", .allowed = {"a", "b"},
               .secret = true},
              {.name = "pin", .type = ParamType::integer, .description = "pin", .maximum = 9999, .secret = true}};
  Object resolved;
  CHECK(messages(validate_params(d, Object{{"key", "hunter2"}, {"pin", 123456}}, resolved)) ==
        std::vector<std::string>{"key: param 'key' must be one of a, b, got ***",
                                 "pin: param 'pin' must be at most 9999, got ***"});
}

TEST_CASE("port defaults: in and out, publishers have no out") {
  ComponentDescriptor t{.name = "t", .summary = "s"};
  apply_port_defaults(t);
  REQUIRE(t.inputs.size() == 1);
  CHECK(t.inputs[0].name == "in");
  REQUIRE(t.outputs.size() == 1);
  CHECK(t.outputs[0].name == "out");
  ComponentDescriptor p{.name = "p", .summary = "s", .kind = ComponentKind::publisher};
  apply_port_defaults(p);
  CHECK(p.outputs.empty());
}

TEST_CASE("closest_match offers a hint only when it is close") {
  const std::vector<std::string> names{"delete_field", "rename_field", "json_adapter"};
  CHECK(closest_match("delete_feild", names) == "delete_field");
  CHECK(closest_match("json_adaptor", names) == "json_adapter");
  CHECK(closest_match("xml", names) == "");
}

TEST_CASE("kinds and types have names") {
  CHECK(std::string(to_string(ComponentKind::operator_)) == "operator");
  CHECK(parse_component_kind("publisher") == ComponentKind::publisher);
  CHECK_FALSE(parse_component_kind("sink"));
  CHECK(std::string(to_string(ParamType::string_list)) == "string_list");
}

TEST_CASE("the JSON form of a descriptor carries ports and the typed table") {
  Value doc = descriptor_to_json(regex_like());
  CHECK(doc.get("name")->as_string() == "regex_extract");
  CHECK(doc.get("kind")->as_string() == "extractor");
  CHECK(doc.find_path("inputs[0].name")->as_string() == "in");
  CHECK(doc.find_path("outputs[0].name")->as_string() == "out");
  const Value& max = doc.get("params")->as_array()[3];
  CHECK(max.get("name")->as_string() == "max");
  CHECK(max.get("type")->as_string() == "integer");
  CHECK(max.get("default")->as_int() == 10);
  CHECK(max.get("minimum")->as_double() == 1);
  CHECK(doc.get("params")->as_array()[4].get("allowed")->as_array().size() == 2);
  CHECK(doc.get("params")->as_array()[0].get("required")->as_bool());
  CHECK(doc.get("capabilities")->as_array().empty());

  ComponentDescriptor writer = regex_like();
  writer.capabilities = {"fs_write"};
  writer.params[0].file_path = true;
  writer.params[1].secret = true;
  doc = descriptor_to_json(writer);
  CHECK(doc.get("capabilities")->as_array().at(0).as_string() == "fs_write");
  CHECK(doc.get("params")->as_array()[0].get("file_path")->as_bool());
  CHECK(doc.get("params")->as_array()[1].get("secret")->as_bool());
  CHECK(doc.get("params")->as_array()[2].get("secret") == nullptr);
}
