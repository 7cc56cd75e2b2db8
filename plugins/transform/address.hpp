// address: e-mail addresses, URLs and telephone numbers of a text field, each kind into a list field.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/component.hpp>

#include "pattern_extractor.hpp"

namespace sluice::transform {

// address: the contact addresses in a text field, each kind into a list field of its own:
// e-mail addresses and URLs by the rules of `email` and `url`, and telephone numbers (digits
// only, a leading + kept).
// International numbers (+ and a country code) and the common national forms: (020) 7946
// 0958, 555-123-4567, 06 12 34 56 78.
class Phone : public PatternExtractor {
 public:
  explicit Phone(const Params& params);

 private:
  std::string canonical(std::string_view match) const override;
};
class Address : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Address(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::vector<std::unique_ptr<PatternExtractor>> extractors_;
};

}  // namespace sluice::transform
