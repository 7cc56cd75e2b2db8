// json_adapter: a JSON object, or an array of objects, as packets.
#pragma once

#include <string_view>
#include <vector>

#include <sluice/component.hpp>

#include "raw_adapter.hpp"

namespace sluice::adapters {

using plugins::Adapter;

class JsonAdapter : public Adapter {
 public:
  static ComponentDescriptor descriptor();
  explicit JsonAdapter(const Params& params) : Adapter(params) {}

 protected:
  std::vector<Packet> convert(std::string_view text) override;
};

}  // namespace sluice::adapters
