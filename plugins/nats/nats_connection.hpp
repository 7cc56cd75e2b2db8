// What nats_publish and nats_source share: the connection params (servers, credentials), one
// libnats connection with its JetStream context, reconnecting with bounded backoff, and
// libnats' error texts.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <sluice/component.hpp>

namespace sluice::nats {

// servers, user, password, token, reconnect_max_ms: appended to each component's own params.
std::vector<ParamSpec> connection_params();

// libnats' text for a failed call: the detail of the last error on this thread when there is
// one (it names the server's reason), else the status's name.
std::string status_text(natsStatus status);

class Connection {
 public:
  // Connects to `servers`; when none answers yet it keeps trying in the background (as it does
  // after losing a server), so a graph deploys while the cluster is down. A param libnats
  // refuses (a malformed URL) throws std::invalid_argument naming it.
  Connection(const Params& params, const std::string& client_name, const jsOptions* jetstream_options = nullptr);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  natsConnection* get() const { return connection_; }
  jsCtx* jetstream() const { return jetstream_; }
  // The server connected to now, or the configured list and why no connection is up: for
  // messages.
  std::string server() const;

 private:
  std::string servers_;  // comma-separated, for messages
  std::int64_t reconnect_max_ms_;  // read by libnats' reconnect thread through options_
  std::unique_ptr<natsOptions, decltype(&natsOptions_Destroy)> options_{nullptr, natsOptions_Destroy};
  natsConnection* connection_ = nullptr;
  jsCtx* jetstream_ = nullptr;
};

}  // namespace sluice::nats
