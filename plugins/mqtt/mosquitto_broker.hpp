// A real Mosquitto broker (Debian's `mosquitto`) for the MQTT tests, and a plain libmosquitto
// client to talk to it from the test.
//
//   MosquittoBroker broker;                   // temp dir, free loopback port, persistence on
//   TestClient subscriber(broker.port(), "t/#");
//   TestClient(broker.port()).publish("t/a", "hello", 1);
//   REQUIRE(subscriber.wait_for(1));
//   broker.restart();                         // SIGTERM (it saves its database), same port
//
// The broker is killed when the fixture goes out of scope, also when the test fails.
#pragma once

#include <mosquitto.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "loopback_ports.hpp"

namespace mqtt_test {

namespace fs = std::filesystem;

using plugin_test::accepts_connections;
using plugin_test::free_loopback_port;

class MosquittoBroker {
 public:
  // `extra_config`: more lines for mosquitto.conf (a TLS listener's files, a password_file
  // with allow_anonymous false, ...).
  explicit MosquittoBroker(std::string extra_config = "")
      : dir_(fs::temp_directory_path() / ("sluice-mosquitto-" + std::to_string(::getpid()) + "-" + std::to_string(++made_))),
        extra_config_(std::move(extra_config)) {
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");
    // Another process may take the port between the probe and the broker's bind: try again.
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = free_loopback_port();
      if (launch()) return;
    }
    throw std::runtime_error("mosquitto did not start; its log:\n" + log());
  }
  ~MosquittoBroker() {
    kill_now();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  MosquittoBroker(const MosquittoBroker&) = delete;
  MosquittoBroker& operator=(const MosquittoBroker&) = delete;

  std::uint16_t port() const { return port_; }
  const fs::path& dir() const { return dir_; }
  std::string log() const {
    std::ifstream in(dir_ / "mosquitto.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // Stops the broker as an operator would (SIGTERM: it writes its database) and waits.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // Starts it again on the same port, with what its database kept.
  void start() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!launch())  // the old socket may linger for a moment
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("mosquitto did not restart:\n" + log());
  }
  void restart() {
    stop();
    start();
  }

 private:
  bool launch() {
    {
      std::ofstream conf(dir_ / "mosquitto.conf", std::ios::trunc);
      conf << "listener " << port_ << " 127.0.0.1\n"
           << "persistence true\n"
           << "persistence_location " << (dir_ / "data").string() << "/\n"
           << "log_dest file " << (dir_ / "mosquitto.log").string() << "\n"
           // A persistent session's queue: the tests leave thousands of messages while away.
           << "max_queued_messages 100000\n"
           << extra_config_ << '\n';
      if (extra_config_.find("allow_anonymous") == std::string::npos) conf << "allow_anonymous true\n";
      // As root mosquitto would become user `mosquitto`, who cannot write the test's directory.
      if (::geteuid() == 0) conf << "user root\n";
    }
    const std::string conf = (dir_ / "mosquitto.conf").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execlp("mosquitto", "mosquitto", "-c", conf.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    if (pid_ < 0) throw std::runtime_error("fork failed");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: the port was taken, or a bad config
        pid_ = -1;
        return false;
      }
      if (accepts_connections(port_)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill_now();
    return false;
  }
  void kill_now() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  fs::path dir_;
  std::string extra_config_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  static inline int made_ = 0;
};

// A libmosquitto client on its own network thread: publishes, and collects what its
// subscription receives.
class TestClient {
 public:
  struct Message {
    std::string topic, payload;
    int qos;
    bool retain;
  };

  explicit TestClient(std::uint16_t port, std::string subscription = "", std::string client_id = "",
                      const std::string& host = "127.0.0.1")
      : subscription_(std::move(subscription)) {
    mosquitto_lib_init();
    client_ = mosquitto_new(client_id.empty() ? nullptr : client_id.c_str(), client_id.empty(), this);
    mosquitto_connect_callback_set(client_, [](mosquitto* c, void* self, int rc) {
      auto& t = *static_cast<TestClient*>(self);
      if (rc == 0 && !t.subscription_.empty()) mosquitto_subscribe(c, nullptr, t.subscription_.c_str(), 1);
    });
    mosquitto_subscribe_callback_set(client_, [](mosquitto*, void* self, int, int, const int*) {
      auto& t = *static_cast<TestClient*>(self);
      std::lock_guard lock(t.mutex_);
      t.subscribed_ = true;
      t.changed_.notify_all();
    });
    mosquitto_message_callback_set(client_, [](mosquitto*, void* self, const mosquitto_message* m) {
      auto& t = *static_cast<TestClient*>(self);
      std::lock_guard lock(t.mutex_);
      t.messages_.push_back({m->topic, std::string(static_cast<const char*>(m->payload), m->payloadlen), m->qos, m->retain});
      t.changed_.notify_all();
    });
    mosquitto_publish_callback_set(client_, [](mosquitto*, void* self, int) {
      auto& t = *static_cast<TestClient*>(self);
      std::lock_guard lock(t.mutex_);
      ++t.acknowledged_;
      t.changed_.notify_all();
    });
    mosquitto_max_inflight_messages_set(client_, 1000);
    mosquitto_reconnect_delay_set(client_, 1, 2, false);
    if (mosquitto_connect(client_, host.c_str(), port, 30) != MOSQ_ERR_SUCCESS)
      throw std::runtime_error("test client: cannot connect to port " + std::to_string(port));
    mosquitto_loop_start(client_);
    if (!subscription_.empty()) {
      std::unique_lock lock(mutex_);
      if (!changed_.wait_for(lock, std::chrono::seconds(10), [&] { return subscribed_; }))
        throw std::runtime_error("test client: no SUBACK");
    }
  }
  ~TestClient() {
    mosquitto_disconnect(client_);
    mosquitto_loop_stop(client_, false);
    mosquitto_destroy(client_);
  }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  void publish(const std::string& topic, const std::string& payload, int qos = 1, bool retain = false) {
    if (mosquitto_publish(client_, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos, retain) !=
        MOSQ_ERR_SUCCESS)
      throw std::runtime_error("test client: publish failed");
  }
  // Until `count` publishes were acknowledged (QoS 1/2) or sent (QoS 0).
  bool wait_published(std::size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return acknowledged_ >= count; });
  }
  // Until `count` messages arrived.
  bool wait_for(std::size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return messages_.size() >= count; });
  }
  std::vector<Message> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 private:
  mosquitto* client_ = nullptr;
  std::string subscription_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool subscribed_ = false;
  std::size_t acknowledged_ = 0;
  std::vector<Message> messages_;
};

}  // namespace mqtt_test
