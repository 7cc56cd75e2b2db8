#include "nats_connection.hpp"

#include <algorithm>
#include <stdexcept>

#include "tls_param.hpp"

namespace sluice::nats {

namespace {

// Reconnect attempts wait 100 ms, doubling up to reconnect_max_ms: a restarted server is found
// again quickly, a dead one is not hammered.
int64_t reconnect_delay(natsConnection*, int attempts, void* max_ms) {
  return std::min<int64_t>(*static_cast<const std::int64_t*>(max_ms), int64_t{100} << std::min(attempts, 10));
}

// With a callback, libnats keeps trying in the background; without one, a connect with no
// server up would block the deploy, trying forever. Nothing to do once connected.
void on_connected(natsConnection*, void*) {}

void check(natsStatus status, const std::string& what) {
  if (status != NATS_OK) throw std::invalid_argument(what + ": " + status_text(status));
}

// The `tls` param (tls_param.hpp: its files checked at deploy), given to libnats.
void apply_tls(natsOptions* options, const Value& tls) {
  const auto [verify, ca_file, client_cert, client_key, server_name] = parse_tls_param(tls);
  check(natsOptions_SetSecure(options, true), "param 'tls'");
  if (!ca_file.empty()) check(natsOptions_LoadCATrustedCertificates(options, ca_file.c_str()), "param 'tls.ca_file'");
  if (!client_cert.empty())
    check(natsOptions_LoadCertificatesChain(options, client_cert.c_str(), client_key.c_str()), "param 'tls.client_cert'");
  if (!server_name.empty())
    check(natsOptions_SetExpectedHostname(options, server_name.c_str()), "param 'tls.server_name'");
  if (!verify) check(natsOptions_SkipServerVerification(options, true), "param 'tls.verify'");
}

}  // namespace

std::vector<ParamSpec> connection_params() {
  return {{.name = "servers",
           .type = ParamType::string_list,
           .description = "NATS server URLs (nats://host:port); the client moves to another one, and to the "
                          "servers the cluster announces, when one goes away",
           .required = true},
          {.name = "user", .type = ParamType::string, .description = "user name, with password"},
          {.name = "password",
           .type = ParamType::string,
           .description = "password of user (write ${env:NAME} or ${file:PATH})",
           .secret = true},
          {.name = "token",
           .type = ParamType::string,
           .description = "authentication token instead of user and password (${env:NAME} or ${file:PATH})",
           .secret = true},
          tls_param_spec("the servers"),
          {.name = "reconnect_max_ms",
           .type = ParamType::integer,
           .description = "longest wait between reconnect attempts (they start at 100 ms and double); the "
                          "client never gives up",
           .default_value = 2000,
           .minimum = 100}};
}

std::string status_text(natsStatus status) {
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail && *detail && last == status) return detail;
  return natsStatus_GetText(status);
}

Connection::Connection(const Params& params, const std::string& client_name, const jsOptions* jetstream_options)
    : reconnect_max_ms_(params.get_int("reconnect_max_ms")) {
  const std::vector<std::string> servers = params.get_string_list("servers");
  if (servers.empty()) throw std::invalid_argument("param 'servers': give at least one nats://host:port");
  std::vector<const char*> urls;
  for (const auto& url : servers) {
    servers_ += (servers_.empty() ? "" : ",") + url;
    urls.push_back(url.c_str());
  }
  natsOptions* options = nullptr;
  check(natsOptions_Create(&options), "NATS options");
  options_.reset(options);
  check(natsOptions_SetServers(options, urls.data(), static_cast<int>(urls.size())), "param 'servers'");
  natsOptions_SetName(options, client_name.c_str());
  if (params.has("user"))
    check(natsOptions_SetUserInfo(options, params.get_string("user").c_str(), params.get_string("password", "").c_str()),
          "param 'user'");
  if (params.has("token")) check(natsOptions_SetToken(options, params.get_string("token").c_str()), "param 'token'");
  if (params.has("tls")) apply_tls(options, params.get("tls"));
  natsOptions_SetMaxReconnect(options, -1);
  natsOptions_SetCustomReconnectDelay(options, reconnect_delay, &reconnect_max_ms_);
  natsOptions_SetRetryOnFailedConnect(options, true, on_connected, nullptr);
  const natsStatus connected = natsConnection_Connect(&connection_, options);
  if (connected != NATS_OK && connected != NATS_NOT_YET_CONNECTED)
    throw std::invalid_argument("cannot connect to " + servers_ + ": " + status_text(connected));
  const natsStatus jetstream =
      natsConnection_JetStream(&jetstream_, connection_, const_cast<jsOptions*>(jetstream_options));
  if (jetstream != NATS_OK) {
    const std::string error = status_text(jetstream);
    natsConnection_Destroy(connection_);
    throw std::runtime_error("JetStream context on " + servers_ + ": " + error);
  }
}

Connection::~Connection() {
  jsCtx_Destroy(jetstream_);
  // Close flushes what is still buffered (acks) first.
  natsConnection_Close(connection_);
  natsConnection_Destroy(connection_);
}

std::string Connection::server() const {
  char url[256];
  if (natsConnection_GetConnectedUrl(connection_, url, sizeof url) == NATS_OK && url[0]) return url;
  // Not connected: why the last attempt failed (a refused connection, a TLS handshake).
  const char* reason = nullptr;
  if (natsConnection_GetLastError(connection_, &reason) != NATS_OK && reason && *reason)
    return servers_ + " (not connected: " + reason + ")";
  return servers_ + " (not connected)";
}

}  // namespace sluice::nats
