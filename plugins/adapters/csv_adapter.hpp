// csv_adapter: one packet per row; the header row (or column1..N) names the fields.
#pragma once

#include <string_view>
#include <vector>

#include <sluice/component.hpp>

#include "raw_adapter.hpp"

namespace sluice::adapters {

using plugins::Adapter;

class CsvAdapter : public Adapter {
 public:
  static ComponentDescriptor descriptor();
  explicit CsvAdapter(const Params& params);

 protected:
  std::vector<Packet> convert(std::string_view text) override;

 private:
  char delimiter_;
  char quote_;
  bool header_;
  bool infer_types_;
};

}  // namespace sluice::adapters
