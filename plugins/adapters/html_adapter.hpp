// html_adapter: the title, visible text and links of a page.
#pragma once

#include <string_view>
#include <vector>

#include <sluice/component.hpp>

#include "raw_adapter.hpp"

namespace sluice::adapters {

using plugins::Adapter;

class HtmlAdapter : public Adapter {
 public:
  static ComponentDescriptor descriptor();
  explicit HtmlAdapter(const Params& params) : Adapter(params) {}

 protected:
  std::vector<Packet> convert(std::string_view text) override;
};

}  // namespace sluice::adapters
