// csv_file: appends chosen fields as CSV rows (RFC 4180), with jsonl_file's file guarantees.
#pragma once

#include <string>
#include <vector>

#include <sluice/component.hpp>

#include "line_file_sink.hpp"

namespace sluice::publish {

class CsvFile : public LineFileSink {
 public:
  static ComponentDescriptor descriptor();
  explicit CsvFile(const Params& params);

 protected:
  void append_line(const Packet& packet, std::string& out) const override;

 private:
  std::vector<FieldPath> columns_;
  char delimiter_;
  std::string line_end_;
};

}  // namespace sluice::publish
