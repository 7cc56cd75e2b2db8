// Messages/s through sluice between two MQTT topics: a test client publishes to `bench/in`,
// mqtt_source -> mqtt_publish (the real components, linked in, in the runtime, the spool in a
// state directory) relays them to `bench/out`, where a subscriber counts them. The baseline in
// the same run is libmosquitto alone: the same publisher straight to a subscriber of
// `bench/in`. Both at QoS 1, against a Mosquitto broker the program starts on loopback.
//
//   build-release/tools/bench/bench_mqtt [--messages N] [--workers W]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>

#include "graph/graph_spec.hpp"
#include "mosquitto_broker.hpp"
#include "mqtt_publish.hpp"
#include "mqtt_source.hpp"
#include "runtime/runtime.hpp"

using namespace sluice;
using namespace mqtt_test;
using Seconds = std::chrono::duration<double>;

namespace {

struct BenchCatalog : ComponentCatalog {
  std::map<std::string, std::shared_ptr<const ComponentDescriptor>, std::less<>> components;
  BenchCatalog() {
    for (auto d : {describe<mqtt::MqttSource>(), describe<mqtt::MqttPublish>()})
      components.emplace(d.name, std::make_shared<const ComponentDescriptor>(d));
  }
  std::shared_ptr<const ComponentDescriptor> find(std::string_view name) const override {
    auto it = components.find(name);
    return it == components.end() ? nullptr : it->second;
  }
  std::vector<std::string> names() const override { return {"mqtt_source", "mqtt_publish"}; }
};

const std::string payload = R"({"sensor": "north-7", "temperature": 21.5, "humidity": 48, "at": "2026-12-01T12:00:00Z"})";

// Publishes `messages` to `topic` and waits until `subscriber` has them all.
double time_delivery(std::uint16_t port, const std::string& topic, std::size_t messages, TestClient& subscriber) {
  TestClient publisher(port);
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < messages; ++i) publisher.publish(topic, payload, 1);
  if (!subscriber.wait_for(messages, std::chrono::seconds(300))) {
    std::fprintf(stderr, "bench_mqtt: only %zu of %zu messages arrived\n", subscriber.messages().size(), messages);
    std::exit(2);
  }
  return messages / Seconds(std::chrono::steady_clock::now() - start).count();
}

double through_sluice(std::uint16_t port, std::size_t messages, std::size_t workers, const fs::path& state) {
  const std::string yaml = "name: bench\npipeline: [listen, relay]\nnodes:\n"
                           "  listen: {component: mqtt_source, params: {port: " + std::to_string(port) +
                           ", client_id: bench-source, topics: [bench/in]}}\n"
                           "  relay: {component: mqtt_publish, params: {port: " + std::to_string(port) +
                           ", topic: bench/out, qos: 1}}\n";
  BenchCatalog catalog;
  std::vector<Diagnostic> errors;
  auto plan = plan_graph(parse_graph(yaml, "bench.yaml", errors), catalog, errors);
  for (const auto& e : errors) std::fprintf(stderr, "%s\n", format(e).c_str());
  if (!plan) std::exit(2);
  TestClient subscriber(port, "bench/out");
  Runtime runtime({.workers = workers, .state_dir = state.string()});
  runtime.deploy(std::move(*plan));
  // Subscribed once a first message makes it through (retained: it waits for the subscription);
  // not timed.
  TestClient(port).publish("bench/in", payload, 1, true);
  if (!subscriber.wait_for(1, std::chrono::seconds(20))) {
    std::fprintf(stderr, "bench_mqtt: the graph did not relay a first message\n");
    std::exit(2);
  }
  TestClient counted(port, "bench/out");
  const double rate = time_delivery(port, "bench/in", messages, counted);
  runtime.undeploy("bench");
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t messages = 20000, workers = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--messages")) messages = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--workers")) workers = std::stoul(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: bench_mqtt [--messages N] [--workers W]\n");
      return 2;
    }
  }
  MosquittoBroker broker;
  double bare = 0;
  {
    TestClient subscriber(broker.port(), "bench/in");
    bare = time_delivery(broker.port(), "bench/in", messages, subscriber);
  }
  const double sluice = through_sluice(broker.port(), messages, workers, broker.dir() / "state");
  std::printf("%zu messages of %zu bytes, QoS 1 in and out, %zu workers, mosquitto on loopback\n", messages,
              payload.size(), workers);
  std::printf("  libmosquitto publish -> subscribe (baseline)        %9.0f messages/s\n", bare);
  std::printf("  publish -> mqtt_source -> mqtt_publish -> subscribe %9.0f messages/s  (%.2fx baseline)\n", sluice,
              sluice / bare);
}
