// bench_isolation — what `isolation: process` costs a packet: the bundled set_field -> null in
// the runtime, with set_field in the kernel's process and then in a `sluice host` of its own,
// at 1 and 2 workers, measured in the same run. The figures are the ratio and the time each
// packet gains (docs/plugins.md, "Isolation").
//
//   bench_isolation [packets]      (default 200,000)
#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "graph/graph_spec.hpp"
#include "registry/plugin_registry.hpp"
#include "runtime/runtime.hpp"

using namespace sluice;
using Seconds = std::chrono::duration<double>;

namespace {

std::vector<Packet> make_packets(std::size_t n) {
  std::vector<Packet> packets(n);
  for (std::size_t i = 0; i < n; ++i) {
    packets[i].set("n", static_cast<std::int64_t>(i));
    packets[i].set("text", "some short text");
  }
  return packets;
}

double packets_per_second(const PluginRegistry& registry, const std::string& isolation, std::size_t workers,
                          std::size_t total) {
  const std::string yaml = "name: bench\nnodes:\n  s: {component: set_field, isolation: " + isolation +
                           ", params: {field: tag, value: 1}}\n  out: {component: \"null\"}\npipeline: [s, out]\n";
  std::vector<Diagnostic> errors;
  auto plan = plan_graph(parse_graph(yaml, "bench.yaml", errors), registry, errors);
  if (!plan) {
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", format(e).c_str());
    std::exit(2);
  }
  Runtime runtime({.workers = workers, .max_queued_packets = 1 << 20, .host_program = SLUICE_EXE});
  runtime.deploy(std::move(*plan));
  constexpr std::size_t per_stream = 1000;
  std::vector<std::vector<Packet>> streams;
  for (std::size_t done = 0; done < total; done += per_stream) streams.push_back(make_packets(per_stream));
  std::atomic<std::size_t> finished{0};
  std::promise<void> all_done;
  const auto start = std::chrono::steady_clock::now();
  for (auto& packets : streams) {
    for (;;) {
      auto admission = runtime.submit("bench", std::move(packets), [&](const StreamResult&) {
        if (++finished == streams.size()) all_done.set_value();
      });
      if (admission.status == Admission::Status::accepted) break;
      std::this_thread::yield();
    }
  }
  all_done.get_future().wait();
  const Seconds elapsed = std::chrono::steady_clock::now() - start;
  return static_cast<double>(streams.size() * per_stream) / elapsed.count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t total = argc > 1 ? std::stoul(argv[1]) : 200'000;
  PluginRegistryOptions options;
  options.probe_program = SLUICE_EXE;
  PluginRegistry registry({SLUICE_BUNDLED_PLUGINS}, options);
  std::printf("%-8s %16s %16s %8s %14s\n", "workers", "in_process pkt/s", "process pkt/s", "ratio", "µs per packet");
  for (std::size_t workers : {1, 2}) {
    const double in_process = packets_per_second(registry, "in_process", workers, total);
    const double process = packets_per_second(registry, "process", workers, total);
    std::printf("%-8zu %16.0f %16.0f %8.3f %14.2f\n", workers, in_process, process, process / in_process,
                (1 / process - 1 / in_process) * 1e6);
  }
}
