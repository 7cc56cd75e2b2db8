// date_normalize: dates in many formats and zones → ISO 8601.
#pragma once

#include <string>
#include <vector>

#include <sluice/component.hpp>

namespace date {
class time_zone;
}

namespace sluice::transform {

class DateNormalize : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit DateNormalize(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::vector<FieldPath> fields_;
  std::vector<std::string> formats_;
  const date::time_zone* input_zone_;
  const date::time_zone* output_zone_;
};

}  // namespace sluice::transform
