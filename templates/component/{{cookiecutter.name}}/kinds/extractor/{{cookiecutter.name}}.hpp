// {{cookiecutter.name}} — {{cookiecutter.summary}}.
// A sluice {{cookiecutter.kind}} by {{cookiecutter.author}}.
//
// descriptor() is what the kernel validates graph params against and what
// `sluice plugins describe {{cookiecutter.name}}`, GET /v1/components and the editor show: when you
// change what the component does, change its summary, ports and params there first.
#pragma once

#include <cctype>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/component.hpp>

namespace {{cookiecutter.name}} {

// Puts the distinct hashtags of the text at `field` into the list `into`, without the '#' and
// in the order they first appear: "#sluice is #fast, #sluice" → ["sluice", "fast"]. Like the
// bundled extractors (email, url, regex_extract), it adds what it finds and changes nothing
// else; a text without tags gets an empty list, a packet without the text passes unchanged.
class {{cookiecutter.class_name}} final : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {
        .name = "{{cookiecutter.name}}",
        .version = "{{cookiecutter.version}}",
        .summary = "{{cookiecutter.summary}}",
        .kind = sluice::ComponentKind::extractor,
        // Typed params: the kernel checks a graph's values against these before the graph
        // runs (unknown names get a did-you-mean), and fills in the defaults.
        .params = {
            {.name = "field",
             .type = sluice::ParamType::string,
             .description = "field path of the text to search, e.g. body or doc.text",
             .default_value = "text"},
            {.name = "into",
             .type = sluice::ParamType::string,
             .description = "field path that receives the list of tags",
             .default_value = "hashtags"},
        },
        // Shown by `sluice plugins describe` and GET /v1/components: what it does, by example.
        .example = {.description = "Collects the hashtags of a text, each once",
                    .input = R"({"text": "#sluice moves #data, #sluice"})",
                    .output = R"({"text": "#sluice moves #data, #sluice", "hashtags": ["sluice", "data"]})"}};
  }

  // Runs once per graph instance, before any packet: expensive setup (compiling patterns,
  // loading a word list) belongs here.
  explicit {{cookiecutter.class_name}}(const sluice::Params& params)
      : field_(params.get_string("field")), into_(params.get_string("into")) {}

  void process(sluice::Packet& packet, sluice::Emitter& emit) override {
    if (const sluice::Value* text = packet.find_path(field_)) {
      // A throw sends this packet to the node's `error` port (or the graph's dead letters) with
      // the message in its metadata; the graph keeps running.
      if (!text->is_string())
        throw std::invalid_argument("field '" + field_.text() + "' is " + text->type_name() + ", not a string");
      sluice::Array tags;
      for (std::string& tag : hashtags(text->as_string())) tags.emplace_back(std::move(tag));
      if (!packet.set_path(into_, std::move(tags)))
        throw std::invalid_argument("cannot set '" + into_.text() + "': a step of the path is not an object");
    }
    emit(std::move(packet));
  }

  // A tag is a '#' and the letters, digits and '_' after it. The bytes of UTF-8 sequences
  // count as letters, so that "#café" stays whole; a '#' inside a word ("C#", "a#b") is none.
  static std::vector<std::string> hashtags(std::string_view text) {
    std::vector<std::string> tags;
    std::set<std::string, std::less<>> seen;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '#' || (i > 0 && in_tag(text[i - 1]))) continue;
      std::size_t end = i + 1;
      while (end < text.size() && in_tag(text[end])) ++end;
      const std::string_view tag = text.substr(i + 1, end - i - 1);
      if (!tag.empty() && seen.emplace(tag).second) tags.emplace_back(tag);
      i = end - 1;
    }
    return tags;
  }

 private:
  static bool in_tag(char c) {
    const auto byte = static_cast<unsigned char>(c);
    return std::isalnum(byte) || byte == '_' || byte >= 0x80;
  }

  sluice::FieldPath field_;  // parsed once, not per packet
  sluice::FieldPath into_;
};

}  // namespace {{cookiecutter.name}}
