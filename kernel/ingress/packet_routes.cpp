// Packets in and what became of them: POST /v1/graphs/{g}/packets (async 202, or ?wait=true),
// GET /v1/streams/{id}, the dead letters and their replay, and the tap.
#include <algorithm>
#include <cstdio>

#include "ingress/rest_call.hpp"
#include "support/strings.hpp"
#include "support/ids.hpp"
#include "support/timestamps.hpp"

namespace sluice {

using std::chrono::milliseconds;

namespace {

// A yes/no query parameter: absent is false; `?wait`, `true`, `1` are true; `false`, `0` false.
bool query_flag(const HttpRequest& request, std::string_view name) {
  const auto text = request.query_value(name);
  if (!text || text->empty() || *text == "true" || *text == "1") return text.has_value();
  if (*text == "false" || *text == "0") return false;
  throw RequestError(400, std::string(name) + "=" + std::string(*text) + " is not true or false",
                     Object{{"parameter", name}});
}

const char* stream_status(const StreamResult& result) {
  if (result.state == StreamResult::State::pending) return "pending";
  return result.error_count > 0 ? "failed" : "done";
}

// A packet as its envelope: fields, meta and field meta (a copy).
Value envelope_document(const Packet& packet) {
  return Object{{"fields", packet.fields()}, {"meta", packet.meta()}, {"field_meta", packet.field_meta()}};
}

// The document of GET /v1/streams/{id} and of a ?wait=true answer (`with_results`); `durable`:
// the submission is in the write-ahead log.
Value stream_document(const StreamResult& result, bool with_results, bool durable) {
  Object sinks;
  for (const auto& [node, count] : result.sinks) sinks.set(node, count);
  Object dropped_at;
  for (const auto& [node, causes] : result.dropped_at) {
    Object by_cause;
    for (const auto& [cause, count] : causes) by_cause.set(cause, count);
    dropped_at.set(node, std::move(by_cause));
  }
  Array errors;
  errors.reserve(result.errors.size());
  for (const auto& e : result.errors)
    errors.push_back(Object{{"node", e.node}, {"error", e.message}, {"packet", e.packet.fields()}});
  Object document{{"stream", result.id},
                  {"graph", result.graph},
                  {"status", stream_status(result)},
                  {"durable", durable},
                  {"accepted", result.accepted},
                  {"sinks", std::move(sinks)},
                  {"dropped", result.dropped},
                  {"dropped_at", std::move(dropped_at)},
                  {"error_count", result.error_count},
                  {"errors", std::move(errors)},
                  {"submitted", iso8601(result.submitted)}};
  if (result.state == StreamResult::State::done) document.set("finished", iso8601(result.finished));
  if (with_results) {
    Array results;
    results.reserve(result.results.size());
    for (const auto& packet : result.results) results.push_back(packet.fields());
    document.set("results", std::move(results));
    document.set("results_truncated", result.results_truncated);
  } else {
    document.set("results_count", result.results.size() + result.results_released);
  }
  if (result.packets_released) document.set("packets_released", true);
  return document;
}

}  // namespace

void RestApi::post_packets(Call& call) {
  const std::string graph = call.param(0);
  if (!admitting_ || runtime_.shutting_down()) {
    call.responder.send(retry_later(503, "the server is shutting down", graph_details(graph), 5));
    return;
  }
  if (options_.ingest && !options_.ingest->recovered()) {
    call.responder.send(retry_later(503, "the server is replaying its write-ahead log", graph_details(graph), 1));
    return;
  }
  const auto plan = runtime_.graph(graph);
  if (!plan) throw no_such_graph(graph);
  const bool logged = this->logged(*plan);

  const bool wait = query_flag(call.request, "wait");
  milliseconds timeout = options_.default_wait;
  if (const auto text = call.request.query_value("timeout")) {
    const auto parsed = parse_duration(*text);
    if (!parsed)
      throw RequestError(400, "timeout " + json_quoted(*text) + " is not a duration such as 500ms, 5s, 1m or 2.5");
    if (*parsed > options_.max_wait)
      throw RequestError(400, "timeout " + json_quoted(*text) + " is above the maximum of " +
                                  std::to_string(options_.max_wait.count()) + "ms");
    timeout = *parsed;
  }
  const std::string node(call.request.query_value("node").value_or(""));

  std::vector<Packet> packets = read_packets(call.request, options_.max_body, options_.max_packets, &call.field_texts);
  if (packets.empty()) throw RequestError(400, "the body holds no packets", graph_details(graph));
  const std::string now = iso8601(std::chrono::system_clock::now());
  for (auto& packet : packets) {
    // Room for these four and the `stream` the runtime adds: one allocation, not four.
    packet.meta().reserve(packet.meta().size() + 5);
    packet.set_meta(meta::id, next_packet_id());
    packet.set_meta(meta::route, call.request.path);
    packet.set_meta(meta::requestmethod, call.request.method);
    packet.set_meta(meta::processingtime, now);
  }

  if (wait) {
    wait_for_stream(call, graph, std::move(packets), timeout, node, logged);
    return;
  }
  submit(call, graph, std::move(packets), {}, node, logged,
         [this, graph](Call& call, const IngestOutcome& outcome) { answer_outcome(call, outcome, graph); });
}

void RestApi::submit(Call& call, const std::string& graph, std::vector<Packet>&& packets, StreamCallback on_done,
                     const std::string& node, bool logged, AnswerAdmitted answer) {
  if (!logged) {
    answer(call, {.admission = runtime_.submit(graph, std::move(packets), std::move(on_done), node)});
    return;
  }
  auto held = std::make_shared<Call>(std::move(call));
  std::vector<std::string_view> field_texts;  // into the body where it lives now
  field_texts.reserve(held->field_texts.size());
  for (const TextSpan& span : held->field_texts)
    field_texts.push_back(std::string_view(held->request.body).substr(span.offset, span.length));
  options_.ingest->submit(graph, std::move(packets), std::move(on_done), node, field_texts,
                          [held, answer = std::move(answer)](IngestOutcome&& outcome) {
                            // Perhaps on the log's sync thread: nothing may escape to handle().
                            try {
                              answer(*held, outcome);
                            } catch (const RequestError& e) {
                              if (!held->responder.sent()) held->responder.send(e.response());
                            }
                          });
}

void RestApi::answer_outcome(Call& call, const IngestOutcome& outcome, const std::string& graph) {
  if (outcome.log_error.empty()) {
    answer_admission(call, outcome.admission, graph);
    return;
  }
  // Full: older work must complete first; a failed write (a full disk) may clear at once.
  call.responder.send(retry_later(503, outcome.log_error, graph_details(graph), outcome.log_full ? 5 : 1));
}

void RestApi::answer_admission(Call& call, const Admission& admission, const std::string& graph) {
  switch (admission.status) {
    case Admission::Status::accepted: {
      packets_admitted_.fetch_add(admission.accepted, std::memory_order_relaxed);
      Object document{{"stream", admission.stream_id}, {"accepted", admission.accepted}};
      call.responder.send(json_response(202, Value(std::move(document)))
                              .with_header("Location", "/v1/streams/" + admission.stream_id));
      return;
    }
    case Admission::Status::overloaded:
      call.responder.send(retry_later(429, "graph " + json_quoted(graph) + " is full; retry later", graph_details(graph), 1));
      return;
    case Admission::Status::shutting_down:
      call.responder.send(retry_later(503, "the server is shutting down", graph_details(graph), 5));
      return;
    case Admission::Status::no_such_graph:
      throw no_such_graph(graph);
    case Admission::Status::no_such_node:
      throw RequestError(404, "no such node", Object{{"graph", graph}, {"node", call.request.query_value("node").value_or("")}});
    case Admission::Status::no_entry_node:
      throw RequestError(409, "graph " + json_quoted(graph) + " takes no posted data: only its sources feed it",
                         graph_details(graph));
  }
}

// Whoever comes first answers: the stream's completion (on a worker thread) or the timeout
// (on the control loop); the other finds the responder taken.
void RestApi::wait_for_stream(Call& call, const std::string& graph, std::vector<Packet> packets,
                              milliseconds timeout, const std::string& node, bool logged) {
  struct Waiter {
    std::mutex mutex;
    std::optional<Responder> responder;
    std::optional<ControlLoop::TimerId> timer;
  };
  auto waiter = std::make_shared<Waiter>();
  waiter->responder.emplace(std::move(call.responder));
  auto take = [](Waiter& w) {
    std::lock_guard lock(w.mutex);
    return std::exchange(w.responder, std::nullopt);
  };

  ControlLoop& timer = control_;
  auto on_done = [waiter, take, &timer, durable = logged](const StreamResult& result) {
    std::optional<Responder> responder = take(*waiter);
    if (!responder) return;  // the timeout answered already
    {
      std::lock_guard lock(waiter->mutex);
      if (waiter->timer) timer.cancel(*waiter->timer);
    }
    responder->send(json_response(200, stream_document(result, true, durable)));
  };
  auto on_admitted = [this, waiter, take, &timer, graph, timeout](Call& call, const IngestOutcome& outcome) {
    const Admission& admission = outcome.admission;
    if (!outcome.log_error.empty() || admission.status != Admission::Status::accepted) {
      std::optional<Responder> responder = take(*waiter);
      call.responder = std::move(*responder);  // never completes: this thread still owns it
      answer_outcome(call, outcome, graph);
      return;
    }
    packets_admitted_.fetch_add(admission.accepted, std::memory_order_relaxed);

    std::lock_guard lock(waiter->mutex);
    if (!waiter->responder) return;  // finished before the timer was needed
    const std::string stream = admission.stream_id;
    waiter->timer = timer.schedule(ControlLoop::Clock::now() + timeout, [waiter, take, stream, timeout] {
      std::optional<Responder> responder = take(*waiter);
      if (!responder) return;
      // The work goes on; the stream can be polled.
      responder->send(HttpResponse::error(504, "the stream did not finish within the timeout",
                                          Object{{"stream", stream}, {"timeout_ms", timeout.count()}})
                          .with_header("Location", "/v1/streams/" + stream));
    });
  };
  submit(call, graph, std::move(packets), std::move(on_done), node, logged, std::move(on_admitted));
}

void RestApi::get_stream(Call& call) {
  const bool with_results = query_flag(call.request, "results");
  const auto result = runtime_.stream(call.param(0));
  if (!result) throw RequestError(404, "no such stream (unknown, or older than the history kept)",
                                  Object{{"stream", call.param(0)}});
  const bool durable = options_.ingest && options_.ingest->durable(result->id);
  call.responder.send(json_response(200, stream_document(*result, with_results, durable)));
}

void RestApi::tap(Call& call) { taps_.open(call.param(0), call.request, std::move(call.responder)); }

void RestApi::dead_letters(Call& call) {
  const std::string& graph = call.param(0);
  if (!runtime_.graph(graph)) throw no_such_graph(graph);
  const auto letters = runtime_.dead_letters(graph);
  Array listed;
  listed.reserve(letters.size());
  for (const auto& letter : letters)
    listed.push_back(Object{{"id", letter.id},
                            {"node", letter.node},
                            {"error", letter.error},
                            {"when", iso8601(letter.when)},
                            {"packet", envelope_document(letter.packet)}});
  Object document{{"graph", graph}, {"count", letters.size()}, {"dead_letters", std::move(listed)}};
  call.responder.send(json_response(200, Value(std::move(document))));
}

void RestApi::replay(Call& call) {
  const std::string graph = call.param(0);
  if (!runtime_.graph(graph)) throw no_such_graph(graph);
  std::vector<std::uint64_t> ids;
  std::string node;
  if (!trim(call.request.body).empty()) {
    Value body;
    try {
      body = json::parse(call.request.body);
    } catch (const json::ParseError& e) {
      throw RequestError(400, "invalid JSON: " + e.reason(),
                         Object{{"line", e.line()}, {"column", e.column()}});
    }
    if (!body.is_object()) throw RequestError(400, R"(the body is a JSON object {"ids": [...], "node": "..."})");
    for (const auto& [key, value] : body.as_object()) {
      if (key == "ids" && value.is_array()) {
        for (const auto& id : value.as_array()) {
          if (!id.is_int() || id.as_int() < 0) throw RequestError(400, "'ids' holds dead-letter ids (integers)");
          ids.push_back(static_cast<std::uint64_t>(id.as_int()));
        }
      } else if (key == "node" && value.is_string()) {
        node = value.as_string();
      } else {
        throw RequestError(400, "unexpected member " + json_quoted(key) +
                                    R"( (the body is {"ids": [integers], "node": "node id"}, both optional))");
      }
    }
  }
  // Refused here, not answered with an empty stream: a replay that would replay nothing.
  const auto letters = runtime_.dead_letters(graph);
  Array unknown;
  for (const auto id : ids)
    if (std::none_of(letters.begin(), letters.end(), [id](const DeadLetter& letter) { return letter.id == id; }))
      unknown.emplace_back(static_cast<std::int64_t>(id));
  if (!unknown.empty())
    throw RequestError(404, "no such dead letters (unknown, or replayed already)",
                       Object{{"graph", graph}, {"ids", std::move(unknown)}});
  if (letters.empty()) throw RequestError(404, "graph " + json_quoted(graph) + " holds no dead letters to replay", graph_details(graph));
  answer_admission(call, runtime_.replay_dead_letters(graph, ids, node), graph);
}

}  // namespace sluice
