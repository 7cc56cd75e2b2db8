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

// Graph `work`: the durable consumer `workers` of JOBS into done.jsonl, each packet as an
// envelope (its meta tells how often JetStream delivered it) in a write(2) of its own
// (batch_lines: 1) before its message is acked; with `fsync` each write is synced too, which
// makes the work slow enough that a kill finds messages in flight.
inline std::string consume_graph(const std::vector<std::string>& servers, int ack_wait_ms, int max_in_flight,
                                 bool fsync = false) {
  return "name: work\npipeline: [jobs, done]\nnodes:\n"
         "  jobs: {component: nats_source, params: {servers: " + yaml_list(servers) +
         ", stream: JOBS, durable: workers, ack_wait_ms: " + std::to_string(ack_wait_ms) +
         ", max_in_flight: " + std::to_string(max_in_flight) + ", batch: 20}}\n"
         "  done: {component: jsonl_file, params: {path: done.jsonl, format: envelope, batch_lines: 1" +
         (fsync ? ", fsync: always" : "") + "}}\n";
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

// What the `work` graphs wrote: how often each key, and how many packets JetStream had
// delivered before (redeliveries after a node died or a message's ack_wait passed).
struct Processed {
  std::map<std::string, int> times;
  std::size_t redelivered = 0;
  std::size_t duplicates() const {
    std::size_t extra = 0;
    for (const auto& [key, n] : times) extra += static_cast<std::size_t>(n - 1);
    return extra;
  }
};

inline Processed processed(const std::vector<std::filesystem::path>& outputs) {
  Processed all;
  for (const auto& file : outputs) {
    if (!std::filesystem::exists(file)) continue;
    const std::string text = rest_test::read_file(file);
    std::size_t begin = 0, end;
    while ((end = text.find('\n', begin)) != std::string::npos) {  // a line being written has no '\n' yet
      const sluice::Packet packet = sluice::json::parse_envelope(std::string_view(text).substr(begin, end - begin));
      begin = end + 1;
      ++all.times[packet.get("key")->as_string()];
      if (packet.get_meta("delivered")->as_int() > 1) ++all.redelivered;
    }
  }
  return all;
}

inline std::vector<std::string> missing_from(const std::set<std::string>& expected, const Processed& seen) {
  std::vector<std::string> missing;
  for (const auto& key : expected)
    if (!seen.times.count(key)) missing.push_back(key);
  return missing;
}

}  // namespace nats_test
