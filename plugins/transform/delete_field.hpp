// delete_field: removes fields by name or glob (`tmp_*`, `user.*.secret`).
#pragma once

#include <string>
#include <vector>

#include <sluice/component.hpp>

namespace sluice::transform {

class DeleteField : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit DeleteField(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  // Each pattern split at dots: one glob per level.
  std::vector<std::vector<std::string>> patterns_;
};

}  // namespace sluice::transform
