// TapEndpoint — GET /v1/graphs/{g}/tap?node=N&port=P[&limit=&sample=]: the packets leaving a
// node's out port, live, as Server-Sent Events (docs/rest.md "Live tap").
//
//   TapEndpoint taps(runtime, control_loop);
//   taps.open("enrich", request, std::move(responder));   // answers 4xx, or starts the stream
//
// Events: `open` (what is tapped, the limits), `packet` (one per copied packet: seq, fields,
// meta), `stats` every second (seen, sampled out, dropped by rate, buffer and slow client),
// `end` (why: "redeployed", "undeployed", "shutting down") before the stream closes. The
// copies are taken from the runtime's PacketTap and written every 100 ms by a periodic task
// of the control loop, never on a worker or an HTTP thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ingress/http_server.hpp"
#include "runtime/runtime.hpp"
#include "support/control_loop.hpp"

namespace sluice {

class TapEndpoint {
 public:
  static constexpr std::size_t max_open_taps = 32;
  static constexpr double default_packets_per_second = 100;
  static constexpr double max_packets_per_second = 10000;
  static constexpr double bytes_per_second = 1 << 20;   // per tap
  static constexpr std::size_t max_buffered = 1 << 20;  // per tap, and again on its socket

  TapEndpoint(Runtime& runtime, ControlLoop& loop);
  ~TapEndpoint();  // the periodic pump ends first
  TapEndpoint(const TapEndpoint&) = delete;
  TapEndpoint& operator=(const TapEndpoint&) = delete;

  // Throws RequestError for a bad query (400), an unknown graph, node or port (404) or too
  // many open taps (503); otherwise the responder streams until the tap ends.
  void open(const std::string& graph, const HttpRequest& request, Responder&& responder);
  // Pumps every open stream once now: after Runtime::shutdown() closed the taps, their
  // `end` events go out before the HTTP server stops.
  void end_all();

 private:
  struct Session;
  // Sends what the tap copied; true while the stream goes on.
  static bool pump_once(Session& session);
  // Every pump_interval: each open stream once; the ended ones are let go.
  void pump_all();
  std::vector<std::shared_ptr<Session>> open_sessions();  // a copy: pumping takes no lock

  Runtime& runtime_;
  ControlLoop& loop_;
  std::atomic<std::size_t> open_taps_{0};
  std::mutex sessions_mutex_;
  std::vector<std::shared_ptr<Session>> sessions_;  // open streams
  ControlLoop::TimerId pump_task_;                  // last: started once the rest exists
};

}  // namespace sluice
