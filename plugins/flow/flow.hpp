// The flow package: filters and operators that decide where packets go.
//   drop, keep  filter by a condition (docs/conditions.md)
//   route       sends each packet to the out port of the first (or every) matching condition
//   dedupe      passes the first packet of each key within a bounded window
//   sample      passes a fraction of the packets, randomly or consistently by key
//   split       one packet per element of an array field
//   batch       n packets or t milliseconds → one packet holding them
//   unbatch     the inverse of batch
//   merge       pairs packets from two inputs by key; unpaired ones leave after a timeout
#pragma once

#include <cstdint>
#include <deque>
#include <list>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <sluice/component.hpp>
#include <sluice/condition.hpp>

namespace sluice::flow {

// Passes packets for which `if` is false.
class Drop : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Drop(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  Condition condition_;
};

// Passes packets for which `if` is true.
class Keep : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Keep(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  Condition condition_;
};

class Route : public Component {
 public:
  // Out ports are declared statically (see README): `out` for unmatched, then route1..route<n>.
  static constexpr std::size_t max_routes = 8;
  static ComponentDescriptor descriptor();
  explicit Route(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::vector<Condition> routes_;  // routes_[i] goes to out port i + 1
  bool all_;
};

// The 64-bit hash of plugins::key_text (packet_key.hpp): the keys of dedupe and sample.
std::uint64_t key_hash(const Packet& packet, const std::vector<std::string>& paths);

class Dedupe : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Dedupe(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::vector<std::string> key_;
  std::size_t window_;
  std::deque<std::uint64_t> order_;  // oldest first
  std::unordered_set<std::uint64_t> seen_;
};

class Sample : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Sample(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  double rate_;
  std::vector<std::string> key_;
  std::mt19937_64 random_;
};

class Split : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Split(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::string field_;
  std::string into_;
  std::string index_;
};

class Batch : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Batch(const Params& params);
  void run(RunContext& ctx) override;

 private:
  std::size_t size_;
  Clock::duration max_wait_;
  std::string field_;
  bool envelopes_;
};

class Unbatch : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Unbatch(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::string field_;
  bool envelopes_;
};

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

  std::vector<std::string> key_;
  Clock::duration timeout_;
  std::size_t max_pending_;
  // Unpaired packets in arrival order (= deadline order); the map finds them by key.
  std::list<Waiting> pending_;
  std::unordered_multimap<std::string, std::list<Waiting>::iterator> by_key_;
};

}  // namespace sluice::flow
