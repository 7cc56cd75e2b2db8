#include "line_file_sink.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <utility>

#include <sluice/io.hpp>

#include "batched_receive.hpp"

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
                 .description = "lines written in one write(2) at most: what waits in the node's queue goes "
                                "together, an idle sink writes each packet at once; a packet's stream completes "
                                "once its line is in the file",
                 .default_value = 1000,
                 .minimum = 1});
  return own;
}

LineFileSink::LineFileSink(const Params& params, std::string header)
    : batch_lines_(static_cast<std::size_t>(params.get_int("batch_lines"))),
      max_write_bytes_(static_cast<std::size_t>(params.get_int("rotate_bytes"))) {
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

void LineFileSink::run(RunContext& ctx) {
  // No wait for more packets (max_wait 0): a batch is what was queued when the sink got to it.
  plugins::receive_in_batches(ctx, batch_lines_, std::chrono::milliseconds(0),
                              [&](std::vector<Packet>& batch) { write_batch(batch, ctx); });
  io::run_blocking([&] { file_->sync(); });  // what `fsync: interval` has not synced yet
}

void LineFileSink::write_batch(std::vector<Packet>& batch, RunContext& ctx) {
  const NodeLog log = ctx.log();
  std::vector<Packet*> in_buffer;  // whose lines buffer_ holds
  auto write = [&] {
    if (buffer_.empty()) return;
    std::string error;
    io::run_blocking([&] {
      try {
        file_->append(buffer_, log);
      } catch (const std::exception& e) {
        error = e.what();
      }
    });
    if (!error.empty())
      for (Packet* packet : in_buffer) ctx.fail(std::move(*packet), error);
    buffer_.clear();
    in_buffer.clear();
  };
  for (Packet& packet : batch) {
    const std::size_t before = buffer_.size();
    try {
      append_line(packet, buffer_);
    } catch (const std::exception& e) {
      buffer_.resize(before);
      ctx.fail(std::move(packet), e.what());
      continue;
    }
    // A file rotates between writes: one write must not be more than a file may hold.
    if (max_write_bytes_ != 0 && before != 0 && buffer_.size() > max_write_bytes_) {
      std::string line = buffer_.substr(before);
      buffer_.resize(before);
      write();
      buffer_ = std::move(line);
    }
    in_buffer.push_back(&packet);
  }
  write();
}

}  // namespace sluice::publish
