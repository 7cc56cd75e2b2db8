// What the benchmarks share: a pass-through component, a sink, the catalog of the two, and
// a pipeline of them run on a real Runtime.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "graph/graph_spec.hpp"
#include "runtime/runtime.hpp"

namespace bench {

using namespace sluice;
using Seconds = std::chrono::duration<double>;

struct Pass : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "pass", .summary = "passes packets on", .kind = ComponentKind::transformer};
  }
  explicit Pass(const Params&) {}
  void process(Packet& p, Emitter& emit) override { emit(std::move(p)); }
};

struct Sink : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "sink", .summary = "swallows packets", .kind = ComponentKind::publisher};
  }
  explicit Sink(const Params&) {}
  void process(Packet&, Emitter&) override {}
};

struct BenchCatalog : ComponentCatalog {
  std::shared_ptr<const ComponentDescriptor> pass = std::make_shared<const ComponentDescriptor>(describe<Pass>());
  std::shared_ptr<const ComponentDescriptor> sink = std::make_shared<const ComponentDescriptor>(describe<Sink>());
  std::shared_ptr<const ComponentDescriptor> find(std::string_view name) const override {
    return name == "pass" ? pass : name == "sink" ? sink : nullptr;
  }
  std::vector<std::string> names() const override { return {"pass", "sink"}; }
};

inline std::vector<Packet> make_packets(std::size_t n) {
  std::vector<Packet> packets(n);
  for (std::size_t i = 0; i < n; ++i) {
    packets[i].set("n", static_cast<std::int64_t>(i));
    packets[i].set("text", "some short text");
  }
  return packets;
}

// `stages` pass nodes, then a sink.
inline GraphPlan pipeline_plan(std::size_t stages) {
  static BenchCatalog catalog;
  std::string yaml = "name: bench\nnodes:\n";
  std::string line = "pipeline: [";
  for (std::size_t i = 0; i < stages; ++i) {
    yaml += "  s" + std::to_string(i) + ": {component: pass}\n";
    line += "s" + std::to_string(i) + ", ";
  }
  yaml += "  out: {component: sink}\n" + line + "out]\n";
  std::vector<Diagnostic> errors;
  auto plan = plan_graph(parse_graph(yaml, "bench.yaml", errors), catalog, errors);
  if (!plan) {
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", format(e).c_str());
    std::exit(2);
  }
  return std::move(*plan);
}

// Packets/s of `total` packets submitted to the deployed graph `graph` in streams of
// `per_stream`, until the last stream is done.
inline double submit_all(Runtime& runtime, const std::string& graph, std::size_t total, std::size_t per_stream) {
  std::vector<std::vector<Packet>> streams;
  for (std::size_t done = 0; done < total; done += per_stream) streams.push_back(make_packets(per_stream));
  std::atomic<std::size_t> finished{0};
  std::promise<void> all_done;
  const auto start = std::chrono::steady_clock::now();
  for (auto& packets : streams) {
    for (;;) {
      auto admission = runtime.submit(graph, std::move(packets), [&](const StreamResult&) {
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

// Packets/s through pipeline_plan(stages); `deployed` runs once the graph is deployed, before
// the first packet (to open taps, for one).
inline double run_graph(std::size_t stages, std::size_t workers, std::size_t total,
                 const std::function<void(Runtime&)>& deployed = {}) {
  Runtime runtime({.workers = workers, .max_queued_packets = 1 << 20});
  runtime.deploy(pipeline_plan(stages));
  if (deployed) deployed(runtime);
  return submit_all(runtime, "bench", total, 10000);
}

}  // namespace bench
