#include "line_file_sink.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <utility>

#include <sluice/io.hpp>

namespace sluice::publish {

std::vector<ParamSpec> LineFileSink::with_file_params(std::vector<ParamSpec> own) {
  own.insert(own.begin(), {.name = "path",
                           .type = ParamType::string,
                           .description = "file to append to, inside the server's data directory; "
                                          "missing directories are created",
                           .required = true,
                           .file_path = true});
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

}  // namespace sluice::publish
