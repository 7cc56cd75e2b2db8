// {{cookiecutter.name}} — {{cookiecutter.summary}}.
// A sluice {{cookiecutter.kind}} by {{cookiecutter.author}}.
//
// descriptor() is what the kernel validates graph params against and what
// `sluice plugins describe {{cookiecutter.name}}`, GET /v1/components and the editor show: when you
// change what the component does, change its summary, ports and params there first.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/component.hpp>

namespace {{cookiecutter.name}} {

// Turns a raw text packet (a POST body, or `sluice run --content-type`: its bytes in field
// `data`, its type in the `mimetype` meta) into one packet per line: {"line": "...",
// "line_number": n}, with the raw packet's metadata. As every adapter does, it converts only
// the packets of its `mimetypes` and passes the others on unchanged by `unmatched`, where a
// graph can hand them to another adapter.
class {{cookiecutter.class_name}} final : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {
        .name = "{{cookiecutter.name}}",
        .version = "{{cookiecutter.version}}",
        .summary = "{{cookiecutter.summary}}",
        .kind = sluice::ComponentKind::adapter,
        .outputs = {
            {"out", "one packet per line: the line and its 1-based number"},
            {"unmatched", "packets of another (or no) mimetype, unchanged"},
        },
        // Typed params: the kernel checks a graph's values against these before the graph
        // runs (unknown names get a did-you-mean), and fills in the defaults.
        .params = {
            {.name = "mimetypes",
             .type = sluice::ParamType::string_list,
             .description = "packets whose `mimetype` meta is one of these are split (`type/*` "
                            "matches a whole type; parameters such as charset are ignored); "
                            "others go to unmatched",
             .default_value = sluice::Array{"text/plain"}},
            {.name = "field",
             .type = sluice::ParamType::string,
             .description = "field holding the raw text",
             .default_value = "data"},
            {.name = "into",
             .type = sluice::ParamType::string,
             .description = "field of each output packet that receives the line",
             .default_value = "line"},
            {.name = "skip_blank",
             .type = sluice::ParamType::boolean,
             .description = "leave out lines that are empty or only whitespace",
             .default_value = true},
        },
        // Shown by `sluice plugins describe` and GET /v1/components: what it does, by example.
        .example = {.description = "A packet per line of a text, with its number; blank lines are left out",
                    .input = R"(first

second
)",
                    .content_type = "text/plain",
                    .output = R"({"line": "first", "line_number": 1}
{"line": "second", "line_number": 3})"}};
  }

  // Runs once per graph instance, before any packet: expensive setup belongs here.
  explicit {{cookiecutter.class_name}}(const sluice::Params& params)
      : field_(params.get_string("field")),
        into_(params.get_string("into")),
        skip_blank_(params.get_bool("skip_blank")) {
    for (const std::string& mimetype : params.get_string_list("mimetypes"))
      mimetypes_.push_back(base_mimetype(mimetype));
  }

  void process(sluice::Packet& packet, sluice::Emitter& emit) override {
    if (!accepts(packet)) {
      emit("unmatched", std::move(packet));
      return;
    }
    // A body that is not UTF-8 arrives base64-encoded; bytes() gives it back as it was. It
    // throws when the field is missing or not text: a throw sends this packet to the node's
    // `error` port (or the graph's dead letters), and the graph keeps running.
    std::string scratch;
    std::string_view rest = packet.bytes(field_, scratch);
    std::int64_t number = 0;
    while (!rest.empty()) {
      const auto end = rest.find('\n');
      std::string_view line = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      ++number;
      if (line.ends_with('\r')) line.remove_suffix(1);
      if (skip_blank_ && line.find_first_not_of(" \t\f\v") == std::string_view::npos) continue;
      sluice::Packet out;
      out.set(into_, line);
      out.set("line_number", number);
      // Keeps where the line came from (stream, filename, ...) on every line.
      out.meta() = packet.meta();
      emit(std::move(out));
    }
  }

  // `Text/Plain; charset=utf-8` → `text/plain`.
  static std::string base_mimetype(std::string_view mimetype) {
    mimetype = mimetype.substr(0, mimetype.find(';'));
    std::string base;
    for (const char c : mimetype)
      if (!std::isspace(static_cast<unsigned char>(c)))
        base += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return base;
  }

 private:
  bool accepts(const sluice::Packet& packet) const {
    const sluice::Value* mimetype = packet.get_meta("mimetype");
    if (!mimetype || !mimetype->is_string()) return false;
    const std::string type = base_mimetype(mimetype->as_string());
    return std::any_of(mimetypes_.begin(), mimetypes_.end(), [&](const std::string& pattern) {
      return pattern == type || pattern == "*/*" ||
             (pattern.ends_with("/*") && type.starts_with(pattern.substr(0, pattern.size() - 1)));
    });
  }

  std::vector<std::string> mimetypes_;
  std::string field_;
  std::string into_;
  bool skip_blank_;
};

}  // namespace {{cookiecutter.name}}
