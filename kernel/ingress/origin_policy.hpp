// OriginPolicy — keeps web pages from driving the API through the operator's browser
// (docs/security.md). A page cannot reach the port in its own name, but it can in two ways:
// DNS rebinding (its host name now resolves to 127.0.0.1: the browser sends
// `Host: evil.example`), and cross-origin requests (a form or fetch() from its origin sends
// `Origin: http://evil.example`, and the server acts before the browser hides the answer).
//
//   OriginPolicy policy({.listen_host = "127.0.0.1", .allowed_origins = {"https://ui.example"}});
//   if (auto answer = policy.screen(request)) return responder.send(std::move(*answer));
//   for (auto& [name, value] : policy.cors_headers(request)) responder.add_header(name, value);
//
// - Host: the listen address, a loopback name (localhost, 127.x.x.x, ::1), an --allowed-host,
//   or, when listening on every address (0.0.0.0, ::), any IP literal (an address cannot be
//   rebound). Ports are not compared: a rebinding page reaches the same port anyway. Else 421.
//   A request without Host (HTTP/1.0, not a browser) passes.
// - POST, PUT, DELETE, PATCH with an Origin that is neither the server's own (the Host the
//   request names) nor an --allow-origin: 403. Without Origin, `Sec-Fetch-Site: cross-site`
//   or `same-site` is refused the same way.
// - CORS: a preflight (OPTIONS with Origin and Access-Control-Request-Method) from an
//   --allow-origin is answered 204 with the methods and headers the API takes; from another
//   origin 403. Requests from an --allow-origin get Access-Control-Allow-Origin.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingress/http_server.hpp"

namespace sluice {

struct OriginPolicyOptions {
  std::string listen_host = "127.0.0.1";     // as given to --listen
  std::vector<std::string> allowed_hosts;    // --allowed-host: host names, ports ignored
  std::vector<std::string> allowed_origins;  // --allow-origin: scheme://host[:port]
};

// localhost, 127.x.x.x or ::1 (brackets and a port allowed, as in a Host header).
bool is_loopback_host(std::string_view authority);

class OriginPolicy {
 public:
  explicit OriginPolicy(OriginPolicyOptions options);

  // The answer to a request refused (421, 403) or to a CORS preflight (204); nullopt when the
  // request goes on to its route.
  std::optional<HttpResponse> screen(const HttpRequest& request) const;
  // The headers every response to `request` carries: CORS ones for an --allow-origin.
  std::vector<std::pair<std::string, std::string>> cors_headers(const HttpRequest& request) const;

 private:
  bool host_allowed(std::string_view host) const;
  bool origin_allowed(std::string_view origin) const;

  OriginPolicyOptions options_;
  bool listens_everywhere_;
};

}  // namespace sluice
