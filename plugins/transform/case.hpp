// case: upper, lower or title case of string fields, by ICU's full Unicode rules.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <sluice/component.hpp>

struct UCaseMap;

namespace sluice::transform {

class Case : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Case(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::vector<FieldPath> fields_;
  enum class To { upper, lower, title } to_;
  // ICU's case mapping (full Unicode rules: ß → SS, title case by word boundaries); a
  // UCaseMap holds a word break iterator, so each instance owns one.
  std::unique_ptr<UCaseMap, void (*)(UCaseMap*)> case_map_;
};

}  // namespace sluice::transform
