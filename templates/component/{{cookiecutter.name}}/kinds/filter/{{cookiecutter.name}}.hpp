// {{cookiecutter.name}} — {{cookiecutter.summary}}.
// A sluice {{cookiecutter.kind}} by {{cookiecutter.author}}.
//
// descriptor() is what the kernel validates graph params against and what
// `sluice plugins describe {{cookiecutter.name}}`, GET /v1/components and the editor show: when you
// change what the component does, change its summary, ports and params there first.
#pragma once

#include <functional>
#include <set>
#include <stdexcept>
#include <string>

#include <sluice/component.hpp>

namespace {{cookiecutter.name}} {

// Passes a packet when the value at `field` equals one of `values` (or, with `invert`, when it
// does not); drops the others.
class {{cookiecutter.class_name}} final : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {
        .name = "{{cookiecutter.name}}",
        .version = "{{cookiecutter.version}}",
        .summary = "{{cookiecutter.summary}}",
        .kind = sluice::ComponentKind::filter,
        // Typed params: the kernel checks a graph's values against these before the graph
        // runs (unknown names get a did-you-mean), and fills in the defaults.
        .params = {
            {.name = "field",
             .type = sluice::ParamType::string,
             .description = "field path to look at, e.g. lang or user.country",
             .required = true},
            {.name = "values",
             .type = sluice::ParamType::string_list,
             .description = "a packet passes when its field equals one of these (numbers and "
                            "booleans compare as their JSON text, e.g. 42 or true)",
             .required = true},
            {.name = "invert",
             .type = sluice::ParamType::boolean,
             .description = "pass the packets that do not match instead",
             .default_value = false},
        },
        // Shown by `sluice plugins describe` and GET /v1/components: what it does, by example.
        .example = {.description = "Passes English and German packets, drops the others",
                    .params = R"(field: lang
values: [en, de])",
                    .input = R"({"lang": "en", "text": "hello"}
{"lang": "fr", "text": "bonjour"})",
                    .output = R"({"lang": "en", "text": "hello"})"}};
  }

  // Runs once per graph instance, before any packet: expensive setup (loading a model,
  // compiling patterns) belongs here. A throw here fails the deploy with this message.
  explicit {{cookiecutter.class_name}}(const sluice::Params& params)
      : field_(params.get_string("field")), invert_(params.get_bool("invert")) {
    for (auto& value : params.get_string_list("values")) values_.insert(std::move(value));
    if (values_.empty()) throw std::invalid_argument("param 'values' is empty: nothing could pass");
  }

  void process(sluice::Packet& packet, sluice::Emitter& emit) override {
    const sluice::Value* value = packet.find_path(field_);
    // A packet without the field matches no value.
    const bool matches = value && values_.contains(value->to_display_string());
    if (matches != invert_) emit(std::move(packet));
  }

 private:
  sluice::FieldPath field_;  // parsed once, not per packet
  std::set<std::string, std::less<>> values_;
  bool invert_;
};

}  // namespace {{cookiecutter.name}}
