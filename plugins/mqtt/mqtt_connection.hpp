// MqttConnection — one libmosquitto client shared by mqtt_publish and mqtt_source: the
// connection params both take (broker address, client id, credentials, TLS), the network
// thread of libmosquitto (mosquitto_loop_start), and reconnecting with bounded exponential
// backoff when the broker goes away. Messages a connection lost in flight are sent again by
// libmosquitto after it reconnects (the same client object keeps them).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <sluice/component.hpp>
#include <sluice/http_client.hpp>

struct mosquitto;
struct mosquitto_message;

namespace sluice::mqtt {


struct ConnectionSettings {
  std::string host;
  int port = 1883;
  std::string client_id;  // "" lets the broker pick one (then the session must be clean)
  bool clean_session = true;
  int keepalive_s = 30;
  std::string username, password;
  std::optional<http::TlsOptions> tls;  // absent: plain TCP
  std::string address() const { return host + ":" + std::to_string(port); }
};

// The params every MQTT component has: host, port, client_id, username, password (secret),
// keepalive_s, tls {ca_file, verify, client_cert, client_key, server_name} (the names of the
// SDK's http::TlsOptions).
std::vector<ParamSpec> connection_params(std::string client_id_description);
// Reads them, checking what the table cannot (tls keys and their files, a password without a
// username); throws std::invalid_argument naming the param.
ConnectionSettings connection_settings(const Params& params);

class MqttConnection {
 public:
  using MessageHandler = std::function<void(const mosquitto_message&)>;
  using PublishedHandler = std::function<void(int mid)>;
  // `session_present`: the broker still had this client id's persistent session.
  using ConnectedHandler = std::function<void(mosquitto*, bool session_present)>;

  explicit MqttConnection(ConnectionSettings settings);
  ~MqttConnection();  // disconnects and joins the network thread
  MqttConnection(const MqttConnection&) = delete;
  MqttConnection& operator=(const MqttConnection&) = delete;

  // Handlers run on the network thread; set them before start().
  void on_message(MessageHandler handler) { on_message_ = std::move(handler); }
  void on_published(PublishedHandler handler) { on_published_ = std::move(handler); }
  void on_connected(ConnectedHandler handler) { on_connected_ = std::move(handler); }

  // Starts connecting in the background; `who` ("graph/node") names the node in the messages
  // printed when the broker refuses or drops the connection.
  void start(const std::string& who);
  // Until the broker has accepted the connection or `deadline`; false on timeout.
  bool wait_connected(Clock::time_point deadline);
  bool connected() const;
  mosquitto* handle() const { return client_; }
  const ConnectionSettings& settings() const { return settings_; }
  // "graph/node: mqtt host:port: " for messages.
  std::string where() const { return who_ + ": mqtt " + settings_.address() + ": "; }
  // A line in the server's log under the node: "mqtt host:port: text".
  void say(LogLevel level, std::string_view text) const {
    NodeLog(who_).write(level, "mqtt " + settings_.address() + ": " + std::string(text));
  }

 private:
  static void connected_callback(mosquitto*, void* self, int rc, int flags);
  static void disconnected_callback(mosquitto*, void* self, int rc);
  static void message_callback(mosquitto*, void* self, const mosquitto_message* message);
  static void published_callback(mosquitto*, void* self, int mid);

  ConnectionSettings settings_;
  std::string who_;
  mosquitto* client_ = nullptr;
  bool started_ = false;
  MessageHandler on_message_;
  PublishedHandler on_published_;
  ConnectedHandler on_connected_;
  mutable std::mutex mutex_;
  std::condition_variable state_changed_;
  bool connected_ = false;
  std::string last_problem_;  // printed once per kind of failure, not on every retry
};

// libmosquitto's text for a MOSQ_ERR_* code.
std::string error_text(int code);

}  // namespace sluice::mqtt
