// Scale out, end to end: two `sluice serve` nodes with nginx in front, started by
// tools/cluster/up on loopback (ephemeral ports, a temporary state directory) and stopped by
// tools/cluster/down. Packets are posted through nginx; what each node processed is counted on
// the node itself (stats, /metrics) and in the JSON-lines file its graph writes, so that
// "exactly once" is checked packet by packet. `sluice deploy` is checked against such a cluster.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sluice/json.hpp>

#include "http_client.hpp"
#include "scratch.hpp"

using namespace rest_test;
namespace fs = std::filesystem;

namespace {

// For /bin/sh: one word, whatever it holds.
std::string quoted(const std::string& word) {
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Command {
  int status = 0;
  std::string out, err;
};

// Runs a shell command line, its stdout and stderr into files of `dir`, read back.
Command run(const std::string& command_line, const fs::path& dir) {
  const fs::path out = dir / "command.out", err = dir / "command.err";
  const int status = std::system((command_line + " >" + quoted(out) + " 2>" + quoted(err)).c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), read_file(out), read_file(err)};
}

std::uint16_t port_of(std::string_view url) {  // http://127.0.0.1:PORT
  return static_cast<std::uint16_t>(std::stoi(std::string(url.substr(url.rfind(':') + 1))));
}

// Two nodes and nginx from tools/cluster/up; tools/cluster/down when it goes out of scope.
class Cluster {
 public:
  Cluster(const TempDir& dir, const std::vector<std::string>& extra_args = {})
      : dir_(dir.path), state_(dir.path / "state") {
    // The nodes and nginx outlive `up`, which started them; as a subreaper this process
    // becomes their parent, so it can wait for a node's exit and read its status.
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) throw std::runtime_error("prctl(PR_SET_CHILD_SUBREAPER) failed");
    std::string line = quoted(CLUSTER_TOOLS "/up") + " 2 --port 0 --workers 2 --state " + quoted(state_) +
                       " --graphs " + quoted(dir.path / "graphs") + " --sluice " + quoted(SLUICE_EXE);
    bool plugins_given = false;
    for (const auto& arg : extra_args) {
      line += ' ' + quoted(arg);
      plugins_given = plugins_given || arg == "--plugins";
    }
    if (!plugins_given) line += " --plugins " + quoted(PLUGIN_BUILD_DIR);
    const Command up = run(line, dir_);
    if (up.status != 0)
      throw std::runtime_error("tools/cluster/up failed (" + std::to_string(up.status) + "):\n" + up.out + up.err);
    MESSAGE(up.out);
    balancer_port_ = port_of(read_file(state_ / "url"));
    std::istringstream nodes(read_file(state_ / "nodes"));
    for (std::string url; std::getline(nodes, url);) {
      node_urls_.push_back(url);
      node_ports_.push_back(port_of(url));
    }
    if (node_ports_.size() != 2) throw std::runtime_error("state/nodes does not list two nodes");
  }

  ~Cluster() {
    const Command down = run(quoted(CLUSTER_TOOLS "/down") + " --state " + quoted(state_), dir_);
    if (down.status != 0) MESSAGE("tools/cluster/down failed: " << down.out << down.err);
    // Reap what exited (nginx, the nodes): they are this process's children now.
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }

  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  std::uint16_t balancer_port() const { return balancer_port_; }
  std::uint16_t node_port(std::size_t i) const { return node_ports_.at(i); }
  const std::vector<std::string>& node_urls() const { return node_urls_; }
  fs::path node_dir(std::size_t i) const { return state_ / ("node-" + std::to_string(i + 1)); }
  pid_t node_pid(std::size_t i) const { return std::stoi(read_file(node_dir(i) / "pid")); }

 private:
  fs::path dir_, state_;
  std::uint16_t balancer_port_ = 0;
  std::vector<std::string> node_urls_;
  std::vector<std::uint16_t> node_ports_;
};

