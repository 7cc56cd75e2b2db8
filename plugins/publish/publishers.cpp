#include "publishers.hpp"

#include <unistd.h>

#include <cerrno>
#include <stdexcept>

#include <sluice/io.hpp>
#include <sluice/json.hpp>

namespace sluice::publish {

namespace {

// One write(2) per message, so that lines from several worker threads never interleave.
void write_stderr(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to report a broken stderr
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string one_char_param(const Params& params, std::string_view name) {
  std::string value = params.get_string(name);
  if (value.size() != 1)
    throw std::invalid_argument("param '" + std::string(name) + "' must be one character, got '" +
                                value + "'");
  return value;
}

}  // namespace

// ---- collect -------------------------------------------------------------------------------

ComponentDescriptor Collect::descriptor() {
  return {.name = "collect",
          .version = "1.0.0",
          .summary = "Hands each packet back to the submitter: the REST caller waiting with "
                     "?wait=true, or the output of `sluice run`",
          .kind = ComponentKind::publisher,
          .example = {.description = "Hands each packet back to whoever sent it (the ?wait=true caller, or the output of sluice run)",
                      .input = R"({"n": 1}
{"n": 2})",
                      .output = R"({"n": 1}
{"n": 2})"}};
}

void Collect::process(Packet& packet, Emitter& emit) { emit.deliver(std::move(packet)); }

// ---- counter -------------------------------------------------------------------------------

ComponentDescriptor Counter::descriptor() {
  return {.name = "counter",
          .version = "1.0.0",
          .summary = "Counts packets and logs the count to stderr (every n packets and at the end)",
          .kind = ComponentKind::publisher,
          .params = {{.name = "label",
                      .type = ParamType::string,
                      .description = "name printed before the count",
                      .default_value = "counter"},
                     {.name = "every",
                      .type = ParamType::integer,
                      .description = "log the count every this many packets (0: only at the end)",
                      .default_value = 0,
                      .minimum = 0}},
          .example = {.description = "Logs how many orders went through, every 10 000 and at the end",
                      .params = R"(label: orders
every: 10000)"}};
}

Counter::Counter(const Params& params)
    : label_(params.get_string("label")), every_(static_cast<std::uint64_t>(params.get_int("every"))) {}

void Counter::process(Packet&, Emitter&) {
  ++count_;
  if (every_ > 0 && count_ % every_ == 0) report();
}

void Counter::flush(Emitter&) { report(); }

void Counter::report() const {
  write_stderr(label_ + ": " + std::to_string(count_) + " packets\n");
}

// ---- null ----------------------------------------------------------------------------------

ComponentDescriptor Null::descriptor() {
  return {.name = "null",
          .version = "1.0.0",
          .summary = "Discards every packet (a sink for graphs run for their side effects)",
          .kind = ComponentKind::publisher,
          .example = {.description = "Discards what reaches it, for a graph run for its side effects (or a benchmark)"}};
}

// ---- log -----------------------------------------------------------------------------------

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

// ---- line file sinks -----------------------------------------------------------------------

std::vector<ParamSpec> LineFileSink::with_file_params(std::vector<ParamSpec> own) {
  own.push_back({.name = "rotate_bytes",
                 .type = ParamType::integer,
                 .description = "rotate the file to <path>.<n> before it grows past this many "
                                "bytes (0: never rotate)",
                 .default_value = 0,
                 .minimum = 0});
  own.push_back({.name = "fsync",
                 .type = ParamType::string,
                 .description = "when to fdatasync: never (leave it to the OS), always (after "
                                "every write), interval (at most every fsync_interval_ms)",
                 .default_value = "never",
                 .allowed = {"never", "always", "interval"}});
  own.push_back({.name = "fsync_interval_ms",
                 .type = ParamType::integer,
                 .description = "with fsync: interval, the least time between two syncs",
                 .default_value = 1000,
                 .minimum = 1});
  own.push_back({.name = "batch_lines",
                 .type = ParamType::integer,
                 .description = "write this many lines at once (1: each packet is in the file "
                                "when it leaves the node; more: fewer writes, the rest at flush)",
                 .default_value = 1,
                 .minimum = 1});
  return own;
}

LineFileSink::LineFileSink(const Params& params, std::string header)
    : batch_lines_(static_cast<std::size_t>(params.get_int("batch_lines"))) {
  AppendFile::Options options{
      .path = params.get_string("path"),
      .rotate_bytes = static_cast<std::uint64_t>(params.get_int("rotate_bytes")),
      .fsync = parse_fsync_policy(params.get_string("fsync")),
      .fsync_interval = std::chrono::milliseconds(params.get_int("fsync_interval_ms")),
      .header = std::move(header)};
  if (options.path.empty()) throw std::invalid_argument("param 'path' is empty");
  try {
    file_ = std::make_unique<AppendFile>(std::move(options));
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("param 'path': ") + e.what());
  }
}

void LineFileSink::add_line(const Emitter& emit) {
  if (++buffered_lines_ >= batch_lines_) write_buffer(emit);
}

void LineFileSink::write_buffer(const Emitter& emit) {
  if (buffer_.empty()) return;
  const NodeLog log = emit.log();
  io::run_blocking([&] { file_->append(buffer_, log); });
  buffer_.clear();
  buffered_lines_ = 0;
}

void LineFileSink::flush(Emitter& emit) {
  write_buffer(emit);
  io::run_blocking([&] { file_->sync(); });
}

ComponentDescriptor JsonlFile::descriptor() {
  return {.name = "jsonl_file",
          .version = "1.0.0",
          .summary = "Appends each packet as one JSON line; many workers may share one file",
          .kind = ComponentKind::publisher,
          .params = with_file_params(
              {{.name = "path",
                .type = ParamType::string,
                .description = "file to append to, inside the server's data directory; "
                               "missing directories are created",
                .required = true,
                .file_path = true},
               {.name = "format",
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

void JsonlFile::process(Packet& packet, Emitter& emit) {
  if (envelope_)
    json::write_envelope(packet, buffer());
  else
    json::write_fields(packet, buffer());
  buffer() += '\n';
  add_line(emit);
}

namespace {

// RFC 4180: a value holding the delimiter, a quote or a line break is quoted, quotes doubled.
void append_csv_value(std::string_view text, char delimiter, std::string& out) {
  if (text.find_first_of(std::string{delimiter, '"', '\n', '\r'}) == std::string_view::npos) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

// RFC 4180 ends every row, the last one too, with CRLF; `line_ending: lf` is for Unix tools.
std::string csv_line_end(const Params& params) {
  return params.get_string("line_ending") == "lf" ? "\n" : "\r\n";
}

// Also validates the params the header depends on, before the file is opened.
std::string csv_header(const Params& params) {
  if (params.get_string_list("columns").empty())
    throw std::invalid_argument("param 'columns' is empty");
  const char delimiter = one_char_param(params, "delimiter")[0];
  if (!params.get_bool("header")) return {};
  std::string line;
  bool first = true;
  for (const auto& column : params.get_string_list("columns")) {
    if (!first) line += delimiter;
    first = false;
    append_csv_value(column, delimiter, line);
  }
  return line + csv_line_end(params);
}

}  // namespace

ComponentDescriptor CsvFile::descriptor() {
  return {.name = "csv_file",
          .version = "1.0.0",
          .summary = "Appends chosen fields of each packet as one CSV row (RFC 4180)",
          .kind = ComponentKind::publisher,
          .params = with_file_params(
              {{.name = "path",
                .type = ParamType::string,
                .description = "file to append to, inside the server's data directory; "
                               "missing directories are created",
                .required = true,
                .file_path = true},
               {.name = "columns",
                .type = ParamType::string_list,
                .description = "field paths, one per column (e.g. [id, user.name]); a missing "
                               "field is an empty value, non-strings are written as JSON",
                .required = true},
               {.name = "delimiter",
                .type = ParamType::string,
                .description = "one character between values",
                .default_value = ","},
               {.name = "header",
                .type = ParamType::boolean,
                .description = "write the column names as the first row of every new file",
                .default_value = true},
               {.name = "line_ending",
                .type = ParamType::string,
                .description = "what ends each row: crlf (RFC 4180) or lf",
                .default_value = "crlf",
                .allowed = {"crlf", "lf"}}}),
          .capabilities = {"fs_write"},
          .example = {.description = "Writes the id, name and e-mail address of each user as a CSV row",
                      .params = R"(path: exports/users.csv
columns: [id, name, contact.email])"}};
}

CsvFile::CsvFile(const Params& params)
    : LineFileSink(params, csv_header(params)),
      columns_(params.get_string_list("columns")),
      delimiter_(params.get_string("delimiter")[0]),
      line_end_(csv_line_end(params)) {}

void CsvFile::process(Packet& packet, Emitter& emit) {
  std::string& out = buffer();
  bool first = true;
  for (const auto& column : columns_) {
    if (!first) out += delimiter_;
    first = false;
    const Value* value = packet.find_path(column);
    if (!value || value->is_null()) continue;
    append_csv_value(value->to_display_string(), delimiter_, out);
  }
  out += line_end_;
  add_line(emit);
}

}  // namespace sluice::publish
