// text_adapter: one packet per line, or the whole text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <sluice/component.hpp>

#include "raw_adapter.hpp"

namespace sluice::adapters {

using plugins::Adapter;

class TextAdapter : public Adapter {
 public:
  static ComponentDescriptor descriptor();
  explicit TextAdapter(const Params& params);

 protected:
  std::vector<Packet> convert(std::string_view text) override;

 private:
  bool lines_;
  bool skip_empty_;
  std::string into_;
};

}  // namespace sluice::adapters
