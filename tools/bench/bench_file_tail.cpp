// Lines/s out of a growing file: `file_tail` (the real component, linked in) feeding a sink
// that takes each packet and does nothing, in the runtime, next to a bare read loop that
// splits the same file into lines (what `cat | wc -l` does, a line string each) in the same run.
//
//   build-release/tools/bench/bench_file_tail [--packets N] [--workers W]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "bench_catalog.hpp"
#include "file_tail.hpp"

using namespace sluice;
namespace fs = std::filesystem;
using Seconds = std::chrono::duration<double>;

namespace {

// The sink: counts as taken in the node stats, nothing else.
struct Discard : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "discard", .summary = "takes every packet", .kind = ComponentKind::publisher};
  }
  explicit Discard(const Params&) {}
  void process(Packet&, Emitter&) override {}
};

double bare_read_loop(const fs::path& file, std::size_t lines) {
  const auto start = std::chrono::steady_clock::now();
  std::ifstream in(file, std::ios::binary);
  std::size_t seen = 0;
  for (std::string line; std::getline(in, line);) ++seen;
  if (seen != lines) std::exit(2);
  return lines / Seconds(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const auto [lines, workers] = bench::parse_options(argc, argv, "bench_file_tail");
  const fs::path dir = fs::temp_directory_path() / ("sluice-bench-tail-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path log = dir / "app.log";
  {
    std::ofstream out(log, std::ios::binary);
    for (std::size_t i = 0; i < lines; ++i)
      out << "2026-12-01T19:20:48Z INFO request " << i << " served in 3 ms from 127.0.0.1\n";
  }
  const double bare = bare_read_loop(log, lines);
  const std::string yaml = "name: bench\npipeline: [tail, sink]\nnodes:\n"
                           "  tail: {component: file_tail, params: {path: " + log.string() + ", start: beginning}}\n"
                           "  sink: {component: discard}\n";
  const double tailed = bench::packets_per_second(
      bench::DescriptorCatalog({describe<connectors::FileTail>(), describe<Discard>()}), yaml, lines, workers);
  std::printf("%zu lines of %zu bytes, %zu workers\n", lines, fs::file_size(log) / lines, workers);
  std::printf("  read loop, getline (baseline)   %10.0f lines/s\n", bare);
  std::printf("  file_tail -> sink               %10.0f lines/s  (%.2fx baseline)\n", tailed, tailed / bare);
  fs::remove_all(dir);
}
