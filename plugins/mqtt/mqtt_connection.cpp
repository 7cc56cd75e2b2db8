#include "mqtt_connection.hpp"

#include <mosquitto.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <stdexcept>
#include <utility>

#include "tls_param.hpp"

namespace sluice::mqtt {

namespace {

// libmosquitto wants mosquitto_lib_init() once per process before any client.
void init_library_once() {
  static const int initialised = mosquitto_lib_init();
  (void)initialised;
}

}  // namespace

std::string error_text(int code) { return mosquitto_strerror(code); }

std::vector<ParamSpec> connection_params(std::string client_id_description) {
  return {{.name = "host", .type = ParamType::string, .description = "broker host name or address", .default_value = "127.0.0.1"},
          {.name = "port",
           .type = ParamType::integer,
           .description = "broker port (1883 plain, 8883 usual with tls)",
           .default_value = 1883,
           .minimum = 1,
           .maximum = 65535},
          {.name = "client_id", .type = ParamType::string, .description = std::move(client_id_description)},
          {.name = "username", .type = ParamType::string, .description = "user name to log in with"},
          {.name = "password",
           .type = ParamType::string,
           .description = "password of `username` (give it as ${env:NAME} or ${file:PATH})",
           .secret = true},
          {.name = "keepalive_s",
           .type = ParamType::integer,
           .description = "seconds between pings when idle: a broker that stops answering is noticed after 1.5 times this",
           .default_value = 30,
           .minimum = 5,
           .maximum = 65535},
          tls_param_spec("the broker (absent: plain TCP)")};
}

ConnectionSettings connection_settings(const Params& params) {
  ConnectionSettings s;
  s.host = params.get_string("host");
  s.port = static_cast<int>(params.get_int("port"));
  s.client_id = params.get_string("client_id", "");
  s.keepalive_s = static_cast<int>(params.get_int("keepalive_s"));
  s.username = params.get_string("username", "");
  s.password = params.get_string("password", "");
  if (!s.password.empty() && s.username.empty())
    throw std::invalid_argument("param 'password' needs param 'username'");
  if (params.has("tls")) s.tls = parse_tls_param(params.get("tls"));
  return s;
}

MqttConnection::MqttConnection(ConnectionSettings settings) : settings_(std::move(settings)) {
  init_library_once();
  client_ = mosquitto_new(settings_.client_id.empty() ? nullptr : settings_.client_id.c_str(), settings_.clean_session,
                          this);
  if (!client_) throw std::runtime_error("mqtt: cannot make a client: " + error_text(MOSQ_ERR_NOMEM));
  mosquitto_connect_with_flags_callback_set(client_, &MqttConnection::connected_callback);
  mosquitto_disconnect_callback_set(client_, &MqttConnection::disconnected_callback);
  mosquitto_message_callback_set(client_, &MqttConnection::message_callback);
  mosquitto_publish_callback_set(client_, &MqttConnection::published_callback);
  // libmosquitto tells TLS failures (OpenSSL's reason) only through its log.
  mosquitto_log_callback_set(client_, [](mosquitto*, void* self, int level, const char* text) {
    if (level != MOSQ_LOG_ERR) return;
    auto& c = *static_cast<MqttConnection*>(self);
    std::lock_guard lock(c.mutex_);
    if (text != c.last_problem_) c.say(LogLevel::warn, text);
    c.last_problem_ = text;
  });
  // Retried by the network thread: 1 s, doubling, at most 30 s between attempts.
  mosquitto_reconnect_delay_set(client_, 1, 30, true);
  if (!settings_.username.empty())
    mosquitto_username_pw_set(client_, settings_.username.c_str(),
                              settings_.password.empty() ? nullptr : settings_.password.c_str());
  if (settings_.tls) {
    const http::TlsOptions& tls = *settings_.tls;
    auto or_null = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
    if (tls.ca_file.empty()) mosquitto_int_option(client_, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
    if (tls.verify && !tls.server_name.empty()) {
      // libmosquitto checks the certificate against `host` only. Our own context (with its
      // defaults applied by libmosquitto) makes OpenSSL check server_name instead, and the
      // insecure flag below turns libmosquitto's own check of `host` off.
      SSL_CTX* context = SSL_CTX_new(TLS_client_method());
      if (!context) throw std::runtime_error("param 'tls': cannot make an OpenSSL context");
      X509_VERIFY_PARAM_set1_host(SSL_CTX_get0_param(context), tls.server_name.c_str(), 0);
      mosquitto_void_option(client_, MOSQ_OPT_SSL_CTX, context);  // takes a reference of its own
      SSL_CTX_free(context);
      mosquitto_int_option(client_, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 1);
      mosquitto_tls_insecure_set(client_, true);
    }
    const int rc = mosquitto_tls_set(client_, or_null(tls.ca_file), nullptr, or_null(tls.client_cert),
                                     or_null(tls.client_key), nullptr);
    if (rc != MOSQ_ERR_SUCCESS) throw std::invalid_argument("param 'tls': " + error_text(rc));
    if (!tls.verify) {
      mosquitto_tls_opts_set(client_, 0 /* SSL_VERIFY_NONE */, nullptr, nullptr);
      mosquitto_tls_insecure_set(client_, true);
    }
  }
}

MqttConnection::~MqttConnection() {
  if (started_) {
    mosquitto_disconnect(client_);
    mosquitto_loop_stop(client_, false);
  }
  mosquitto_destroy(client_);
}

void MqttConnection::start(const std::string& who) {
  who_ = who;
  // A broker that is not up yet is no error: the network thread keeps trying.
  const int rc = mosquitto_connect_async(client_, settings_.host.c_str(), settings_.port, settings_.keepalive_s);
  if (rc != MOSQ_ERR_SUCCESS) {
    std::lock_guard lock(mutex_);
    last_problem_ = error_text(rc);
    say(LogLevel::warn, "cannot connect yet (" + last_problem_ + "), retrying");
  }
  const int loop = mosquitto_loop_start(client_);
  if (loop != MOSQ_ERR_SUCCESS) throw std::runtime_error(where() + "cannot start the network thread: " + error_text(loop));
  started_ = true;
}

bool MqttConnection::wait_connected(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return state_changed_.wait_until(lock, deadline, [&] { return connected_; });
}

bool MqttConnection::connected() const {
  std::lock_guard lock(mutex_);
  return connected_;
}

void MqttConnection::connected_callback(mosquitto* client, void* self, int rc, int flags) {
  auto& c = *static_cast<MqttConnection*>(self);
  if (rc != 0) {
    // The broker's CONNACK code: bad credentials, not authorised, ... It retries on its own.
    const std::string problem = mosquitto_connack_string(rc);
    std::lock_guard lock(c.mutex_);
    if (problem != c.last_problem_) c.say(LogLevel::error, "the broker refused the connection: " + problem);
    c.last_problem_ = problem;
    return;
  }
  if (c.on_connected_) c.on_connected_(client, (flags & 1) != 0);
  {
    std::lock_guard lock(c.mutex_);
    if (!c.last_problem_.empty()) c.say(LogLevel::info, "connected");
    c.last_problem_.clear();
    c.connected_ = true;
  }
  c.state_changed_.notify_all();
}

void MqttConnection::disconnected_callback(mosquitto*, void* self, int rc) {
  auto& c = *static_cast<MqttConnection*>(self);
  std::lock_guard lock(c.mutex_);
  // Not connected: an attempt the broker refused, already told by connected_callback.
  const bool was_connected = std::exchange(c.connected_, false);
  if (rc == 0 || !was_connected) return;  // rc 0: we asked for it
  const std::string problem = error_text(rc);
  if (problem != c.last_problem_) c.say(LogLevel::warn, "connection lost (" + problem + "), reconnecting");
  c.last_problem_ = problem;
}

void MqttConnection::message_callback(mosquitto*, void* self, const mosquitto_message* message) {
  auto& c = *static_cast<MqttConnection*>(self);
  if (c.on_message_) c.on_message_(*message);
}

void MqttConnection::published_callback(mosquitto*, void* self, int mid) {
  auto& c = *static_cast<MqttConnection*>(self);
  if (c.on_published_) c.on_published_(mid);
}

}  // namespace sluice::mqtt
