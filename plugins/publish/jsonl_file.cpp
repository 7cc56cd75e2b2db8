#include "jsonl_file.hpp"

#include <sluice/json.hpp>

namespace sluice::publish {

ComponentDescriptor JsonlFile::descriptor() {
  return {.name = "jsonl_file",
          .version = "1.0.0",
          .summary = "Appends each packet as one JSON line; many workers may share one file",
          .kind = ComponentKind::publisher,
          .params = with_file_params(
              {{.name = "format",
                .type = ParamType::string,
                .description = "fields: the packet's fields as a JSON object; envelope: "
                               "{\"fields\",\"meta\",\"field_meta\"} (keeps metadata)",
                .default_value = "fields",
                .allowed = {"fields", "envelope"}}}),
          .capabilities = {"fs_write"},
          .example = {.description = "Appends each packet to a JSON-lines file of the data directory, a new file every 64 MiB, synced once a second",
                      .params = R"(path: archive/events.jsonl
rotate_bytes: 67108864
fsync: interval)"}};
}

JsonlFile::JsonlFile(const Params& params)
    : LineFileSink(params, ""), envelope_(params.get_string("format") == "envelope") {}

void JsonlFile::append_line(const Packet& packet, std::string& out) const {
  if (envelope_)
    json::write_envelope(packet, out);
  else
    json::write_fields(packet, out);
  out += '\n';
}

}  // namespace sluice::publish
