// What the connector benchmarks share: their command line, a catalog of the real components
// they link in, and a graph of a source and a sink run on a real Runtime until the sink has
// taken every packet.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "graph/graph_spec.hpp"
#include "runtime/runtime.hpp"

namespace bench {

struct Options {
  std::size_t packets = 200000, workers = 2;
};

// `NAME [--packets N] [--workers W]`; exits with the usage on anything else.
inline Options parse_options(int argc, char** argv, const char* name) {
  Options options;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 < argc && !std::strcmp(argv[i], "--packets")) options.packets = std::stoul(argv[i + 1]);
    else if (i + 1 < argc && !std::strcmp(argv[i], "--workers")) options.workers = std::stoul(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: %s [--packets N] [--workers W]\n", name);
      std::exit(2);
    }
  }
  return options;
}

struct DescriptorCatalog : sluice::ComponentCatalog {
  std::map<std::string, std::shared_ptr<const sluice::ComponentDescriptor>, std::less<>> components;
  explicit DescriptorCatalog(std::vector<sluice::ComponentDescriptor> descriptors) {
    for (auto& d : descriptors) {
      const std::string name = d.name;
      components.emplace(name, std::make_shared<const sluice::ComponentDescriptor>(std::move(d)));
    }
  }
  std::shared_ptr<const sluice::ComponentDescriptor> find(std::string_view name) const override {
    auto it = components.find(name);
    return it == components.end() ? nullptr : it->second;
  }
  std::vector<std::string> names() const override {
    std::vector<std::string> names;
    for (const auto& entry : components) names.push_back(entry.first);
    return names;
  }
};

// Packets/s of graph `bench` (`yaml`; its second node the sink) from deploy until the sink has
// taken `packets` and the undeploy has drained it (its last batch written).
inline double packets_per_second(const sluice::ComponentCatalog& catalog, const std::string& yaml,
                                 std::size_t packets, std::size_t workers) {
  std::vector<sluice::Diagnostic> errors;
  auto plan = sluice::plan_graph(sluice::parse_graph(yaml, "bench.yaml", errors), catalog, errors);
  for (const auto& e : errors) std::fprintf(stderr, "%s\n", sluice::format(e).c_str());
  if (!plan) std::exit(2);
  sluice::Runtime runtime({.workers = workers});
  const auto start = std::chrono::steady_clock::now();
  runtime.deploy(std::move(*plan));
  // A bench, not a test: polling the sink's count is fine here.
  while (runtime.stats("bench")->nodes[1].in < packets) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  runtime.undeploy("bench");
  return packets / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace bench
