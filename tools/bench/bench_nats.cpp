// The JetStream round trip, packets/s: messages consumed from one stream and published, acked,
// into another. Through sluice: `nats_source` → `nats_publish` in the runtime (the real
// components, linked in); next to it, in the same run and against the same nats-server, the
// same work by libnats alone (pull 1000, publish them async, wait for the acks, ack the pulled
// messages: a window as large as nats_source's max_in_flight) — the ceiling the components
// can approach.
//
//   build-release/tools/bench/bench_nats [--packets N] [--workers W]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "graph/graph_spec.hpp"
#include "nats_publish.hpp"
#include "nats_server.hpp"
#include "nats_source.hpp"
#include "runtime/runtime.hpp"

using namespace sluice;
namespace fs = std::filesystem;
using Seconds = std::chrono::duration<double>;

namespace {

struct BenchCatalog : ComponentCatalog {
  std::map<std::string, std::shared_ptr<const ComponentDescriptor>, std::less<>> components;
  BenchCatalog() {
    for (auto d : {describe<nats::NatsSource>(), describe<nats::NatsPublish>()})
      components.emplace(d.name, std::make_shared<const ComponentDescriptor>(d));
  }
  std::shared_ptr<const ComponentDescriptor> find(std::string_view name) const override {
    auto it = components.find(name);
    return it == components.end() ? nullptr : it->second;
  }
  std::vector<std::string> names() const override { return {"nats_source", "nats_publish"}; }
};

const char* document = R"({"url": "https://example.org/k", "title": "A document of about the size of a news title", "n": 1})";

void check(natsStatus status, const char* what) {
  if (status == NATS_OK) return;
  std::fprintf(stderr, "%s: %s\n", what, natsStatus_GetText(status));
  std::exit(2);
}

void fill(jsCtx* js, const std::string& subject, std::size_t packets) {
  for (std::size_t i = 0; i < packets; ++i)
    check(js_PublishAsync(js, subject.c_str(), document, static_cast<int>(std::strlen(document)), nullptr),
          "fill the input stream");
  check(js_PublishAsyncComplete(js, nullptr), "fill the input stream");
}

double bare_libnats(jsCtx* js, std::size_t packets) {
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = "IN";
  options.Config.AckPolicy = js_AckExplicit;
  options.Config.MaxAckPending = 1000;
  natsSubscription* subscription = nullptr;
  check(js_PullSubscribe(&subscription, js, "in.>", "bare", nullptr, &options, nullptr), "bare pull subscribe");
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t done = 0; done < packets;) {
    natsMsgList batch{};
    if (natsSubscription_Fetch(&batch, subscription, 1000, 5000, nullptr) != NATS_OK) continue;
    for (int m = 0; m < batch.Count; ++m)
      check(js_PublishAsync(js, "out.bare", natsMsg_GetData(batch.Msgs[m]), natsMsg_GetDataLength(batch.Msgs[m]), nullptr),
            "bare publish");
    check(js_PublishAsyncComplete(js, nullptr), "bare publish acks");
    for (int m = 0; m < batch.Count; ++m) natsMsg_Ack(batch.Msgs[m], nullptr);
    done += static_cast<std::size_t>(batch.Count);
    natsMsgList_Destroy(&batch);
  }
  const double rate = packets / Seconds(std::chrono::steady_clock::now() - start).count();
  natsSubscription_Destroy(subscription);
  return rate;
}

double through_runtime(nats_test::NatsClient& client, const std::string& url, std::size_t packets, std::size_t workers) {
  const std::string yaml =
      "name: bench\npipeline: [in, out]\nnodes:\n"
      "  in: {component: nats_source, params: {servers: [" + url + "], stream: IN, durable: sluice, batch: 100}}\n"
      "  out: {component: nats_publish, params: {servers: [" + url + "], subject: out.sluice}}\n";
  BenchCatalog catalog;
  std::vector<Diagnostic> errors;
  auto plan = plan_graph(parse_graph(yaml, "bench.yaml", errors), catalog, errors);
  for (const auto& e : errors) std::fprintf(stderr, "%s\n", format(e).c_str());
  if (!plan) std::exit(2);
  const std::uint64_t before = client.stream_messages("OUT");
  Runtime runtime({.workers = workers});
  const auto start = std::chrono::steady_clock::now();
  runtime.deploy(std::move(*plan));
  // A bench, not a test: polling the output stream is fine here.
  while (client.stream_messages("OUT") < before + packets) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const double rate = packets / Seconds(std::chrono::steady_clock::now() - start).count();
  runtime.undeploy("bench");
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t packets = 100000, workers = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--packets")) packets = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--workers")) workers = std::stoul(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: bench_nats [--packets N] [--workers W]\n");
      return 2;
    }
  }
  const fs::path dir = fs::temp_directory_path() / ("sluice-bench-nats-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  double bare = 0, sluice = 0;
  {
    nats_test::NatsServer server(dir / "nats");
    nats_test::NatsClient client(server.url());
    client.add_stream("IN", "in.>", 1);
    client.add_stream("OUT", "out.>", 1);
    // Both read the same input, each through its own durable consumer.
    fill(client.jetstream(), "in.docs", packets);
    bare = bare_libnats(client.jetstream(), packets);
    sluice = through_runtime(client, server.url(), packets, workers);
  }
  std::printf("%zu packets, %zu workers, one nats-server (file store) on loopback\n", packets, workers);
  std::printf("  libnats pull + publish + ack (baseline)   %9.0f packets/s\n", bare);
  std::printf("  nats_source -> nats_publish               %9.0f packets/s  (%.2fx baseline)\n", sluice, sluice / bare);
  fs::remove_all(dir);
}
