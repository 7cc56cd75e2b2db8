#include "ingress/tap_endpoint.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>

#include "support/strings.hpp"

namespace sluice {

namespace {

using namespace std::chrono_literals;

constexpr auto pump_interval = 100ms;
constexpr int ticks_per_stats = 10;  // a `stats` event every second: also the heartbeat

// `name` as a number within [low, high], or `fallback` when absent.
double query_number(const HttpRequest& request, std::string_view name, double low, double high, double fallback) {
  const auto text = request.query_value(name);
  if (!text) return fallback;
  double value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || !std::isfinite(value) || value < low || value > high)
    throw RequestError(400, std::string(name) + "=" + std::string(*text) + " is not a number from " +
                                std::to_string(static_cast<long long>(low)) + " to " +
                                std::to_string(static_cast<long long>(high)),
                       Object{{"parameter", name}});
  return value;
}

std::string required(const HttpRequest& request, std::string_view name) {
  const auto text = request.query_value(name);
  if (!text || text->empty())
    throw RequestError(400, "a tap needs ?" + std::string(name) + "=", Object{{"parameter", name}});
  return std::string(*text);
}

void append_event(std::string& out, std::string_view event, std::string_view data) {
  out += "event: ";
  out += event;
  out += "\ndata: ";
  out += data;  // one line: compact JSON escapes every newline
  out += "\n\n";
}

}  // namespace

struct TapEndpoint::Session {
  std::shared_ptr<PacketTap> tap;
  ResponseStream stream;
  std::atomic<std::size_t>& open_taps;
  std::mutex pumping;             // the periodic pump, or end_all()
  std::uint64_t slow_client = 0;  // copies dropped because the client did not keep up
  int ticks = 0;
  bool ended = false;

  Session(std::shared_ptr<PacketTap> t, ResponseStream s, std::atomic<std::size_t>& open)
      : tap(std::move(t)), stream(std::move(s)), open_taps(open) {}
  ~Session() {
    tap->close("server stopping");
    --open_taps;
  }

  std::string stats_json() const {
    const TapCounts c = tap->counts();
    return json::to_string(Object{{"seen", c.seen},
                                  {"sent", c.copied - slow_client},
                                  {"sampled_out", c.sampled_out},
                                  {"dropped", Object{{"rate", c.over_rate},
                                                     {"buffer", c.over_buffer},
                                                     {"slow_client", slow_client}}}});
  }};

TapEndpoint::TapEndpoint(Runtime& runtime, ControlLoop& loop)
    : runtime_(runtime), loop_(loop), pump_task_(loop.every(pump_interval, [this] { pump_all(); })) {}

TapEndpoint::~TapEndpoint() { loop_.cancel_and_wait(pump_task_); }

void TapEndpoint::open(const std::string& graph, const HttpRequest& request, Responder&& responder) {
  const std::string node = required(request, "node");
  const std::string port = required(request, "port");
  TapLimits limits;
  limits.packets_per_second = query_number(request, "limit", 1, max_packets_per_second, default_packets_per_second);
  limits.sample_every = static_cast<std::size_t>(query_number(request, "sample", 1, 1e6, 1));
  limits.bytes_per_second = bytes_per_second;
  limits.max_buffered_bytes = max_buffered;
  if (++open_taps_ > max_open_taps) {
    --open_taps_;
    throw RequestError(503, "too many open taps (the limit is " + std::to_string(max_open_taps) + ")",
                       Object{{"graph", graph}});
  }
  std::shared_ptr<PacketTap> tap;
  try {
    tap = runtime_.tap(graph, node, port, limits);
  } catch (const TapError& e) {
    --open_taps_;
    throw RequestError(404, e.what(), Object{{"graph", graph}});
  }
  ResponseStream stream = responder.stream(
      200, {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-store"}, {"X-Accel-Buffering", "no"}},
      max_buffered);
  auto session = std::make_shared<Session>(std::move(tap), std::move(stream), open_taps_);
  std::string opened;
  append_event(opened, "open",
               json::to_string(Object{{"graph", graph},
                                      {"node", node},
                                      {"port", port},
                                      {"limit", static_cast<std::int64_t>(limits.packets_per_second)},
                                      {"sample", limits.sample_every}}));
  session->stream.write(opened);
  std::lock_guard lock(sessions_mutex_);
  sessions_.push_back(std::move(session));
}

bool TapEndpoint::pump_once(Session& session) {
  std::lock_guard lock(session.pumping);
  if (session.ended) return false;
  // Taken before looking at closed(): the last copies still go out before `end`.
  const bool ending = session.tap->closed();
  const std::vector<std::string> events = session.tap->take();
  if (!session.stream.open()) return false;  // the client is gone: the session ends, and the tap
  std::string chunk;
  for (const std::string& event : events) append_event(chunk, "packet", event);
  if (!chunk.empty() && !session.stream.write(chunk)) session.slow_client += events.size();
  if (ending || ++session.ticks % ticks_per_stats == 0) {
    std::string stats;
    append_event(stats, "stats", session.stats_json());
    session.stream.write(stats);
  }
  if (!ending) return true;
  std::string end;
  append_event(end, "end", json::to_string(Object{{"reason", session.tap->close_reason()}}));
  session.stream.write(end);
  session.stream.close();
  session.ended = true;
  return false;
}

std::vector<std::shared_ptr<TapEndpoint::Session>> TapEndpoint::open_sessions() {
  std::lock_guard lock(sessions_mutex_);
  return sessions_;
}

void TapEndpoint::pump_all() {
  const auto open = open_sessions();
  std::vector<Session*> ended;
  for (const auto& session : open)
    if (!pump_once(*session)) ended.push_back(session.get());
  if (ended.empty()) return;
  std::lock_guard lock(sessions_mutex_);
  std::erase_if(sessions_, [&](const std::shared_ptr<Session>& s) {
    return std::find(ended.begin(), ended.end(), s.get()) != ended.end();
  });
}

void TapEndpoint::end_all() {
  for (const auto& session : open_sessions()) pump_once(*session);
}

}  // namespace sluice
