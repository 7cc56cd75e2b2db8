// RestApi — the routes of the REST ingress (docs/rest.md has the full table): packets in,
// streams, graphs, registry, stats, dead letters, metrics, health.
//
//   RestApi api(runtime, registry, graphs, control_loop, {.max_body = 64 << 20});
//   HttpServer server(options, [&](HttpRequest&& q, Responder&& r) { api.handle(std::move(q), std::move(r)); },
//                     [&](int status) { api.count_response(status); });
//   ...
//   api.stop_admitting();    // SIGTERM: data routes answer 503 from now on
//   runtime.shutdown();      // drains; waiting callers get their results
//
// Fast routes answer on the HTTP thread; deploys and removals are the GraphService's jobs on
// the control loop; `?wait=true` answers from the runtime's completion callback (a worker
// thread) or from its timeout on the control loop, whichever comes first.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "durability/durable_ingest.hpp"
#include "ingress/access_tokens.hpp"
#include "control/graph_service.hpp"
#include "ingress/http_server.hpp"
#include "ingress/origin_policy.hpp"
#include "ingress/tap_endpoint.hpp"
#include "registry/plugin_registry.hpp"
#include "runtime/runtime.hpp"
#include "support/control_loop.hpp"
#include "support/duration.hpp"

namespace sluice {

struct RestApiOptions {
  std::size_t max_body = std::size_t{64} << 20;
  // RuntimeOptions::max_queued_packets: a request with more packets could never be admitted,
  // so it is 413, not a 429 to retry forever.
  std::size_t max_packets = RuntimeOptions{}.max_queued_packets;
  // The bearer tokens and their roles (empty: every route is open to whoever reaches the port).
  AccessTokens tokens;
  // Probe routes ("healthz", "readyz", "metrics") open without a token even when there are tokens.
  std::vector<std::string> open_routes;
  std::filesystem::path editor_dir;  // static files served at / (empty: none yet)
  // Submissions go through this write-ahead log (null: straight into the runtime, in memory).
  DurableIngest* ingest = nullptr;
  double ready_wal_fill = 0.9;       // /readyz turns 503 above this fraction of the log's limit
  OriginPolicyOptions origins;       // which Host and Origin headers are answered
  double ready_load = 0.8;           // /readyz turns 503 above this Runtime::load()
  std::chrono::milliseconds default_wait{30000};
  // The longest ?timeout= (no HTTP timeout runs while a request is with the handler).
  std::chrono::milliseconds max_wait{60000};
};

class RestApi {
 public:
  RestApi(Runtime& runtime, PluginRegistry& registry, GraphService& graphs, ControlLoop& control,
          RestApiOptions options);
  RestApi(const RestApi&) = delete;
  RestApi& operator=(const RestApi&) = delete;

  // The HttpServer's RequestHandler.
  void handle(HttpRequest&& request, Responder&& responder);
  // The HttpServer's ResponseObserver: counts responses by status for /metrics.
  void count_response(int status);
  // From now on data routes answer 503 and /readyz is false (graceful stop).
  void stop_admitting() { admitting_ = false; }
  // While starting (the port is open before the plugins are scanned and the graph files
  // deployed), /readyz is false and the /v1/graphs/{g} routes answer 503 with Retry-After.
  void set_starting(bool starting) { starting_ = starting; }
  // After Runtime::shutdown(), before the HTTP server stops: open taps send their `end`.
  void end_taps() { taps_.end_all(); }

 private:
  struct Call;   // one request being answered
  // Who may call a route when there are tokens: a probe needs `read` unless the operator
  // opened it (RestApiOptions::open_routes); the others need their role.
  enum class Access { probe, read, data, admin };
  struct Route;

  void healthz(Call& call);
  void readyz(Call& call);
  void metrics(Call& call);
  void components(Call& call);
  void plugins(Call& call);
  void list_graphs(Call& call);
  void get_graph(Call& call);
  void put_graph(Call& call);
  void delete_graph(Call& call);
  void post_packets(Call& call);
  void graph_stats(Call& call);
  void tap(Call& call);
  void dead_letters(Call& call);
  void replay(Call& call);
  void get_stream(Call& call);

  // Runs the route's handler once the caller may call it (token, query names, start-up).
  void dispatch(Call& call, const Route& route, std::vector<std::string> params);
  // The refusal (401 or 403) for a caller whose token does not grant `access`; nullopt: go on.
  std::optional<HttpResponse> refuse_access(const HttpRequest& request, const Route& route) const;
  bool serve_editor_file(Call& call);
  void answer_admission(Call& call, const Admission& admission, const std::string& graph);
  void answer_outcome(Call& call, const IngestOutcome& outcome, const std::string& graph);
  using AnswerAdmitted = std::function<void(Call& call, const IngestOutcome& outcome)>;
  // Into the runtime, through the write-ahead log when `logged` (the server has one and the
  // graph did not say `durability: none`): then `answer` runs once the record is durable,
  // perhaps on another thread, with the call moved out of `call`.
  void submit(Call& call, const std::string& graph, std::vector<Packet>&& packets, StreamCallback on_done,
              const std::string& node, bool logged, AnswerAdmitted answer);
  void wait_for_stream(Call& call, const std::string& graph, std::vector<Packet> packets,
                       std::chrono::milliseconds timeout, const std::string& node, bool logged);
  // Whether submissions to `graph` go through the write-ahead log.
  bool logged(const GraphPlan& graph) const {
    return options_.ingest && graph.spec.durability != Durability::none;
  }

  Runtime& runtime_;
  PluginRegistry& registry_;
  GraphService& graphs_;
  RestApiOptions options_;
  OriginPolicy origin_policy_;
  std::atomic<bool> admitting_{true};
  std::atomic<bool> starting_{false};
  std::array<std::atomic<std::uint64_t>, 600> responses_by_status_{};
  std::atomic<std::uint64_t> packets_admitted_{0};
  ControlLoop& control_;  // the ?wait=true timeouts
  TapEndpoint taps_{runtime_, control_};
};

}  // namespace sluice
