// Real nats-server processes (Debian's) for the NATS tests, here and in tests/nats/ (a plugin's
// test includes only its own folder): one JetStream server, or a cluster
// of them, each on a free loopback port with its store in a temporary directory; killed at the
// end, also when a test fails. NatsClient is the tests' own libnats client: streams, publishes,
// and reading a stream back.
//
//   NatsServer server(dir / "n1");                 // started; server.url() is nats://127.0.0.1:PORT
//   server.kill(SIGKILL); server.start();          // a restart on the same port and store
//   NatsClient client(server.url());
//   client.add_stream("IN", "in.>", 1);
//   client.publish("in.a", R"({"key": "k1"})", "id-1");
#pragma once

#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "loopback_ports.hpp"

namespace nats_test {

using plugin_test::free_loopback_port;

inline bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

class NatsServer {
 public:
  // Clients connect to `port` (0: a free one). A cluster member when `cluster_port` is given:
  // it routes to `routes` (the members' cluster ports). `extra_config` is appended to the
  // configuration file (a tls block). Starts at once and waits (up to 20 s) for the client
  // port to answer.
  explicit NatsServer(std::filesystem::path dir, std::uint16_t port = 0, std::uint16_t cluster_port = 0,
                      std::vector<std::uint16_t> routes = {}, const std::string& extra_config = "")
      : dir_(std::move(dir)), port_(port ? port : free_loopback_port()) {
    std::filesystem::create_directories(dir_ / "store");
    std::ofstream config(dir_ / "server.conf");
    config << "listen: 127.0.0.1:" << port_ << "\n"
           << "server_name: " << dir_.filename().string() << "\n"
           << "jetstream { store_dir: \"" << (dir_ / "store").string() << "\" }\n";
    if (cluster_port) {
      config << "cluster { name: sluice-test\n  listen: 127.0.0.1:" << cluster_port << "\n  routes: [";
      for (std::size_t i = 0; i < routes.size(); ++i) config << (i ? ", " : "") << "nats://127.0.0.1:" << routes[i];
      config << "]\n}\n";
    }
    config << extra_config;
    config.close();
    start();
  }
  ~NatsServer() { kill(SIGKILL); }
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  void start() {
    const std::string conf = (dir_ / "server.conf").string(), log = (dir_ / "server.log").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // gone with the test, even when it crashes
      ::execlp("nats-server", "nats-server", "-c", conf.c_str(), "-l", log.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (!eventually([&] { return plugin_test::accepts_connections(port_); }, std::chrono::seconds(20)))
      throw std::runtime_error("nats-server on port " + std::to_string(port_) + " did not answer; see " + log);
  }
  // Sends `signal` and waits for the exit; nothing when it is not running.
  void kill(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  std::uint16_t port() const { return port_; }
  // The warnings and errors of its log ([WRN], [ERR]), the last `limit` of them: what a failed
  // test prints to tell a server's trouble from sluice's.
  std::string log_warnings(std::size_t limit = 20) const {
    std::ifstream log(dir_ / "server.log");
    std::vector<std::string> lines;
    for (std::string line; std::getline(log, line);)
      if (line.find("[WRN]") != std::string::npos || line.find("[ERR]") != std::string::npos) lines.push_back(line);
    std::string text = dir_.filename().string() + " (" + url() + "):\n";
    for (std::size_t i = lines.size() > limit ? lines.size() - limit : 0; i < lines.size(); ++i) text += lines[i] + "\n";
    return text;
  }

 private:
  std::filesystem::path dir_;
  std::uint16_t port_;
  pid_t pid_ = -1;
};

// A 3-server JetStream cluster on loopback.
struct NatsCluster {
  explicit NatsCluster(const std::filesystem::path& dir) {
    const std::vector<std::uint16_t> routes = {free_loopback_port(), free_loopback_port(), free_loopback_port()};
    for (std::size_t i = 0; i < routes.size(); ++i)
      servers.push_back(std::make_unique<NatsServer>(dir / ("n" + std::to_string(i + 1)), 0, routes[i], routes));
  }
  std::vector<std::string> urls() const {
    std::vector<std::string> all;
    for (const auto& s : servers) all.push_back(s->url());
    return all;
  }
  std::vector<std::unique_ptr<NatsServer>> servers;
};

// The test's own client. Every call throws std::runtime_error with libnats' text on failure.
class NatsClient {
 public:
  explicit NatsClient(const std::vector<std::string>& urls) {
    check(natsOptions_Create(&options_), "options");
    std::vector<const char*> servers;
    for (const auto& u : urls) servers.push_back(u.c_str());
    check(natsOptions_SetServers(options_, servers.data(), static_cast<int>(servers.size())), "servers");
    natsOptions_SetMaxReconnect(options_, -1);
    natsOptions_SetReconnectWait(options_, 100);
    check(natsConnection_Connect(&connection_, options_), "connect");
    check(natsConnection_JetStream(&js_, connection_, nullptr), "JetStream");
  }
  explicit NatsClient(const std::string& url) : NatsClient(std::vector<std::string>{url}) {}
  ~NatsClient() {
    jsCtx_Destroy(js_);
    natsConnection_Destroy(connection_);
    natsOptions_Destroy(options_);
  }
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  // Retried for up to 30 s: a new cluster elects its JetStream leader first.
  void add_stream(const std::string& name, const std::string& subjects, int replicas) {
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = name.c_str();
    const char* list[] = {subjects.c_str()};
    config.Subjects = list;
    config.SubjectsLen = 1;
    config.Storage = js_FileStorage;
    config.Replicas = replicas;
    natsStatus status = NATS_OK;
    const bool made = eventually(
        [&] {
          jsStreamInfo* info = nullptr;
          status = js_AddStream(&info, js_, &config, nullptr, nullptr);
          jsStreamInfo_Destroy(info);
          return status == NATS_OK;
        },
        std::chrono::seconds(30));
    if (!made) check(status, "add stream " + name);
  }
  // A publish JetStream acked (retried through a lost server for up to 30 s).
  void publish(const std::string& subject, const std::string& body, const std::string& msg_id = "") {
    natsStatus status = NATS_OK;
    const bool stored = eventually(
        [&] {
          jsPubOptions options;
          jsPubOptions_Init(&options);
          if (!msg_id.empty()) options.MsgId = msg_id.c_str();
          jsPubAck* ack = nullptr;
          status = js_Publish(&ack, js_, subject.c_str(), body.data(), static_cast<int>(body.size()), &options, nullptr);
          jsPubAck_Destroy(ack);
          return status == NATS_OK;
        },
        std::chrono::seconds(30));
    if (!stored) check(status, "publish to " + subject);
  }
  std::uint64_t stream_messages(const std::string& stream) {
    jsStreamInfo* info = nullptr;
    check(js_GetStreamInfo(&info, js_, stream.c_str(), nullptr, nullptr), "stream info " + stream);
    const std::uint64_t count = info->State.Msgs;
    jsStreamInfo_Destroy(info);
    return count;
  }
  // Of the consumer: messages delivered and not acked, and messages not delivered yet.
  std::pair<std::int64_t, std::uint64_t> consumer_backlog(const std::string& stream, const std::string& durable) {
    jsConsumerInfo* info = nullptr;
    check(js_GetConsumerInfo(&info, js_, stream.c_str(), durable.c_str(), nullptr, nullptr), "consumer info " + durable);
    const std::pair<std::int64_t, std::uint64_t> backlog{info->NumAckPending, info->NumPending};
    jsConsumerInfo_Destroy(info);
    return backlog;
  }
  // The consumer as its leader sees it, in one line: for a failed test's message.
  std::string consumer_report(const std::string& stream, const std::string& durable) {
    jsConsumerInfo* info = nullptr;
    const natsStatus status = js_GetConsumerInfo(&info, js_, stream.c_str(), durable.c_str(), nullptr, nullptr);
    if (status != NATS_OK) return "consumer " + durable + ": no info (" + natsStatus_GetText(status) + ")";
    std::string report = "consumer " + durable + ": delivered up to stream seq " +
                         std::to_string(info->Delivered.Stream) + ", acked up to " +
                         std::to_string(info->AckFloor.Stream) + ", ack pending " +
                         std::to_string(info->NumAckPending) + ", redelivered " +
                         std::to_string(info->NumRedelivered) + ", not delivered " + std::to_string(info->NumPending) +
                         ", pulls waiting " + std::to_string(info->NumWaiting);
    if (info->Cluster && info->Cluster->Leader) report += ", leader " + std::string(info->Cluster->Leader);
    jsConsumerInfo_Destroy(info);
    return report;
  }
  // The bodies of every message in the stream, in order.
  std::vector<std::string> stream_bodies(const std::string& stream) {
    std::vector<std::string> bodies;
    jsStreamInfo* info = nullptr;
    check(js_GetStreamInfo(&info, js_, stream.c_str(), nullptr, nullptr), "stream info " + stream);
    const std::uint64_t first = info->State.FirstSeq, last = info->State.LastSeq;
    jsStreamInfo_Destroy(info);
    for (std::uint64_t seq = first; seq <= last && last > 0; ++seq) {
      natsMsg* msg = nullptr;
      if (js_GetMsg(&msg, js_, stream.c_str(), seq, nullptr, nullptr) != NATS_OK) continue;
      bodies.emplace_back(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
      natsMsg_Destroy(msg);
    }
    return bodies;
  }
  jsCtx* jetstream() { return js_; }

 private:
  static void check(natsStatus status, const std::string& what) {
    if (status == NATS_OK) return;
    natsStatus last = NATS_OK;
    const char* detail = nats_GetLastError(&last);
    throw std::runtime_error("test client: " + what + ": " + natsStatus_GetText(status) + " " + (detail ? detail : ""));
  }
  natsOptions* options_ = nullptr;
  natsConnection* connection_ = nullptr;
  jsCtx* js_ = nullptr;
};

}  // namespace nats_test
