// {{cookiecutter.name}} — {{cookiecutter.summary}}.
// A sluice {{cookiecutter.kind}} by {{cookiecutter.author}}.
//
// descriptor() is what the kernel validates graph params against and what
// `sluice plugins describe {{cookiecutter.name}}`, GET /v1/components and the editor show: when you
// change what the component does, change its summary, ports and params there first.
#pragma once

#include <cctype>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <sluice/component.hpp>

namespace {{cookiecutter.name}} {

// Sets `into` to the number of whitespace-separated words in the text at `field`.
class {{cookiecutter.class_name}} final : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {
        .name = "{{cookiecutter.name}}",
        .version = "{{cookiecutter.version}}",
        .summary = "{{cookiecutter.summary}}",
        .kind = sluice::ComponentKind::transformer,
        // Typed params: the kernel checks a graph's values against these before the graph
        // runs (unknown names get a did-you-mean), and fills in the defaults.
        .params = {
            {.name = "field",
             .type = sluice::ParamType::string,
             .description = "field path of the text to count, e.g. body or doc.text",
             .default_value = "text"},
            {.name = "into",
             .type = sluice::ParamType::string,
             .description = "field path that receives the count",
             .default_value = "words"},
        },
        // Shown by `sluice plugins describe` and GET /v1/components: what it does, by example.
        .example = {.description = "Counts the words of a body",
                    .params = "field: body",
                    .input = R"({"body": "three little words"})",
                    .output = R"({"body": "three little words", "words": 3})"}};
  }

  // Runs once per graph instance, before any packet: expensive setup (loading a model,
  // compiling patterns) belongs here.
  explicit {{cookiecutter.class_name}}(const sluice::Params& params)
      : field_(params.get_string("field")), into_(params.get_string("into")) {}

  void process(sluice::Packet& packet, sluice::Emitter& emit) override {
    // A packet without the text passes on unchanged, as the bundled transforms do: one graph
    // often carries packets of several shapes.
    if (const sluice::Value* text = packet.find_path(field_)) {
      // A throw sends this packet to the node's `error` port (or the graph's dead letters) with
      // the message in its metadata; the graph keeps running.
      if (!text->is_string())
        throw std::invalid_argument("field '" + field_.text() + "' is " + text->type_name() + ", not a string");
      if (!packet.set_path(into_, count_words(text->as_string())))
        throw std::invalid_argument("cannot set '" + into_.text() + "': a step of the path is not an object");
    }
    emit(std::move(packet));
  }

  static std::int64_t count_words(std::string_view text) {
    std::int64_t words = 0;
    bool in_word = false;
    for (const char c : text) {
      const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
      if (!space && !in_word) ++words;
      in_word = !space;
    }
    return words;
  }

 private:
  sluice::FieldPath field_;  // parsed once, not per packet
  sluice::FieldPath into_;
};

}  // namespace {{cookiecutter.name}}
