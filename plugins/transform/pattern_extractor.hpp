// PatternExtractor: the base of the extractors with a fixed pattern (email, url, the phone
// numbers of address): every distinct match into an array.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <sluice/component.hpp>
#include <sluice/regex.hpp>

namespace sluice::transform {

// email and url: a fixed pattern, every distinct match into an array.
class PatternExtractor : public Component {
 public:
  void process(Packet& packet, Emitter& emit) override;

 protected:
  PatternExtractor(const Params& params, const std::string& pattern);
  static std::vector<ParamSpec> extractor_params(std::string into_default);
  // The form a match is reported (and told apart from others) in; by default as written.
  virtual std::string canonical(std::string_view match) const { return std::string(match); }

 private:
  FieldPath field_, into_;
  Regex regex_;
};

}  // namespace sluice::transform
