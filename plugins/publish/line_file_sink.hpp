// LineFileSink: what jsonl_file and csv_file share: the file params, batches of whole lines, flush().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <sluice/component.hpp>

#include "append_file.hpp"

namespace sluice::publish {

// What jsonl_file and csv_file share: params for the file, batching of whole lines, flush().
class LineFileSink : public Component {
 public:
  void flush(Emitter& emit) override;

 protected:
  LineFileSink(const Params& params, std::string header);
  // The params every line file sink takes: `path` before the component's own, the rest after.
  static std::vector<ParamSpec> with_file_params(std::vector<ParamSpec> own);
  // Queues one line (with its '\n'); writes the batch once it holds batch_lines lines.
  void add_line(const Emitter& emit);
  std::string& buffer() { return buffer_; }

 private:
  void write_buffer(const Emitter& emit);
  std::unique_ptr<AppendFile> file_;
  std::string buffer_;
  std::size_t batch_lines_;
  std::size_t buffered_lines_ = 0;
};

}  // namespace sluice::publish
