// json_parse: parses a string field holding JSON into a value.
#pragma once

#include <string>
#include <vector>

#include <sluice/component.hpp>

namespace sluice::transform {

class JsonParse : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit JsonParse(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  FieldPath field_, into_;
};

}  // namespace sluice::transform