// Every packet posted ends up as one line of the node's own var/data/count.jsonl (each node runs in
// its own directory), and the stats of node `out` count it.
const std::string count_graph = R"(name: count
description: writes every packet posted to this node's data directory, var/data/count.jsonl
nodes:
  out: { component: jsonl_file, params: { path: count.jsonl } }
)";

const Headers ndjson_type = {{"Content-Type", "application/x-ndjson"}};

// `count` packets {"n": first}, {"n": first + 1}, … as NDJSON.
std::string ndjson(int first, int count) {
  std::string body;
  for (int n = first; n < first + count; ++n) body += "{\"n\": " + std::to_string(n) + ", \"text\": \"some short text\"}\n";
  return body;
}

// What node `out` of graph `count` has taken in, from the node's own stats.
std::int64_t sink_count(std::uint16_t node_port) {
  const auto r = http(node_port, "GET", "/v1/graphs/count/stats");
  if (r.status != 200) throw std::runtime_error("stats: " + std::to_string(r.status) + " " + r.body);
  const sluice::Value stats = r.json();
  for (const auto& node : stats.get("nodes")->as_array())
    if (node.get("node")->as_string() == "out") return node.get("in")->as_int();
  throw std::runtime_error("stats without node 'out': " + r.body);
}

// The same count from /metrics.
std::int64_t metrics_count(std::uint16_t node_port) {
  const auto r = http(node_port, "GET", "/metrics");
  if (r.status != 200) throw std::runtime_error("/metrics: " + std::to_string(r.status));
  const std::string series = "sluice_node_packets_in_total{graph=\"count\",node=\"out\",component=\"jsonl_file\"} ";
  const auto at = r.body.find(series);
  if (at == std::string::npos) throw std::runtime_error("/metrics has no " + series + "series:\n" + r.body);
  return std::stoll(r.body.substr(at + series.size()));
}

// How often each packet number appears in a node's var/data/count.jsonl.
void count_lines(const fs::path& file, std::map<std::int64_t, int>& seen) {
  std::istringstream lines(read_file(file));
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) ++seen[sluice::json::parse(line).get("n")->as_int()];
}

std::size_t line_count(const fs::path& file) {
  const std::string text = read_file(file);
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// The packet numbers in [0, total) that are not there exactly once, for the failure message.
std::string not_once(const std::map<std::int64_t, int>& seen, std::int64_t total) {
  std::string out;
  std::size_t listed = 0;
  for (std::int64_t n = 0; n < total && listed < 20; ++n) {
    const auto it = seen.find(n);
    const int times = it == seen.end() ? 0 : it->second;
    if (times != 1) {
      out += std::to_string(n) + "×" + std::to_string(times) + " ";
      ++listed;
    }
  }
  for (const auto& [n, times] : seen)
    if ((n < 0 || n >= total) && listed++ < 20) out += "unexpected " + std::to_string(n) + " ";
  return out;
}

// A keep-alive client of the balancer that reconnects when nginx closes the connection.
class BalancerClient {
 public:
  explicit BalancerClient(std::uint16_t port) : port_(port) {}
  HttpResult post(const std::string& body) {
    if (!connection_) connection_ = std::make_unique<HttpConnection>(port_);
    HttpResult r = connection_->request("POST", "/v1/graphs/count/packets", body, ndjson_type);
    if (r.header("connection").value_or("") == "close") connection_.reset();
    return r;
  }

 private:
  std::uint16_t port_;
  std::unique_ptr<HttpConnection> connection_;
};

}  // namespace

