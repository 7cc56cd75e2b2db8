// bench_tap — what a live tap costs the graph it watches: packets/s through a 3-stage
// pass-through pipeline with no tap, then with a tap on the middle stage's `out` at the REST
// defaults (100 packets/s), at the highest limit (10,000/s) and at that limit on every stage,
// each read by a thread that takes the copies every 100 ms as the REST endpoint does. Each
// figure is the best of `rounds` runs (the machine is shared and noisy) and is given as a
// fraction of the untapped rate.
//
//   bench_tap [packets] [rounds]      (default 1,000,000 and 5)
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_graphs.hpp"

using namespace bench;

namespace {

constexpr std::size_t stages = 3;

struct TapCase {
  const char* name;
  std::vector<std::string> nodes;  // a tap on each one's `out`
  double packets_per_second = 0;
};

// Packets/s with the case's taps open and read throughout.
double run_tapped(const TapCase& tap_case, std::size_t workers, std::size_t total, TapCounts& counts) {
  std::vector<std::shared_ptr<PacketTap>> taps;
  std::atomic<bool> reading{true};
  std::thread reader;
  const double rate = run_graph(stages, workers, total, [&](Runtime& runtime) {
    for (const auto& node : tap_case.nodes)
      taps.push_back(runtime.tap("bench", node, "out", {.packets_per_second = tap_case.packets_per_second}));
    reader = std::thread([&] {
      while (reading) {
        for (const auto& tap : taps) tap->take();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  });
  reading = false;
  if (reader.joinable()) reader.join();
  counts = taps.empty() ? TapCounts{} : taps.front()->counts();
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t total = argc > 1 ? std::stoul(argv[1]) : 1'000'000;
  const int rounds = argc > 2 ? std::stoi(argv[2]) : 5;
  const std::vector<TapCase> cases = {
      {"no tap", {}},
      {"1 tap, 100/s", {"s1"}, 100},
      {"1 tap, 10000/s", {"s1"}, 10000},
      {"3 taps, 10000/s", {"s0", "s1", "s2"}, 10000},
  };
  std::printf("%-8s %-18s %14s %10s %12s %12s\n", "workers", "case", "pkt/s", "of untapped", "copied", "over rate");
  for (std::size_t workers : {1, 2}) {
    std::vector<double> best(cases.size(), 0);
    std::vector<TapCounts> counts(cases.size());
    // Rounds interleave the cases, so that a slow spell of the machine hits them alike.
    for (int round = 0; round < rounds; ++round)
      for (std::size_t c = 0; c < cases.size(); ++c)
        best[c] = std::max(best[c], run_tapped(cases[c], workers, total, counts[c]));
    for (std::size_t c = 0; c < cases.size(); ++c)
      std::printf("%-8zu %-18s %14.0f %10.3f %12llu %12llu\n", workers, cases[c].name, best[c], best[c] / best[0],
                  static_cast<unsigned long long>(counts[c].copied), static_cast<unsigned long long>(counts[c].over_rate));
  }
  return 0;
}
