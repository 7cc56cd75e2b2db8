#include "ingress/rest_api.hpp"

#include <algorithm>

#include "ingress/rest_call.hpp"
#include "support/strings.hpp"

namespace sluice {

namespace {

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

// The {} segments of the path when it has the pattern's shape; nullopt when not.
std::optional<std::vector<std::string>> match_route(const std::vector<std::string_view>& pattern,
                                                    const std::vector<std::string>& segments) {
  if (pattern.size() != segments.size()) return std::nullopt;
  std::vector<std::string> params;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (pattern[i] == "{}") params.push_back(segments[i]);
    else if (pattern[i] != segments[i]) return std::nullopt;
  }
  return params;
}

// 405 with an Allow header, and the same methods in the body.
HttpResponse method_not_allowed(const HttpRequest& request, std::vector<std::string_view> allowed) {
  if (const auto get = std::find(allowed.begin(), allowed.end(), "GET"); get != allowed.end())
    allowed.insert(get + 1, "HEAD");
  std::string allow;
  Array methods;  // the body names what the header does
  for (std::string_view m : allowed) {
    allow += allow.empty() ? "" : ", ";
    allow += m;
    methods.push_back(Value(m));
  }
  return HttpResponse::error(405, "method " + request.method + " not allowed on " + request.path,
                             Object{{"allow", std::move(methods)}})
      .with_header("Allow", allow);
}

}  // namespace

RestApi::RestApi(Runtime& runtime, PluginRegistry& registry, GraphService& graphs, ControlLoop& control,
                 RestApiOptions options)
    : runtime_(runtime),
      registry_(registry),
      graphs_(graphs),
      options_(std::move(options)),
      origin_policy_(options_.origins),
      control_(control) {}

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
      std::optional<std::vector<std::string>> params = match_route(route.pattern, segments);
      if (!params) continue;
      if (route.method != method) {
        allowed.push_back(route.method);
        continue;
      }
      dispatch(call, route, std::move(*params));
      return;
    }
    if (!allowed.empty()) {
      call.responder.send(method_not_allowed(call.request, std::move(allowed)));
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

void RestApi::dispatch(Call& call, const Route& route, std::vector<std::string> params) {
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

}  // namespace sluice