TEST_CASE("10 000 packets through nginx: every packet processed exactly once, both nodes share them") {
  TempDir dir;
  write_file(dir.path / "graphs/count.yaml", count_graph);
  Cluster cluster(dir);

  constexpr int requests = 100, per_request = 100, total = requests * per_request;
  HttpConnection client(cluster.balancer_port());  // one keep-alive connection for all
  std::vector<std::string> locations;
  for (int i = 0; i < requests; ++i) {
    const auto r = client.request("POST", "/v1/graphs/count/packets", ndjson(i * per_request, per_request), ndjson_type);
    REQUIRE_MESSAGE(r.status == 202, r.status, " ", r.body);
    REQUIRE(r.json().get("accepted")->as_int() == per_request);
    REQUIRE(r.header("connection").value_or("keep-alive") != "close");
    locations.push_back(r.header("location").value_or(""));
  }

  // nginx alternates the nodes, so each holds about half; both must hold some.
  const std::uint16_t a = cluster.node_port(0), b = cluster.node_port(1);
  CHECK(wait_until([&] { return sink_count(a) + sink_count(b) == total; }, std::chrono::seconds(30)));
  const std::int64_t on_a = sink_count(a), on_b = sink_count(b);
  MESSAGE("node 1: " << on_a << " packets, node 2: " << on_b);
  CHECK(on_a + on_b == total);
  CHECK(on_a > 0);
  CHECK(on_b > 0);
  CHECK(metrics_count(a) == on_a);
  CHECK(metrics_count(b) == on_b);

  // Packet by packet: each number in exactly one node's file, once.
  const fs::path file_a = cluster.node_dir(0) / "var/data/count.jsonl", file_b = cluster.node_dir(1) / "var/data/count.jsonl";
  CHECK(wait_until([&] { return line_count(file_a) + line_count(file_b) == total; }, std::chrono::seconds(30)));
  std::map<std::int64_t, int> seen;
  count_lines(file_a, seen);
  count_lines(file_b, seen);
  CHECK_MESSAGE(not_once(seen, total).empty(), "not exactly once (n×times): ", not_once(seen, total));

  // A 202's Location leads, through the balancer, to the node that holds the stream.
  for (const auto& location : {locations.front(), locations.back()}) {
    CAPTURE(location);
    REQUIRE(location.starts_with("/nodes/"));
    CHECK(wait_until([&] {
      const auto r = http(cluster.balancer_port(), "GET", location);
      return r.status == 200 && r.json().get("status")->as_string() == "done";
    }, std::chrono::seconds(10)));
  }
  CHECK(locations.front().substr(0, 9) != locations[1].substr(0, 9));  // /nodes/1/ and /nodes/2/
}

