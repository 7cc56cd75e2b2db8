// template: builds a string field from a text with {field} placeholders.
#pragma once

#include <string>
#include <vector>

#include <sluice/component.hpp>

namespace sluice::transform {

class Template : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Template(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  struct Piece {
    std::string text;
    bool is_field;
  };
  std::vector<Piece> pieces_;
  std::string into_;
  bool strict_;
};

}  // namespace sluice::transform
