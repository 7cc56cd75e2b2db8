// merge: pairs packets from two inputs by key; unpaired ones leave after a timeout.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include <sluice/component.hpp>

namespace sluice::flow {

class Merge : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Merge(const Params& params);
  void run(RunContext& ctx) override;

 private:
  struct Waiting {
    Packet packet;
    std::size_t side;  // in port index
    Clock::time_point deadline;
    std::string key;
  };
  void handle(RunContext& ctx, Received& received);
  void release_oldest(RunContext& ctx);
  std::size_t left_ = 0, unpaired_ = 0;  // port indices

  std::vector<FieldPath> key_;
  Clock::duration timeout_;
  std::size_t max_pending_;
  // Unpaired packets in arrival order (= deadline order); the map finds them by key.
  std::list<Waiting> pending_;
  std::unordered_multimap<std::string, std::list<Waiting>::iterator> by_key_;
};

}  // namespace sluice::flow
