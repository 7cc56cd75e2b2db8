#include "ingress/origin_policy.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "support/strings.hpp"

namespace sluice {

namespace {

// "example.com:8080" → "example.com", "[::1]:8080" → "::1", lower case.
std::string host_name(std::string_view authority) {
  authority = trim(authority);
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    return lower(authority.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  const auto colon = authority.find(':');
  // More than one colon: an IPv6 address without brackets (as --listen may give it).
  if (colon != std::string_view::npos && authority.find(':', colon + 1) == std::string_view::npos)
    authority = authority.substr(0, colon);
  return lower(authority);
}

bool is_ip_literal(const std::string& name) {
  unsigned char address[16];
  return ::inet_pton(AF_INET, name.c_str(), address) == 1 || ::inet_pton(AF_INET6, name.c_str(), address) == 1;
}

bool is_loopback(const std::string& name) {
  unsigned char address[4];
  if (::inet_pton(AF_INET, name.c_str(), address) == 1) return address[0] == 127;
  return name == "localhost" || name == "::1";
}

// "http://Example.com:8080/" → "http://example.com:8080": origins compare so.
std::string normalized_origin(std::string_view origin) {
  origin = trim(origin);
  while (!origin.empty() && origin.back() == '/') origin.remove_suffix(1);
  return lower(origin);
}

bool changes_state(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "DELETE" || method == "PATCH";
}

constexpr std::string_view api_methods = "GET, HEAD, POST, PUT, DELETE";
constexpr std::string_view api_headers = "Authorization, Content-Type, Content-Encoding, Accept";

}  // namespace

bool is_loopback_host(std::string_view authority) { return is_loopback(host_name(authority)); }

OriginPolicy::OriginPolicy(OriginPolicyOptions options) : options_(std::move(options)) {
  const std::string listen = host_name(options_.listen_host);
  listens_everywhere_ = listen.empty() || listen == "0.0.0.0" || listen == "::";
  for (auto& host : options_.allowed_hosts) host = host_name(host);
  options_.allowed_hosts.push_back(listen);
  for (auto& origin : options_.allowed_origins) origin = normalized_origin(origin);
}

bool OriginPolicy::host_allowed(std::string_view host) const {
  const std::string name = host_name(host);
  if (is_loopback(name) || (listens_everywhere_ && is_ip_literal(name))) return true;
  return std::find(options_.allowed_hosts.begin(), options_.allowed_hosts.end(), name) != options_.allowed_hosts.end();
}

bool OriginPolicy::origin_allowed(std::string_view origin) const {
  const std::string wanted = normalized_origin(origin);
  return std::find(options_.allowed_origins.begin(), options_.allowed_origins.end(), wanted) !=
         options_.allowed_origins.end();
}

std::optional<HttpResponse> OriginPolicy::screen(const HttpRequest& request) const {
  const auto host = request.header("host");
  if (host && !host_allowed(*host))
    return HttpResponse::error(421,
                               "this server does not answer to the host " + json_quoted(trim(*host)) +
                                   " (a loopback name, the listen address or `sluice serve --allowed-host NAME`)",
                               Object{{"host", trim(*host)}});

  const auto origin = request.header("origin");
  if (request.method == "OPTIONS" && origin && request.header("access-control-request-method")) {
    if (!origin_allowed(*origin))
      return HttpResponse::error(403, "cross-origin requests from " + json_quoted(trim(*origin)) +
                                          " are not allowed (`sluice serve --allow-origin ORIGIN` allows one)",
                                 Object{{"origin", trim(*origin)}});
    HttpResponse preflight;
    preflight.status = 204;
    for (auto& header : cors_headers(request)) preflight.headers.push_back(std::move(header));
    preflight.with_header("Access-Control-Allow-Methods", std::string(api_methods))
        .with_header("Access-Control-Allow-Headers", std::string(api_headers))
        .with_header("Access-Control-Max-Age", "600");
    return preflight;
  }

  if (!changes_state(request.method)) return std::nullopt;
  if (origin) {
    // The server's own origin is the one the request names in Host (scheme aside: behind a
    // TLS proxy the page is https, the hop to here http).
    const std::string own = host ? lower(trim(*host)) : std::string();
    const std::string given = normalized_origin(*origin);
    const auto scheme_end = given.find("://");
    const bool same_origin = !own.empty() && scheme_end != std::string::npos && given.substr(scheme_end + 3) == own;
    if (same_origin || origin_allowed(*origin)) return std::nullopt;
    return HttpResponse::error(403, "cross-origin " + request.method + " from " + json_quoted(trim(*origin)) +
                                        " refused: it is not this server's own origin (`sluice serve "
                                        "--allow-origin ORIGIN` allows one)",
                               Object{{"origin", trim(*origin)}});
  }
  const std::string site = lower(trim(request.header("sec-fetch-site").value_or("")));
  if (site == "cross-site" || site == "same-site")
    return HttpResponse::error(403, "cross-site " + request.method + " refused (Sec-Fetch-Site: " + site +
                                        ", no Origin): it does not come from this server's own pages");
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> OriginPolicy::cors_headers(const HttpRequest& request) const {
  const auto origin = request.header("origin");
  if (!origin || !origin_allowed(*origin)) return {};
  return {{"Access-Control-Allow-Origin", std::string(trim(*origin))},
          {"Access-Control-Expose-Headers", "Location, Retry-After"},
          {"Vary", "Origin"}};
}

}  // namespace sluice
