// template: builds a string field from a text with {field} placeholders.
#pragma once

#include <string>
#include <vector>

#include <sluice/component.hpp>
#include <sluice/text_template.hpp>

namespace sluice::transform {

class Template : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Template(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  TextTemplate template_;  // its placeholders are field paths
  FieldPath into_;
  bool strict_;
};

}  // namespace sluice::transform
