// jsonl_file: appends packets as JSON lines, safe with many writers, rotation, fsync policy.
#pragma once

#include <sluice/component.hpp>

#include "line_file_sink.hpp"

namespace sluice::publish {

class JsonlFile : public LineFileSink {
 public:
  static ComponentDescriptor descriptor();
  explicit JsonlFile(const Params& params);

 protected:
  void append_line(const Packet& packet, std::string& out) const override;

 private:
  bool envelope_;
};

}  // namespace sluice::publish
