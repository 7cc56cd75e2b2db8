// LineFileSink: what jsonl_file and csv_file share: the file params, and writes in batches of whole lines.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <sluice/component.hpp>

#include "append_file.hpp"

namespace sluice::publish {

// What jsonl_file and csv_file share: the params for the file, and the receive loop. What waits
// in the node's queue is written in one write(2), up to batch_lines lines; an idle sink writes
// each packet at once. Every packet is held until its line is in the file (synced, with fsync:
// always), so that its stream completes only then: a crash before replays it.
class LineFileSink : public Component {
 public:
  void run(RunContext& ctx) override;

 protected:
  LineFileSink(const Params& params, std::string header);
  // The params every line file sink takes: `path` before the component's own, the rest after.
  static std::vector<ParamSpec> with_file_params(std::vector<ParamSpec> own);
  // Appends the packet's line, with its line end, to `out`; throws for a packet that has none.
  virtual void append_line(const Packet& packet, std::string& out) const = 0;

 private:
  void write_batch(std::vector<Packet>& batch, RunContext& ctx);
  std::unique_ptr<AppendFile> file_;
  std::string buffer_;
  std::size_t batch_lines_;
  std::size_t max_write_bytes_;  // rotate_bytes: a file rotates between writes (0: no bound)
};

}  // namespace sluice::publish
