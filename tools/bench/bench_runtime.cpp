// bench_runtime — packets/s through 1-, 3- and 8-stage pass-through graphs at 1 and 2 workers,
// each next to a bare Boost.Fiber channel pipeline of the same depth measured in the same run.
// The ratio is the figure (the machine is shared and noisy; absolute numbers drift).
//
//   bench_runtime [packets]      (default 2,000,000)
#include <boost/fiber/all.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "bench_graphs.hpp"

using namespace bench;

namespace {

// The baseline: the same number of fibers and hops on bare buffered channels, no runtime.
void bare_pipeline(std::size_t stages, std::vector<Packet>& packets) {
  using Channel = boost::fibers::buffered_channel<Packet>;
  std::vector<std::unique_ptr<Channel>> channels;
  for (std::size_t i = 0; i <= stages; ++i) channels.push_back(std::make_unique<Channel>(1024));
  std::vector<boost::fibers::fiber> fibers;
  fibers.emplace_back([&] {
    for (auto& p : packets) channels[0]->push(std::move(p));
    channels[0]->close();
  });
  for (std::size_t i = 0; i < stages; ++i)
    fibers.emplace_back([&, i] {
      for (Packet& p : *channels[i]) channels[i + 1]->push(std::move(p));
      channels[i + 1]->close();
    });
  fibers.emplace_back([&] {
    std::size_t n = 0;
    for (Packet& p : *channels[stages]) n += p.size();
    if (n == 0) std::abort();
  });
  for (auto& f : fibers) f.join();
}

double run_bare(std::size_t stages, std::size_t workers, std::size_t total) {
  std::vector<std::vector<Packet>> shares;
  for (std::size_t w = 0; w < workers; ++w) shares.push_back(make_packets(total / workers));
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (auto& share : shares) threads.emplace_back([&] { bare_pipeline(stages, share); });
  for (auto& t : threads) t.join();
  const Seconds elapsed = std::chrono::steady_clock::now() - start;
  return static_cast<double>(total / workers * workers) / elapsed.count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t total = argc > 1 ? std::stoul(argv[1]) : 2'000'000;
  std::printf("%-8s %-8s %14s %14s %8s %14s\n", "stages", "workers", "sluice pkt/s", "bare pkt/s",
              "ratio", "per-stage ×");
  for (std::size_t stages : {1, 3, 8}) {
    for (std::size_t workers : {1, 2}) {
      const double bare = run_bare(stages, workers, total);
      const double graph = run_graph(stages, workers, total);
      // Per-stage cost relative to the bare pipeline's (both have stages + 1 hops).
      std::printf("%-8zu %-8zu %14.0f %14.0f %8.2f %14.2f\n", stages, workers, graph, bare,
                  graph / bare, bare / graph);
    }
  }
  return 0;
}
