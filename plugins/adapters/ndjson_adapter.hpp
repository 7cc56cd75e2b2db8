// ndjson_adapter: one packet per line of newline-delimited JSON.
#pragma once

#include <string_view>
#include <vector>

#include <sluice/component.hpp>

#include "raw_adapter.hpp"

namespace sluice::adapters {

using plugins::Adapter;

class NdjsonAdapter : public Adapter {
 public:
  static ComponentDescriptor descriptor();
  explicit NdjsonAdapter(const Params& params) : Adapter(params) {}

 protected:
  std::vector<Packet> convert(std::string_view text) override;
};

}  // namespace sluice::adapters
