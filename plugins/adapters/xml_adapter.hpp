// xml_adapter: one packet per record element; fields by XPath, or the element as JSON.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sluice/component.hpp>

#include "raw_adapter.hpp"

namespace pugi {
class xpath_query;
}

namespace sluice::adapters {

using plugins::Adapter;

class XmlAdapter : public Adapter {
 public:
  static ComponentDescriptor descriptor();
  explicit XmlAdapter(const Params& params);
  ~XmlAdapter() override;

 protected:
  std::vector<Packet> convert(std::string_view text) override;
  bool decodes_itself() const override { return true; }

 private:
  // XPath queries are compiled once, at construction.
  std::unique_ptr<pugi::xpath_query> records_;
  std::vector<std::pair<std::string, std::unique_ptr<pugi::xpath_query>>> fields_;
  // Namespace URI → the prefix the XPaths use for it (param `namespaces`).
  std::map<std::string, std::string> prefix_of_uri_;
};

}  // namespace sluice::adapters
