// What the served NATS tests share: the two graphs of the distributed mode (REST → JetStream,
// JetStream → a file), a poster that records what sluice acknowledged, and counting keys.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../durable/durable_support.hpp"

namespace nats_test {

inline std::string yaml_list(const std::vector<std::string>& items) {
  std::string list = "[";
  for (std::size_t i = 0; i < items.size(); ++i) list += (i ? ", " : "") + items[i];
  return list + "]";
}

// Graph `ingest`: every posted packet to subject jobs.<kind> (stream JOBS), its stream done
// once JetStream acked it.
inline std::string publish_graph(const std::vector<std::string>& servers) {
  return "name: ingest\nnodes:\n"
         "  publish: {component: nats_publish, params: {servers: " + yaml_list(servers) +
         ", subject: 'jobs.{kind}', backoff_ms: 100, retries: 10, ack_timeout_ms: 2000}}\n";
}

// Graph `work`: the durable consumer `workers` of JOBS into done.jsonl (one write(2) per
// packet, before its message is acked).
inline std::string consume_graph(const std::vector<std::string>& servers, int ack_wait_ms, int max_in_flight) {
  return "name: work\npipeline: [jobs, done]\nnodes:\n"
         "  jobs: {component: nats_source, params: {servers: " + yaml_list(servers) +
         ", stream: JOBS, durable: workers, ack_wait_ms: " + std::to_string(ack_wait_ms) +
         ", max_in_flight: " + std::to_string(max_in_flight) + ", batch: 20}}\n"
         "  done: {component: jsonl_file, params: {path: done.jsonl}}\n";
}

// Posts batches of 50 packets {key, kind} with ?wait=true to the ports `ports()` gives (in
// turn) until stopped; the keys of each batch answered 200 are `acknowledged`: in JetStream.
class Poster {
 public:
  explicit Poster(std::function<std::vector<std::uint16_t>()> ports) : ports_(std::move(ports)) {
    thread_ = std::thread([this] { run(); });
  }
  ~Poster() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::size_t acknowledged_count() {
    std::lock_guard lock(mutex_);
    return acknowledged_.size();
  }
  std::set<std::string> acknowledged() {
    std::lock_guard lock(mutex_);
    return acknowledged_;
  }

 private:
  void run() {
    for (int post = 0; !stop_; ++post) {
      const auto ports = ports_();
      std::vector<std::string> keys;
      std::string body;
      for (int i = 0; i < 50; ++i) {
        keys.push_back("p" + std::to_string(post) + "-" + std::to_string(i));
        body += "{\"key\": \"" + keys.back() + "\", \"kind\": \"" + (i % 2 ? "a" : "b") + "\"}\n";
      }
      try {
        const auto answer = rest_test::http(ports[static_cast<std::size_t>(post) % ports.size()], "POST",
                                            "/v1/graphs/ingest/packets?wait=true", body,
                                            {{"Content-Type", "application/x-ndjson"}}, std::chrono::seconds(60));
        if (answer.status != 200) continue;
      } catch (const std::exception&) {
        continue;  // a node that was killed
      }
      std::lock_guard lock(mutex_);
      acknowledged_.insert(keys.begin(), keys.end());
    }
  }

  std::function<std::vector<std::uint16_t>()> ports_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::set<std::string> acknowledged_;
  std::thread thread_;
};

// How often each key is in the files, summed.
inline std::map<std::string, int> processed(const std::vector<std::filesystem::path>& outputs) {
  std::map<std::string, int> all;
  for (const auto& file : outputs)
    if (std::filesystem::exists(file))
      for (const auto& [key, n] : rest_test::count_keys(file)) all[key] += n;
  return all;
}

inline std::vector<std::string> missing_from(const std::set<std::string>& expected, const std::map<std::string, int>& seen) {
  std::vector<std::string> missing;
  for (const auto& key : expected)
    if (!seen.count(key)) missing.push_back(key);
  return missing;
}

}  // namespace nats_test
