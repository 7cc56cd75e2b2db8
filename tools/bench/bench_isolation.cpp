// bench_isolation — what `isolation: process` costs a packet: the bundled set_field -> null in
// the runtime, with set_field in the kernel's process and then in a `sluice host` of its own,
// at 1 and 2 workers, measured in the same run. The figures are the ratio and the time each
// packet gains (docs/plugins.md, "Isolation").
//
//   bench_isolation [packets]      (default 200,000)
#include <cstdio>
#include <string>

#include "bench_graphs.hpp"
#include "registry/plugin_registry.hpp"

using namespace bench;

namespace {

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
  return submit_all(runtime, "bench", total, 1000);
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
