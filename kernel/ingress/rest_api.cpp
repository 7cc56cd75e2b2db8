#include "ingress/rest_api.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include <sluice/json.hpp>

#include "ingress/request_body.hpp"
#include "support/strings.hpp"

namespace sluice {

struct RestApi::Call {
  HttpRequest request;
  Responder responder;
  std::vector<std::string> params;  // the {} segments of the route, in order
  std::vector<TextSpan> field_texts = {};  // POST packets: each packet's line in request.body (NDJSON)

  const std::string& param(std::size_t i) const { return params.at(i); }
};

struct RestApi::Route {
  std::vector<std::string_view> pattern;  // "{}" matches any one segment
  std::string_view method;
  Access access;
  void (RestApi::*handler)(Call&);
  std::vector<std::string_view> query = {};  // the query parameters it takes; others are 400
};

namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

HttpResponse json_response(int status, const Value& document) {
  return HttpResponse::json(status, json::to_string(document));
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return segments;
  for (;;) {
    const auto slash = path.find('/');
    segments.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

// A yes/no query parameter: absent is false; `?wait`, `true`, `1` are true; `false`, `0` false.
bool query_flag(const HttpRequest& request, std::string_view name) {
  const auto text = request.query_value(name);
  if (!text || text->empty() || *text == "true" || *text == "1") return text.has_value();
  if (*text == "false" || *text == "0") return false;
  throw RequestError(400, std::string(name) + "=" + std::string(*text) + " is not true or false",
                     Object{{"parameter", name}});
}

// Named in an error so that a typo such as ?wiat=true does not pass unnoticed.
void check_query_names(const HttpRequest& request, const std::vector<std::string_view>& known) {
  for (const auto& [name, value] : request.query) {
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    Array names;
    for (std::string_view k : known) names.push_back(Value(k));
    throw RequestError(400, "unknown query parameter " + json_quoted(name) + " on " + request.method + " " + request.path,
                       Object{{"parameter", name}, {"known", std::move(names)}});
  }
}

std::string media_type(const HttpRequest& request) {
  return text::media_type(request.header("content-type").value_or(""));
}

// Unique packet ids without coordination: a random per-process prefix and a counter.
std::string next_packet_id() {
  static const std::string prefix = [] {
    char text[16];
    std::snprintf(text, sizeof text, "%08x-", static_cast<std::uint32_t>(std::random_device{}()));
    return std::string(text);
  }();
  static std::atomic<std::uint64_t> counter{0};
  // One per packet: to_chars, not snprintf (4 % of NDJSON ingest).
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, counter.fetch_add(1, std::memory_order_relaxed) + 1).ptr;
  std::string id;
  id.reserve(prefix.size() + static_cast<std::size_t>(end - digits));
  id += prefix;
  id.append(digits, end);
  return id;
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

// The plugin build a node runs: {package, version, file, hash}.
Value plugin_build_json(const ComponentOrigin& origin) {
  return Object{{"package", origin.package},
                {"version", origin.version},
                {"file", origin.file.string()},
                {"hash", origin.hash}};
}

HttpResponse retry_later(int status, std::string_view message, const Object& details, int seconds) {
  return HttpResponse::error(status, message, details).with_header("Retry-After", std::to_string(seconds));
}

Object graph_details(const std::string& graph) { return {{"graph", graph}}; }

// The control plane's refusals in HTTP terms: what the client sent is wrong (422), or the
// server could not keep what it did (500).
HttpResponse graph_error_response(const GraphError& e) {
  Object details{{"graph", e.graph()}};
  switch (e.kind()) {
    case GraphError::Kind::invalid: {
      Array problems;
      for (const auto& problem : e.problems()) {
        Object entry{{"line", problem.where.line}, {"column", problem.where.column}, {"message", problem.message}};
        if (!problem.node.empty()) entry.set("node", problem.node);
        if (!problem.param.empty()) entry.set("param", problem.param);
        problems.push_back(std::move(entry));
      }
      details.set("errors", std::move(problems));
      return HttpResponse::error(422, e.what(), details);
    }
    case GraphError::Kind::deploy_failed: return HttpResponse::error(422, e.what(), details);
    case GraphError::Kind::not_saved: details.set("deployed", true); break;
    case GraphError::Kind::not_deleted: details.set("file", e.file().string()); break;
  }
  return HttpResponse::error(500, e.what(), details);
}

RequestError no_such_graph(const std::string& graph) {
  return RequestError(404, "no such graph", graph_details(graph));
}

// A PUT's If-Match (a list of ETags, or *) and If-None-Match: * against the version running
// now (`current`, null when none): 412 naming the current tag when they do not hold.
void check_preconditions(const std::string& graph, const std::shared_ptr<const GraphPlan>& current,
                         const std::optional<std::string>& if_match, const std::optional<std::string>& if_none_match) {
  const std::string etag = current ? graph_etag(*current) : "";
  const auto refuse = [&](const std::string& message) {
    throw RequestError(412, message, Object{{"graph", graph}, {"etag", current ? Value(etag) : Value()}});
  };
  if (if_none_match && trim(*if_none_match) == "*" && current)
    refuse("graph '" + graph + "' exists already (If-None-Match: *)");
  if (!if_match) return;
  bool matched = false;
  std::string_view tags = *if_match;
  while (!tags.empty() && !matched) {
    const auto comma = tags.find(',');
    const std::string_view tag = trim(tags.substr(0, comma));
    matched = current && (tag == "*" || tag == etag);
    tags = comma == std::string_view::npos ? std::string_view() : tags.substr(comma + 1);
  }
  if (!matched)
    refuse(current ? "graph '" + graph + "' was saved by someone else since the version " + std::string(trim(*if_match)) +
                         " (If-Match): it is " + etag + " now"
                   : "graph '" + graph + "' is not deployed (If-Match: " + std::string(trim(*if_match)) + ")");
}

// --- Prometheus text format ----------------------------------------------------------------

std::string label_value(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

struct Sample {
  std::string labels;  // `graph="g",node="n"` or empty
  std::string value;
  std::string suffix = {};  // after the family's name: a histogram's `_bucket`, `_sum`, `_count`
};

void append_family(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help, const std::vector<Sample>& samples) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  for (const auto& sample : samples) {
    out += name;
    out += sample.suffix;
    if (!sample.labels.empty()) out += '{' + sample.labels + '}';
    out += ' ';
    out += sample.value;
    out += '\n';
  }
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

std::uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size_pages = 0, resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

const char* content_type_for(const fs::path& file) {
  const std::string extension = lower(file.extension().string());
  if (extension == ".html" || extension == ".htm") return "text/html; charset=utf-8";
  if (extension == ".js" || extension == ".mjs") return "text/javascript; charset=utf-8";
  if (extension == ".css") return "text/css; charset=utf-8";
  if (extension == ".json" || extension == ".map") return "application/json";
  if (extension == ".svg") return "image/svg+xml";
  if (extension == ".png") return "image/png";
  if (extension == ".ico") return "image/x-icon";
  if (extension == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

bool is_yaml_type(std::string_view type) {
  return type == "application/yaml" || type == "application/x-yaml" || type == "text/yaml" ||
         type == "text/x-yaml";
}

}  // namespace

std::string iso8601(std::chrono::system_clock::time_point when) {
  const auto since_epoch = std::chrono::duration_cast<milliseconds>(when.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(since_epoch / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[64];  // room for any int the format could print, so no truncation warning
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(since_epoch % 1000));
  return text;
}

RestApi::RestApi(Runtime& runtime, PluginRegistry& registry, GraphService& graphs, RestApiOptions options)
    : runtime_(runtime),
      registry_(registry),
      graphs_(graphs),
      options_(std::move(options)),
      origin_policy_(options_.origins) {}

void RestApi::count_response(int status) {
  if (status >= 0 && static_cast<std::size_t>(status) < responses_by_status_.size())
    responses_by_status_[static_cast<std::size_t>(status)].fetch_add(1, std::memory_order_relaxed);
}

void RestApi::handle(HttpRequest&& request, Responder&& responder) {
  static const std::vector<Route> routes = {
      {{"healthz"}, "GET", Access::probe, &RestApi::healthz},
      {{"readyz"}, "GET", Access::probe, &RestApi::readyz, {"graph"}},
      {{"metrics"}, "GET", Access::probe, &RestApi::metrics},
      {{"v1", "components"}, "GET", Access::read, &RestApi::components},
      {{"v1", "plugins"}, "GET", Access::read, &RestApi::plugins},
      {{"v1", "graphs"}, "GET", Access::read, &RestApi::list_graphs},
      {{"v1", "graphs", "{}"}, "GET", Access::read, &RestApi::get_graph},
      {{"v1", "graphs", "{}"}, "PUT", Access::admin, &RestApi::put_graph},
      {{"v1", "graphs", "{}"}, "DELETE", Access::admin, &RestApi::delete_graph},
      {{"v1", "graphs", "{}", "packets"}, "POST", Access::data, &RestApi::post_packets, {"wait", "timeout", "node"}},
      {{"v1", "graphs", "{}", "stats"}, "GET", Access::read, &RestApi::graph_stats},
      // A tap shows packet contents, like dead letters.
      {{"v1", "graphs", "{}", "tap"}, "GET", Access::admin, &RestApi::tap, {"node", "port", "limit", "sample"}},
      // Dead letters hold packet contents, so reading them is an admin matter.
      {{"v1", "graphs", "{}", "dead-letters"}, "GET", Access::admin, &RestApi::dead_letters},
      {{"v1", "graphs", "{}", "dead-letters", "replay"}, "POST", Access::admin, &RestApi::replay},
      {{"v1", "streams", "{}"}, "GET", Access::data, &RestApi::get_stream, {"results"}},
  };

  // Before anything else: a request a browser was tricked into sending gets no further.
  if (auto answer = origin_policy_.screen(request)) {
    responder.send(std::move(*answer));
    return;
  }
  for (auto& [name, value] : origin_policy_.cors_headers(request)) responder.add_header(name, value);

  Call call{std::move(request), std::move(responder), {}};
  try {
    const std::vector<std::string> segments = split_path(call.request.path);
    // HEAD is GET without the body (the HTTP layer leaves the body out). Both arms string_view,
    // else the result is a temporary string that the view would outlive.
    const std::string_view method =
        call.request.method == "HEAD" ? std::string_view("GET") : std::string_view(call.request.method);
    std::vector<std::string_view> allowed;
    for (const Route& route : routes) {
      if (route.pattern.size() != segments.size()) continue;
      std::vector<std::string> params;
      bool match = true;
      for (std::size_t i = 0; i < segments.size() && match; ++i) {
        if (route.pattern[i] == "{}") params.push_back(segments[i]);
        else match = route.pattern[i] == segments[i];
      }
      if (!match) continue;
      if (route.method != method) {
        allowed.push_back(route.method);
        continue;
      }
      if (auto refusal = refuse_access(call.request, route)) {
        call.responder.send(std::move(*refusal));
        return;
      }
      check_query_names(call.request, route.query);
      if (starting_ && route.pattern.size() >= 3 && route.pattern[1] == "graphs") {
        // Not a 404 for a graph whose file is not deployed yet.
        call.responder.send(retry_later(503, "the server is starting: loading the plugins and deploying the graphs",
                                        Object{{"starting", true}}, 1));
        return;
      }
      call.params = std::move(params);
      (this->*route.handler)(call);
      return;
    }
    if (!allowed.empty()) {
      if (const auto get = std::find(allowed.begin(), allowed.end(), "GET"); get != allowed.end())
        allowed.insert(get + 1, "HEAD");
      std::string allow;
      Array methods;  // the body names what the header does
      for (std::string_view m : allowed) {
        allow += allow.empty() ? "" : ", ";
        allow += m;
        methods.push_back(Value(m));
      }
      call.responder.send(HttpResponse::error(405, "method " + call.request.method + " not allowed on " + call.request.path,
                                              Object{{"allow", std::move(methods)}})
                              .with_header("Allow", allow));
      return;
    }
    if ((method == "GET") && serve_editor_file(call)) return;
    call.responder.send(HttpResponse::error(404, "no such route", Object{{"path", call.request.path}}));
  } catch (const RequestError& e) {
    if (!call.responder.sent()) call.responder.send(e.response());
  } catch (const std::exception& e) {
    if (!call.responder.sent())
      call.responder.send(HttpResponse::error(500, std::string("internal error: ") + e.what(),
                                              Object{{"path", call.request.path}}));
  }
}

std::optional<HttpResponse> RestApi::refuse_access(const HttpRequest& request, const Route& route) const {
  if (options_.tokens.empty()) return std::nullopt;
  Role needed = Role::read;
  switch (route.access) {
    case Access::probe: {
      const std::string name(route.pattern.front());
      const auto& open = options_.open_routes;
      if (std::find(open.begin(), open.end(), name) != open.end()) return std::nullopt;
      break;
    }
    case Access::read: break;
    case Access::data: needed = Role::data; break;
    case Access::admin: needed = Role::admin; break;
  }
  const std::string_view value = trim(request.header("authorization").value_or(""));
  std::optional<Role> role;
  if (value.size() > 7 && lower(value.substr(0, 7)) == "bearer ") role = options_.tokens.role_of(trim(value.substr(7)));
  const Object details{{"needs", role_name(needed)}};
  if (!role)
    return HttpResponse::error(401, value.empty() ? "this route needs an 'Authorization: Bearer <token>' header"
                                                  : "the bearer token is not one of this server's tokens",
                               details)
        .with_header("WWW-Authenticate", "Bearer realm=\"sluice\"");
  if (*role < needed)
    return HttpResponse::error(403, "this route needs a token with the '" + std::string(role_name(needed)) +
                                        "' role; the one given has '" + std::string(role_name(*role)) + "'",
                               details);
  return std::nullopt;
}

bool RestApi::serve_editor_file(Call& call) {
  if (options_.editor_dir.empty()) return false;
  fs::path file = options_.editor_dir;
  const std::vector<std::string> segments = split_path(call.request.path);
  // Hidden files and `..` never leave the editor directory.
  for (const auto& segment : segments)
    if (segment.empty() || segment.front() == '.') return false;
  for (const auto& segment : segments) file /= segment;
  std::error_code ec;
  if (fs::is_directory(file, ec)) file /= "index.html";
  if (!fs::is_regular_file(file, ec)) return false;
  std::ifstream in(file, std::ios::binary);
  std::string body{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (!in.good() && !in.eof()) throw RequestError(500, "cannot read " + file.string());
  HttpResponse response;
  response.headers.emplace_back("Content-Type", content_type_for(file));
  response.body = std::move(body);
  call.responder.send(std::move(response));
  return true;
}

void RestApi::healthz(Call& call) { call.responder.send(HttpResponse::json(200, R"({"status": "ok"})")); }

namespace {

// Why a graph cannot serve as it should, node by node: an isolated node whose host keeps
// failing ("crash_looping"), a node in the kernel's process stuck on one packet ("stalled").
// Empty: the graph is ready.
Array graph_problems(const GraphStats& stats) {
  Array problems;
  for (const auto& node : stats.nodes) {
    if (node.crash_looping)
      problems.push_back(Object{{"node", node.node}, {"state", "crash_looping"}, {"reason", node.host_last_failure}});
    if (node.stalled)
      problems.push_back(Object{{"node", node.node},
                                {"state", "stalled"},
                                {"reason", "busy with one packet for longer than its timeout; its worker is held"}});
  }
  return problems;
}

bool has_stalled_node(const GraphStats& stats) {
  return std::any_of(stats.nodes.begin(), stats.nodes.end(), [](const NodeStats& node) { return node.stalled; });
}

}  // namespace

void RestApi::readyz(Call& call) {
  if (const auto graph = call.request.query_value("graph")) {
    // One graph's readiness, for a balancer that routes by graph.
    const auto stats = runtime_.stats(*graph);
    if (!stats) throw no_such_graph(std::string(*graph));
    Array problems = graph_problems(*stats);
    const bool ready = problems.empty() && admitting_ && !starting_ && !runtime_.shutting_down() &&
                       !(options_.ingest && !options_.ingest->recovered());
    HttpResponse response = json_response(
        ready ? 200 : 503, Value(Object{{"graph", stats->graph}, {"ready", ready}, {"nodes", std::move(problems)}}));
    if (!ready) response.with_header("Retry-After", "1");
    call.responder.send(std::move(response));
    return;
  }
  // A graph in trouble does not make the server unready (the other graphs serve): it is
  // listed, and /readyz?graph=NAME answers 503 for it. A stalled node does: it holds a
  // worker, and every graph has an instance there.
  Object unready;
  bool stalled = false;
  for (const auto& name : runtime_.graph_names())
    if (const auto stats = runtime_.stats(name)) {
      stalled = stalled || has_stalled_node(*stats);
      if (Array problems = graph_problems(*stats); !problems.empty()) unready.set(name, std::move(problems));
    }
  const double load = runtime_.load();
  const bool admitting = admitting_ && !runtime_.shutting_down();
  const bool recovering = options_.ingest && !options_.ingest->recovered();
  const bool log_filling = options_.ingest && options_.ingest->above(options_.ready_wal_fill);
  const bool starting = starting_;
  const bool ready = admitting && !starting && load <= options_.ready_load && !recovering && !log_filling && !stalled;
  Object document{{"ready", ready}, {"starting", starting}, {"load", load}, {"admitting", admitting},
                  {"stalled", stalled}};
  if (options_.ingest) {
    document.set("recovering", recovering);
    document.set("wal_filling", log_filling);
  }
  document.set("graphs_not_ready", std::move(unready));
  HttpResponse response = json_response(ready ? 200 : 503, Value(std::move(document)));
  if (!ready) response.with_header("Retry-After", "1");
  call.responder.send(std::move(response));
}

void RestApi::metrics(Call& call) {
  std::vector<GraphStats> graphs;
  std::set<std::string, std::less<>> degraded;
  for (const auto& name : runtime_.graph_names())
    if (auto stats = runtime_.stats(name)) {
      graphs.push_back(std::move(*stats));
      if (const auto plan = runtime_.graph(name); plan && graphs_.plugin_state(*plan).degraded()) degraded.insert(name);
    }

  std::string out;
  auto node_family = [&](std::string_view name, std::string_view type, std::string_view help,
                         auto value_of) {
    std::vector<Sample> samples;
    for (const auto& graph : graphs)
      for (const auto& node : graph.nodes)
        samples.push_back({"graph=\"" + label_value(graph.graph) + "\",node=\"" + label_value(node.node) +
                               "\",component=\"" + label_value(node.component) + '"',
                           value_of(node)});
    append_family(out, name, type, help, samples);
  };
  auto graph_family = [&](std::string_view name, std::string_view type, std::string_view help,
                          auto value_of) {
    std::vector<Sample> samples;
    for (const auto& graph : graphs)
      samples.push_back({"graph=\"" + label_value(graph.graph) + '"', value_of(graph)});
    append_family(out, name, type, help, samples);
  };
  using N = const NodeStats&;
  using G = const GraphStats&;
  node_family("sluice_node_packets_in_total", "counter", "Packets a node took in.",
              [](N n) { return std::to_string(n.in); });
  node_family("sluice_node_packets_out_total", "counter", "Packets a node emitted to its data ports (once each).",
              [](N n) { return std::to_string(n.out); });
  node_family("sluice_node_errors_total", "counter", "Packets a node failed on.",
              [](N n) { return std::to_string(n.errors); });
  node_family("sluice_node_dropped_total", "counter",
              "Packets a node emitted to unwired ports or filtered out.",
              [](N n) { return std::to_string(n.dropped); });
  node_family("sluice_node_queue_depth", "gauge", "Packets waiting on a node's inputs, all instances.",
              [](N n) { return std::to_string(n.queue_depth); });
  node_family("sluice_node_queue_bytes", "gauge", "Memory taken by the packets waiting on a node's inputs.",
              [](N n) { return std::to_string(n.queue_bytes); });
  node_family("sluice_node_busy_seconds_total", "counter", "Time spent inside the component.",
              [](N n) { return number(static_cast<double>(n.busy_ns) / 1e9); });
  node_family("sluice_node_stalled", "gauge",
              "1 while a node is busy with one packet for longer than its timeout (it holds its worker).",
              [](N n) { return std::string(n.stalled ? "1" : "0"); });
  node_family("sluice_node_host_failures_total", "counter",
              "Crashes and hangs of an isolation: process node's host processes (0 in the kernel's process).",
              [](N n) { return std::to_string(n.host_failures); });
  graph_family("sluice_graph_instances", "gauge", "Parallel instances of a graph.",
               [](G g) { return std::to_string(g.instances); });
  graph_family("sluice_graph_queued_packets", "gauge", "Packets admitted to a graph, not yet taken in.",
               [](G g) { return std::to_string(g.queued); });
  graph_family("sluice_graph_queued_bytes", "gauge", "Memory taken by the packets admitted, not yet taken in.",
               [](G g) { return std::to_string(g.queued_bytes); });
  graph_family("sluice_graph_degraded", "gauge",
               "1 while a graph runs a component no loaded plugin offers any more (its file is gone).",
               [&degraded](G g) { return std::string(degraded.contains(g.graph) ? "1" : "0"); });
  graph_family("sluice_dead_letters", "gauge", "Failed packets held in a graph's dead-letter store.",
               [](G g) { return std::to_string(g.dead_letters); });
  graph_family("sluice_dead_letters_dropped_total", "counter",
               "Dead letters dropped because the store was full.",
               [](G g) { return std::to_string(g.dead_letters_dropped); });

  std::vector<Sample> by_status;
  for (std::size_t status = 0; status < responses_by_status_.size(); ++status)
    if (const auto count = responses_by_status_[status].load(std::memory_order_relaxed))
      by_status.push_back({"code=\"" + std::to_string(status) + '"', std::to_string(count)});
  append_family(out, "sluice_http_requests_total", "counter", "HTTP responses sent, by status code.", by_status);
  append_family(out, "sluice_ingress_packets_total", "counter", "Packets admitted over REST.",
                {{"", std::to_string(packets_admitted_.load())}});
  append_family(out, "sluice_ingress_load", "gauge", "How full the fullest graph's ingress is (0..1).",
                {{"", number(runtime_.load())}});
  append_family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
                {{"", std::to_string(resident_bytes())}});
  if (options_.ingest) {
    const WalStats wal = options_.ingest->stats();
    auto wal_family = [&out](std::string_view name, std::string_view type, std::string_view help, std::string value) {
      append_family(out, name, type, help, {{"", std::move(value)}});
    };
    wal_family("sluice_wal_bytes", "gauge", "Bytes in the write-ahead log's segments.", std::to_string(wal.bytes));
    wal_family("sluice_wal_segments", "gauge", "Segment files of the write-ahead log.", std::to_string(wal.segments));
    wal_family("sluice_wal_pending_submissions", "gauge", "Logged submissions not yet complete.",
               std::to_string(wal.pending));
    wal_family("sluice_wal_records_written_total", "counter", "Records appended to the write-ahead log.",
               std::to_string(wal.records_written));
    wal_family("sluice_wal_written_bytes_total", "counter", "Bytes appended to the write-ahead log.",
               std::to_string(wal.bytes_written));
    wal_family("sluice_wal_syncs_total", "counter", "fdatasync calls on the write-ahead log.", std::to_string(wal.syncs));
    wal_family("sluice_wal_sync_seconds_total", "counter", "Time spent in fdatasync on the write-ahead log.",
               number(static_cast<double>(wal.sync_nanoseconds) / 1e9));
    std::vector<Sample> latency;
    std::uint64_t at_most = 0;  // Prometheus buckets count everything up to their bound
    for (std::size_t i = 0; i < wal_sync_bucket_bounds_us.size(); ++i) {
      at_most += wal.syncs_by_latency[i];
      latency.push_back({"le=\"" + number(static_cast<double>(wal_sync_bucket_bounds_us[i]) / 1e6) + '"',
                         std::to_string(at_most), "_bucket"});
    }
    latency.push_back({"le=\"+Inf\"", std::to_string(wal.syncs), "_bucket"});
    latency.push_back({"", number(static_cast<double>(wal.sync_nanoseconds) / 1e9), "_sum"});
    latency.push_back({"", std::to_string(wal.syncs), "_count"});
    append_family(out, "sluice_wal_sync_duration_seconds", "histogram",
                  "How long each fdatasync of the write-ahead log took.", latency);
    wal_family("sluice_wal_replayed_submissions", "gauge", "Unfinished submissions found in the log at start (replayed, or kept as lost).",
               std::to_string(wal.recovered));
    wal_family("sluice_wal_torn_records", "gauge", "Records cut short at the log's end, dropped at start.",
               std::to_string(wal.torn));
    wal_family("sluice_wal_corrupt_records", "gauge", "Damaged records skipped at start.", std::to_string(wal.corrupt));
  }

  HttpResponse response;
  response.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  response.body = std::move(out);
  call.responder.send(std::move(response));
}

void RestApi::components(Call& call) { call.responder.send(json_response(200, registry_.components_json())); }

void RestApi::plugins(Call& call) { call.responder.send(json_response(200, registry_.plugins_json())); }

namespace {

// A graph's "state" in GET /v1/graphs, its stats and its status.
const char* state_name(const GraphService::PluginState& state) { return state.degraded() ? "degraded" : "running"; }

// GET /v1/graphs/{g}'s "status": which plugin build each node runs, and what is gone.
Value plugin_state_json(const GraphService::PluginState& state) {
  Object nodes;
  for (const auto& node : state.nodes) {
    Object entry{{"component", node.component}};
    if (node.runs) {
      Value build = plugin_build_json(*node.runs);
      for (auto& [key, value] : build.as_object()) entry.set(key, std::move(value));
    } else
      entry.set("built_in", true);
    entry.set("missing", node.missing);
    entry.set("outdated", node.outdated);
    nodes.set(node.node, std::move(entry));
  }
  return Object{{"state", state_name(state)},
                {"missing", Array(state.missing.begin(), state.missing.end())},
                {"nodes", std::move(nodes)}};
}

}  // namespace

void RestApi::list_graphs(Call& call) {
  Array list;
  for (const auto& name : runtime_.graph_names()) {
    const auto plan = runtime_.graph(name);
    if (!plan) continue;  // removed meanwhile
    Object entry{{"name", name}, {"nodes", plan->nodes.size()}};
    if (!plan->spec.description.empty()) entry.set("description", plan->spec.description);
    if (const auto stats = runtime_.stats(name)) entry.set("instances", stats->instances);
    entry.set("file", graphs_.file_of(name).string());
    entry.set("durability", logged(*plan) ? "wal" : "none");
    const GraphService::PluginState state = graphs_.plugin_state(*plan);
    entry.set("state", state_name(state));
    if (state.degraded()) entry.set("missing", Array(state.missing.begin(), state.missing.end()));
    list.push_back(std::move(entry));
  }
  call.responder.send(json_response(200, Value(Object{{"graphs", std::move(list)}})));
}

void RestApi::get_graph(Call& call) {
  const auto plan = runtime_.graph(call.param(0));
  if (!plan) throw no_such_graph(call.param(0));
  const GraphSpec shown = shown_spec(*plan);
  const std::string accept = lower(call.request.header("accept").value_or(""));
  HttpResponse response;
  if (accept.find("yaml") != std::string::npos) {
    response.headers.emplace_back("Content-Type", "application/yaml");
    // With secrets masked the text sent is not served; the masked JSON is YAML too.
    response.body = !shown.yaml_text.empty()
                        ? shown.yaml_text
                        : "# secret values are shown as \"***\"\n" + json::to_pretty_string(spec_document(shown)) + "\n";
  } else {
    // What the server knows besides the spec; a PUT of this document ignores it.
    Value document = spec_document(shown);
    document.as_object().set("status", plugin_state_json(graphs_.plugin_state(*plan)));
    response = HttpResponse::json(200, json::to_pretty_string(document));
  }
  // The same version has one tag in both forms: a PUT's If-Match names the version.
  response.with_header("ETag", graph_etag(*plan));
  call.responder.send(std::move(response));
}

void RestApi::put_graph(Call& call) {
  const std::string name = call.param(0);
  if (!is_graph_file_name(name))
    throw RequestError(400, "graph names are letters, digits, '_', '-' and '.', not starting with '.' or '-'",
                       graph_details(name));
  const std::string type = media_type(call.request);
  if (!type.empty() && type != "application/json" && !is_yaml_type(type) && type != "text/plain" &&
      type != "application/x-www-form-urlencoded")
    throw RequestError(415, "a graph is sent as YAML or JSON, not " + type,
                       Object{{"supported", Array{"application/yaml", "application/json"}}});
  const std::string encoding = lower(trim(call.request.header("content-encoding").value_or("")));
  if (encoding == "gzip" || encoding == "deflate")
    call.request.body = inflate_body(call.request.body, options_.max_body);
  else if (!encoding.empty() && encoding != "identity")
    throw RequestError(415, "unsupported Content-Encoding " + json_quoted(encoding),
                       Object{{"supported", Array{"gzip", "deflate", "identity"}}});

  const auto optional_header = [&](std::string_view header) {
    const auto value = call.request.header(header);
    return value ? std::optional<std::string>(*value) : std::nullopt;
  };
  auto responder = std::make_shared<Responder>(std::move(call.responder));
  const bool posted = graphs_.post([this, name, text = std::move(call.request.body), responder,
                                    if_match = optional_header("if-match"),
                                    if_none_match = optional_header("if-none-match")] {
    try {
      // Checked here, on the control thread, where no other save can come in between.
      check_preconditions(name, runtime_.graph(name), if_match, if_none_match);
      const auto outcome = graphs_.put(name, text);
      const auto plan = runtime_.graph(name);
      Object document{{"graph", name}, {"deployed", true}, {"created", outcome.created},
                      {"file", outcome.file.string()}};
      if (plan) document.set("nodes", plan->nodes.size());
      HttpResponse response = json_response(outcome.created ? 201 : 200, Value(std::move(document)));
      if (outcome.created) response.with_header("Location", "/v1/graphs/" + name);
      if (plan) response.with_header("ETag", graph_etag(*plan));
      responder->send(std::move(response));
    } catch (const GraphError& e) {
      responder->send(graph_error_response(e));
    } catch (const RequestError& e) {
      responder->send(e.response());
    } catch (const std::exception& e) {
      responder->send(HttpResponse::error(500, std::string("deploy failed: ") + e.what(), graph_details(name)));
    }
  });
  if (!posted) responder->send(retry_later(503, "the server is shutting down", graph_details(name), 5));
}

void RestApi::delete_graph(Call& call) {
  const std::string name = call.param(0);
  if (!runtime_.graph(name)) throw no_such_graph(name);
  auto responder = std::make_shared<Responder>(std::move(call.responder));
  const bool posted = graphs_.post([this, name, responder] {
    try {
      if (!graphs_.remove(name)) {
        responder->send(no_such_graph(name).response());  // removed by a request before this one
        return;
      }
      HttpResponse response;
      response.status = 204;
      responder->send(std::move(response));
    } catch (const GraphError& e) {
      responder->send(graph_error_response(e));
    } catch (const std::exception& e) {
      responder->send(HttpResponse::error(500, std::string("removal failed: ") + e.what(), graph_details(name)));
    }
  });
  if (!posted) responder->send(retry_later(503, "the server is shutting down", graph_details(name), 5));
}

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
// (on the timer thread); the other finds the responder taken.
void RestApi::wait_for_stream(Call& call, const std::string& graph, std::vector<Packet> packets,
                              milliseconds timeout, const std::string& node, bool logged) {
  struct Waiter {
    std::mutex mutex;
    std::optional<Responder> responder;
    std::optional<DeadlineTimer::Id> timer;
  };
  auto waiter = std::make_shared<Waiter>();
  waiter->responder.emplace(std::move(call.responder));
  auto take = [](Waiter& w) {
    std::lock_guard lock(w.mutex);
    return std::exchange(w.responder, std::nullopt);
  };

  DeadlineTimer& timer = wait_timer_;
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
    waiter->timer = timer.schedule(DeadlineTimer::Clock::now() + timeout, [waiter, take, stream, timeout] {
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

void RestApi::graph_stats(Call& call) {
  const auto stats = runtime_.stats(call.param(0));
  const auto plan = runtime_.graph(call.param(0));
  if (!stats || !plan) throw no_such_graph(call.param(0));
  const GraphService::PluginState state = graphs_.plugin_state(*plan);
  std::map<std::string_view, const GraphService::NodePlugin*> plugin_of;
  for (const auto& node : state.nodes) plugin_of.emplace(node.node, &node);
  Array nodes;
  for (const auto& node : stats->nodes) {
    Object dropped_by_port;
    for (const auto& [cause, n] : node.dropped_by_port) dropped_by_port.set(cause, n);
    nodes.push_back(Object{{"node", node.node},
                           {"component", node.component},
                           {"in", node.in},
                           {"out", node.out},
                           {"errors", node.errors},
                           {"dropped", node.dropped},
                           {"dropped_by_port", std::move(dropped_by_port)},
                           {"queue_depth", node.queue_depth},
                           {"queue_bytes", node.queue_bytes},
                           {"busy_seconds", static_cast<double>(node.busy_ns) / 1e9},
                           {"isolation", node.isolated ? "process" : "in_process"},
                           {"stalled", node.stalled}});
    if (node.isolated) {
      Array pids;
      for (int pid : node.host_pids) pids.push_back(pid);
      Object host{{"pids", std::move(pids)},
                  {"failures", node.host_failures},
                  {"state", node.crash_looping ? "crash_looping" : "running"}};
      if (!node.host_last_failure.empty()) host.set("last_failure", node.host_last_failure);
      nodes.back().as_object().set("host", std::move(host));
    }
    if (const auto plugin = plugin_of.find(node.node); plugin != plugin_of.end()) {
      if (plugin->second->runs) nodes.back().as_object().set("plugin", plugin_build_json(*plugin->second->runs));
      nodes.back().as_object().set("missing", plugin->second->missing);
    }
  }
  Object document{{"graph", stats->graph},
                  {"state", state_name(state)},
                  {"instances", stats->instances},
                  {"queued", stats->queued},
                  {"queued_bytes", stats->queued_bytes},
                  {"dead_letters", stats->dead_letters},
                  {"dead_letters_dropped", stats->dead_letters_dropped},
                  {"nodes", std::move(nodes)}};
  call.responder.send(json_response(200, Value(std::move(document))));
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
      unknown.push_back(Value(static_cast<std::int64_t>(id)));
  if (!unknown.empty())
    throw RequestError(404, "no such dead letters (unknown, or replayed already)",
                       Object{{"graph", graph}, {"ids", std::move(unknown)}});
  if (letters.empty()) throw RequestError(404, "graph " + json_quoted(graph) + " holds no dead letters to replay", graph_details(graph));
  answer_admission(call, runtime_.replay_dead_letters(graph, ids, node), graph);
}

void RestApi::get_stream(Call& call) {
  const bool with_results = query_flag(call.request, "results");
  const auto result = runtime_.stream(call.param(0));
  if (!result) throw RequestError(404, "no such stream (unknown, or older than the history kept)",
                                  Object{{"stream", call.param(0)}});
  const bool durable = options_.ingest && options_.ingest->durable(result->id);
  call.responder.send(json_response(200, stream_document(*result, with_results, durable)));
}

}  // namespace sluice