TEST_CASE("a node stopped (SIGTERM) in the middle: clients retry only what was refused, nothing admitted is lost") {
  TempDir dir;
  write_file(dir.path / "graphs/count.yaml", count_graph);
  Cluster cluster(dir);
  const pid_t stopping = cluster.node_pid(1);

  // Four clients, each on its own keep-alive connection, 25 requests of 100 packets each. A
  // request that was not admitted (502: no node answered; 503: the node is stopping; 429:
  // full) is sent again, the same packets; a 202 is never sent again.
  constexpr int clients = 4, requests_each = 25, per_request = 100;
  constexpr int total = clients * requests_each * per_request;
  constexpr int stop_after = 30;  // admitted requests before the SIGTERM
  std::atomic<int> admitted_requests{0};
  std::atomic<std::int64_t> admitted_packets{0};
  std::mutex mutex;
  std::map<int, int> refusals;  // status → how many times
  std::vector<std::string> failures;
  auto post_all = [&](int client_index) {
    BalancerClient client(cluster.balancer_port());
    for (int i = 0; i < requests_each; ++i) {
      const int first = (client_index * requests_each + i) * per_request;
      const std::string body = ndjson(first, per_request);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      for (;;) {
        HttpResult r;
        try {
          r = client.post(body);
        } catch (const std::exception& e) {
          // No answer from nginx itself: whether a node admitted the packets is unknown.
          std::lock_guard lock(mutex);
          failures.push_back(std::string("no answer from the balancer: ") + e.what());
          return;
        }
        if (r.status == 202) {
          admitted_packets += r.json().get("accepted")->as_int();
          if (++admitted_requests == stop_after) ::kill(stopping, SIGTERM);
          break;
        }
        {
          std::lock_guard lock(mutex);
          ++refusals[r.status];
          if (r.status != 502 && r.status != 503 && r.status != 429) {
            failures.push_back("unexpected " + std::to_string(r.status) + ": " + r.body);
            return;
          }
        }
        if (std::chrono::steady_clock::now() >= deadline) {
          std::lock_guard lock(mutex);
          failures.push_back("still refused after 30 s: " + std::to_string(r.status) + " " + r.body);
          return;
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) threads.emplace_back(post_all, c);
  for (auto& t : threads) t.join();
  for (const auto& failure : failures) FAIL_CHECK(failure);
  std::string refused;
  for (const auto& [status, times] : refusals) refused += std::to_string(status) + "×" + std::to_string(times) + " ";
  MESSAGE("refused and retried: " << (refused.empty() ? "none" : refused));
  REQUIRE(admitted_packets == total);

  // The stopped node drains what it admitted, flushes, and exits 0.
  int status = 0;
  REQUIRE(wait_until([&] { return ::waitpid(stopping, &status, WNOHANG) == stopping; }, std::chrono::seconds(30)));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(read_file(cluster.node_dir(1) / "serve.log").find("sluice serve: stopped") != std::string::npos);
  CHECK(http(cluster.node_port(0), "GET", "/metrics").status == 200);

  // Every admitted packet is in a node's file exactly once: none lost with the stopped node,
  // none doubled by a retry.
  const fs::path file_a = cluster.node_dir(0) / "var/data/count.jsonl", file_b = cluster.node_dir(1) / "var/data/count.jsonl";
  CHECK(wait_until([&] { return line_count(file_a) + line_count(file_b) >= total; }, std::chrono::seconds(30)));
  std::map<std::int64_t, int> seen;
  count_lines(file_a, seen);
  count_lines(file_b, seen);
  const std::size_t on_b = line_count(file_b);
  MESSAGE("the stopped node processed " << on_b << " packets, the other " << line_count(file_a));
  CHECK(on_b > 0);
  CHECK(line_count(file_a) + on_b == total);
  CHECK_MESSAGE(not_once(seen, total).empty(), "not exactly once (n×times): ", not_once(seen, total));
  CHECK(sink_count(cluster.node_port(0)) == static_cast<std::int64_t>(line_count(file_a)));
}

TEST_CASE("sluice deploy: validated here, PUT to every node, each node's answer reported") {
  TempDir dir;
  fs::create_directories(dir.path / "graphs");
  write_file(dir.path / "token", "s3cret\n");
  // The nodes get only the publish package: a graph using `keep` (flow) passes the local check
  // (all bundled plugins) and is refused by the nodes.
  Cluster cluster(dir, {"--plugins", PLUGIN_BUILD_DIR "/publish", "--token-file", (dir.path / "token").string()});
  const std::string nodes = cluster.node_urls().at(0) + "," + cluster.node_urls().at(1);
  auto deploy = [&](const fs::path& file, const std::string& node_list, bool token) {
    return run(quoted(SLUICE_EXE) + " deploy --plugins " + quoted(PLUGIN_BUILD_DIR) + " --nodes " + quoted(node_list) +
                   (token ? " --token-file " + quoted((dir.path / "token").string()) : "") + " --timeout 20 " + quoted(file),
               dir.path);
  };
  write_file(dir.path / "sink.yaml", "name: sink\nnodes:\n  out: { component: counter }\n");

  SUBCASE("deployed to both, then replaced; each node keeps the file") {
    auto first = deploy(dir.path / "sink.yaml", nodes, true);
    CAPTURE(first.out);
    CAPTURE(first.err);
    CHECK(first.status == 0);
    CHECK(first.out.find(cluster.node_urls()[0] + ": 201 deployed (new)") != std::string::npos);
    CHECK(first.out.find(cluster.node_urls()[1] + ": 201 deployed (new)") != std::string::npos);
    CHECK(first.out.find("sink on 2 of 2 nodes") != std::string::npos);
    for (std::size_t i = 0; i < 2; ++i) {
      CHECK(http(cluster.node_port(i), "GET", "/v1/graphs/sink", {}, {{"Authorization", "Bearer s3cret"}}).status == 200);
      CHECK(read_file(cluster.node_dir(i) / "graphs/sink.yaml").find("component: counter") != std::string::npos);
    }
    auto again = deploy(dir.path / "sink.yaml", nodes, true);
    CHECK(again.status == 0);
    CHECK(again.out.find(": 200 deployed (replaced)") != std::string::npos);
  }

  SUBCASE("an invalid graph is reported like sluice check and reaches no node") {
    write_file(dir.path / "typo.yaml", "name: typo\nnodes:\n  out: { component: countr }\n");
    auto r = deploy(dir.path / "typo.yaml", nodes, true);
    CHECK(r.status == 1);
    CAPTURE(r.err);
    CHECK(r.err.find("typo.yaml:3:") != std::string::npos);
    CHECK(r.err.find("unknown component 'countr' (did you mean 'counter'?)") != std::string::npos);
    CHECK(r.err.find("nothing deployed") != std::string::npos);
    CHECK(http(cluster.node_port(0), "GET", "/v1/graphs/typo", {}, {{"Authorization", "Bearer s3cret"}}).status == 404);
  }

  SUBCASE("per node: refused without the token, refused by a node's plugins, unreachable") {
    auto no_token = deploy(dir.path / "sink.yaml", nodes, false);
    CHECK(no_token.status == 1);
    CHECK(no_token.err.find(": 401 Unauthorized") != std::string::npos);
    CHECK(no_token.err.find("--token-file") != std::string::npos);

    write_file(dir.path / "filter.yaml", "name: filter\nnodes:\n  pick: { component: keep, params: { if: 'n > 1' } }\n"
                                         "  out: { component: counter }\npipeline: [pick, out]\n");
    auto refused = deploy(dir.path / "filter.yaml", nodes, true);
    CAPTURE(refused.err);
    CHECK(refused.status == 1);
    CHECK(refused.err.find(cluster.node_urls()[1] + ": 422 ") != std::string::npos);
    CHECK(refused.err.find("unknown component 'keep'") != std::string::npos);
    CHECK(refused.err.find("filter.yaml:3:") != std::string::npos);  // where, in the file sent
    CHECK(refused.out.find("filter on 0 of 2 nodes") != std::string::npos);

    // Port 1 on loopback: nothing listens there, the connection is refused.
    auto partial = deploy(dir.path / "sink.yaml", cluster.node_urls()[0] + ",http://127.0.0.1:1", true);
    CAPTURE(partial.err);
    CHECK(partial.status == 1);
    CHECK(partial.out.find(cluster.node_urls()[0] + ": 201 deployed (new)") != std::string::npos);
    CHECK(partial.err.find("http://127.0.0.1:1: failed: cannot connect to 127.0.0.1:1: Connection refused") != std::string::npos);
    CHECK(partial.out.find("sink on 1 of 2 nodes; 1 failed") != std::string::npos);
  }
}

TEST_CASE("TLS ends at nginx: https with keep-alive, a 2 MB upload, sluice deploy over https, certificates reread on SIGHUP") {
  TempDir dir;
  fs::create_directories(dir.path / "graphs");
  fs::create_directories(dir.path / "certs");
  write_file(dir.path / "graphs/count.yaml", count_graph);
  const fs::path certs = dir.path / "certs";
  const Command made = run(quoted(MAKE_TEST_CERTIFICATES) + " " + quoted(certs), dir.path);
  REQUIRE_MESSAGE(made.status == 0, read_file(certs / "openssl.log"));
  // nginx reads the files it was started with again on SIGHUP: these two are replaced below.
  fs::copy_file(certs / "server.pem", certs / "live.pem");
  fs::copy_file(certs / "server.key", certs / "live.key");
  Cluster cluster(dir, {"--tls-cert", (certs / "live.pem").string(), "--tls-key", (certs / "live.key").string()});
  const std::string base = "https://127.0.0.1:" + std::to_string(cluster.balancer_port());
  const std::string ca = " --cacert " + quoted(certs / "ca.pem");

  // Two requests on one connection: curl connects once.
  const auto keep_alive = run("curl -sS" + ca + " -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\\n' " +
                                  quoted(base + "/healthz") + " " + quoted(base + "/healthz"),
                              dir.path);
  CAPTURE(keep_alive.err);
  CHECK(keep_alive.out == "200 1\n200 0\n");

  // A 2 MB NDJSON upload, answered 202, from Python's http.client (verifying against the CA).
  write_file(dir.path / "upload.py", R"(import http.client, json, ssl, sys
context = ssl.create_default_context(cafile=sys.argv[2])
connection = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=context)
body = "".join('{"n": %d, "text": "%s"}\n' % (n, "x" * 180) for n in range(10000)).encode()
assert len(body) > 2000000
for attempt in range(2):  # twice on the same connection
    connection.request("POST", "/v1/graphs/count/packets", body, {"Content-Type": "application/x-ndjson"})
    answer = connection.getresponse()
    print(answer.status, json.loads(answer.read())["accepted"])
)");
  const auto upload = run("python3 " + quoted(dir.path / "upload.py") + " " + std::to_string(cluster.balancer_port()) +
                              " " + quoted(certs / "ca.pem"),
                          dir.path);
  CAPTURE(upload.err);
  CHECK(upload.out == "202 10000\n202 10000\n");

  // sluice deploy reaches a node through https, verifying against the CA; without it the
  // system store does not know the test CA and the reason is named.
  write_file(dir.path / "sink.yaml", "name: sink\nnodes:\n  out: { component: counter }\n");
  const auto deployed = run(quoted(SLUICE_EXE) + " deploy --plugins " + quoted(PLUGIN_BUILD_DIR) + " --nodes " + quoted(base) +
                                " --tls-ca-file " + quoted(certs / "ca.pem") + " " + quoted(dir.path / "sink.yaml"),
                            dir.path);
  CAPTURE(deployed.err);
  CHECK(deployed.status == 0);
  CHECK(deployed.out.find(base + ": 201 deployed (new)") != std::string::npos);
  const auto unverified = run(quoted(SLUICE_EXE) + " deploy --plugins " + quoted(PLUGIN_BUILD_DIR) + " --nodes " +
                                  quoted(base) + " " + quoted(dir.path / "sink.yaml"),
                              dir.path);
  CHECK(unverified.status == 1);
  CHECK(unverified.err.find("TLS handshake with 127.0.0.1:" + std::to_string(cluster.balancer_port()) +
                            " failed: unable to get local issuer certificate") != std::string::npos);

  // A new certificate (for wrong.example) and SIGHUP: new connections get it.
  fs::copy_file(certs / "other-host.pem", certs / "live.pem", fs::copy_options::overwrite_existing);
  fs::copy_file(certs / "other-host.key", certs / "live.key", fs::copy_options::overwrite_existing);
  REQUIRE(::kill(std::stoi(read_file(dir.path / "state/nginx.pid")), SIGHUP) == 0);
  const auto resolve = " --resolve " + quoted("wrong.example:" + std::to_string(cluster.balancer_port()) + ":127.0.0.1");
  const std::string by_new_name = "curl -sS" + ca + resolve + " -o /dev/null -w '%{http_code}' " +
                                  quoted("https://wrong.example:" + std::to_string(cluster.balancer_port()) + "/healthz");
  const std::string by_old_name = "curl -sS" + ca + " -o /dev/null " + quoted(base + "/healthz");
  // The old worker serves on until it has taken the signal to stop, so wait for both signs.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  Command reread, old_name;
  do {
    reread = run(by_new_name, dir.path);
    old_name = run(by_old_name, dir.path);
  } while ((reread.status != 0 || old_name.status != 60) && std::chrono::steady_clock::now() < deadline);
  CAPTURE(reread.err);
  CAPTURE(old_name.err);
  // TLS now succeeds for wrong.example; the node then refuses the foreign Host (421).
  CHECK(reread.status == 0);
  CHECK(reread.out == "421");
  CHECK(old_name.status == 60);  // the new certificate is not 127.0.0.1's
}
