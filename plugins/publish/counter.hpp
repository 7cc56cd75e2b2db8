// counter: counts packets and writes the count to stderr.
#pragma once

#include <cstdint>
#include <string>

#include <sluice/component.hpp>

namespace sluice::publish {

class Counter : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Counter(const Params& params);
  void process(Packet& packet, Emitter& emit) override;
  void flush(Emitter& emit) override;

 private:
  void report() const;
  std::string label_;
  std::uint64_t every_;
  std::uint64_t count_ = 0;
};

}  // namespace sluice::publish
