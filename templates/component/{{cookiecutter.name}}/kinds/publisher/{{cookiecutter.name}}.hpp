// {{cookiecutter.name}} — {{cookiecutter.summary}}.
// A sluice {{cookiecutter.kind}} by {{cookiecutter.author}}.
//
// descriptor() is what the kernel validates graph params against and what
// `sluice plugins describe {{cookiecutter.name}}`, GET /v1/components and the editor show: when you
// change what the component does, change its summary, ports and params there first.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include <sluice/component.hpp>
#include <sluice/json.hpp>

namespace {{cookiecutter.name}} {

// Appends each packet to a file: its fields as one JSON line, or only the text of `field`.
class {{cookiecutter.class_name}} final : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {
        .name = "{{cookiecutter.name}}",
        .version = "{{cookiecutter.version}}",
        .summary = "{{cookiecutter.summary}}",
        .kind = sluice::ComponentKind::publisher,
        // Typed params: the kernel checks a graph's values against these before the graph
        // runs (unknown names get a did-you-mean), and fills in the defaults.
        .params = {
            {.name = "path",
             .type = sluice::ParamType::string,
             .description = "file to append to; it and its directories are created",
             .required = true},
            {.name = "field",
             .type = sluice::ParamType::string,
             .description = "write only this field's value as text; empty: the whole packet as JSON",
             .default_value = ""},
        },
        // write() may block on a slow disk: the runtime then calls process() on its I/O pool
        // so that the other components on this worker keep running.
        .blocking = true,
        // Shown by `sluice plugins describe` and GET /v1/components: what it does, by example.
        .example = {.description = "Appends each packet to events.jsonl in the data directory",
                    .params = "path: events.jsonl"}};
  }

  // Runs once per graph instance, before any packet. A throw here fails the deploy with this
  // message, so a bad path is reported before any data flows.
  explicit {{cookiecutter.class_name}}(const sluice::Params& params)
      : path_(params.get_string("path")), field_(params.get_string("field")) {
    const auto parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open '" + path_ + "'");
  }
  ~{{cookiecutter.class_name}}() override { ::close(fd_); }
  {{cookiecutter.class_name}}(const {{cookiecutter.class_name}}&) = delete;
  {{cookiecutter.class_name}}& operator=(const {{cookiecutter.class_name}}&) = delete;

  void process(sluice::Packet& packet, sluice::Emitter&) override {
    std::string line;
    if (field_.text().empty()) {
      sluice::json::write_fields(packet, line);
    } else if (const sluice::Value* value = packet.find_path(field_)) {
      line = value->to_display_string();
    } else {
      // A throw sends this packet to the node's `error` port (or the graph's dead letters).
      throw std::invalid_argument("field '" + field_.text() + "' is missing");
    }
    line += '\n';
    write_line(line);
  }

 private:
  // Every graph instance (one per worker) appends to the same file: one write() per line on
  // an O_APPEND descriptor keeps their lines whole instead of interleaving buffer pieces.
  void write_line(std::string_view line) {
    while (!line.empty()) {
      const ssize_t n = ::write(fd_, line.data(), line.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::system_error(errno, std::generic_category(), "cannot write '" + path_ + "'");
      line.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  std::string path_;
  sluice::FieldPath field_;  // parsed once, not per packet; no text: the whole packet
  int fd_ = -1;
};

}  // namespace {{cookiecutter.name}}
