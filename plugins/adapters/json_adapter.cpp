#include "json_adapter.hpp"

#include <utility>

#include <sluice/json.hpp>

namespace sluice::adapters {

ComponentDescriptor JsonAdapter::descriptor() {
  return adapter_descriptor("json_adapter",
                            "Parses a JSON object (one packet) or an array of objects (one "
                            "packet each)",
                            {"application/json", "text/json"}, {},
                            ComponentExample{.description = "Reads a posted JSON array, a packet per element",
                                             .input = R"([{"name": "Ada"}, {"name": "Alan"}])",
                                             .content_type = "application/json",
                                             .output = R"({"name": "Ada"}
{"name": "Alan"})"});
}

std::vector<Packet> JsonAdapter::convert(std::string_view text) {
  Value document = json::parse(text);
  std::vector<Packet> children;
  if (document.is_array()) {
    auto& items = document.as_array();
    for (std::size_t i = 0; i < items.size(); ++i)
      children.push_back(plugins::object_packet(std::move(items[i]), "element " + std::to_string(i)));
  } else {
    children.push_back(plugins::object_packet(std::move(document), "the document"));
  }
  return children;
}

}  // namespace sluice::adapters
