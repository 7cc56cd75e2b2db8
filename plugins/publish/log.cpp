#include "log.hpp"

#include <sluice/json.hpp>

#include "stderr_writer.hpp"

namespace sluice::publish {

ComponentDescriptor Log::descriptor() {
  return {.name = "log",
          .version = "1.0.0",
          .summary = "Prints each packet to stderr as JSON",
          .kind = ComponentKind::publisher,
          .params = {{.name = "prefix",
                      .type = ParamType::string,
                      .description = "text printed before each packet, e.g. the node's purpose",
                      .default_value = ""},
                     {.name = "meta",
                      .type = ParamType::boolean,
                      .description = "print the envelope (fields, meta, field_meta) instead of "
                                     "the fields only",
                      .default_value = false},
                     {.name = "pretty",
                      .type = ParamType::boolean,
                      .description = "indent the JSON over several lines; false prints one line",
                      .default_value = true}},
          .example = {.description = "Prints each packet on one line of stderr, after a prefix",
                      .params = R"(prefix: "rejected: "
pretty: false)"}};
}

Log::Log(const Params& params)
    : prefix_(params.get_string("prefix")),
      meta_(params.get_bool("meta")),
      pretty_(params.get_bool("pretty")) {}

void Log::process(Packet& packet, Emitter&) {
  line_ = prefix_;
  if (!prefix_.empty()) line_ += ' ';
  const Value shown = meta_ ? Value(Object{{"fields", packet.fields()},
                                             {"meta", packet.meta()},
                                             {"field_meta", packet.field_meta()}})
                            : Value(packet.fields());
  if (pretty_)
    json::write_pretty(shown, line_);
  else
    json::write(shown, line_);
  line_ += '\n';
  write_stderr(line_);
}

}  // namespace sluice::publish
