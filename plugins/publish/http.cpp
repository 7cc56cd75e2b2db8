#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <thread>
#include <variant>

#include <sluice/io.hpp>
#include <sluice/json.hpp>

#include "publishers.hpp"

namespace sluice::publish {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

struct Url {
  std::string host, port, target;
};

Url parse_url(const std::string& url) {
  constexpr std::string_view scheme = "http://";
  if (url.starts_with("https://"))
    throw std::invalid_argument("param 'url': https is not supported (put a TLS-terminating "
                                "proxy in front, or use http on a trusted network)");
  if (!url.starts_with(scheme))
    throw std::invalid_argument("param 'url': must start with http://, got '" + url + "'");
  const std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  Url out{.host = authority, .port = "80", .target = slash == std::string::npos ? "/" : rest.substr(slash)};
  if (const auto colon = authority.rfind(':');
      colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    out.host = authority.substr(0, colon);
    out.port = authority.substr(colon + 1);
    if (out.port.empty() || out.port.find_first_not_of("0123456789") != std::string::npos)
      throw std::invalid_argument("param 'url': bad port in '" + url + "'");
  }
  if (out.host.starts_with('[') && out.host.ends_with(']'))
    out.host = out.host.substr(1, out.host.size() - 2);  // [::1] → ::1 for the resolver
  if (out.host.empty()) throw std::invalid_argument("param 'url': no host in '" + url + "'");
  return out;
}

// Whether a failed attempt is worth repeating: the server may recover from these.
bool retryable(unsigned status) { return status >= 500 || status == 408 || status == 429; }

}  // namespace

// One keep-alive connection, driven synchronously on a private io_context so that every step
// can have a deadline (Beast's timeouts only apply to asynchronous operations).
struct Http::Client {
  Url url;
  std::string host_header;
  http::verb method;
  std::chrono::milliseconds timeout;
  int retries;
  std::chrono::milliseconds backoff;
  std::vector<std::pair<std::string, std::string>> headers;
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  // Runs the queued asynchronous operations to completion (or to the stream's deadline).
  beast::error_code run(const std::function<void(std::function<void(beast::error_code)>)>& start) {
    beast::error_code result = net::error::would_block;
    start([&](beast::error_code ec) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  // One attempt: the status, or an error code for network failures and timeouts. A kept-alive
  // connection the server has since closed fails without a response; that costs no attempt:
  // the request goes again on a fresh connection.
  std::variant<unsigned, beast::error_code> attempt(const std::string& body) {
    const bool reused = stream.has_value();
    auto outcome = exchange(body);
    const auto* ec = std::get_if<beast::error_code>(&outcome);
    if (reused && ec && *ec != beast::error::timeout) outcome = exchange(body);
    return outcome;
  }

  std::variant<unsigned, beast::error_code> exchange(const std::string& body) {
    beast::error_code ec;
    if (!stream) {
      tcp::resolver resolver(ioc);
      const auto endpoints = resolver.resolve(url.host, url.port, ec);
      if (ec) return ec;
      stream.emplace(ioc);
      stream->expires_after(timeout);
      ec = run([&](auto done) {
        stream->async_connect(endpoints, [done](beast::error_code e, const tcp::endpoint&) { done(e); });
      });
      if (ec) {
        stream.reset();
        return ec;
      }
    }
    http::request<http::string_body> request{method, url.target, 11};
    request.set(http::field::host, host_header);
    request.set(http::field::content_type, "application/json");
    request.set(http::field::user_agent, "sluice-http/1.0");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.keep_alive(true);
    request.body() = body;
    request.prepare_payload();
    http::response<http::string_body> response;
    stream->expires_after(timeout);
    ec = run([&](auto done) {
      http::async_write(*stream, request, [done](beast::error_code e, std::size_t) { done(e); });
    });
    if (!ec)
      ec = run([&](auto done) {
        http::async_read(*stream, buffer, response, [done](beast::error_code e, std::size_t) { done(e); });
      });
    if (ec || !response.keep_alive()) {
      // A stale keep-alive connection fails here too; the retry reconnects.
      stream.reset();
      buffer.clear();
    }
    if (ec) return ec;
    return response.result_int();
  }

  void send(const std::string& body) {
    std::string last_error;
    auto delay = backoff;
    for (int attempt_no = 0; attempt_no <= retries; ++attempt_no) {
      if (attempt_no > 0) {
        std::this_thread::sleep_for(delay);
        delay *= 2;
      }
      const auto outcome = attempt(body);
      if (const auto* status = std::get_if<unsigned>(&outcome)) {
        if (*status >= 200 && *status < 300) return;
        last_error = "HTTP " + std::to_string(*status);
        if (!retryable(*status)) break;
      } else {
        const auto& ec = std::get<beast::error_code>(outcome);
        last_error = ec == beast::error::timeout ? "timed out" : ec.message();
      }
    }
    throw std::runtime_error("http: " + std::string(http::to_string(method)) + " " + host_header + url.target + " failed: " + last_error +
                             " (after " + std::to_string(retries + 1) + " attempts at most)");
  }
};

ComponentDescriptor Http::descriptor() {
  return {.name = "http",
          .version = "1.0.0",
          .summary = "Sends each packet as JSON to an HTTP endpoint, retrying failures with backoff",
          .kind = ComponentKind::publisher,
          .params = {{.name = "url",
                      .type = ParamType::string,
                      .description = "endpoint, http://host[:port]/path",
                      .required = true},
                     {.name = "method",
                      .type = ParamType::string,
                      .description = "HTTP method",
                      .default_value = "POST",
                      .allowed = {"POST", "PUT"}},
                     {.name = "format",
                      .type = ParamType::string,
                      .description = "fields: the packet's fields as the body; envelope: "
                                     "{\"fields\",\"meta\",\"field_meta\"}",
                      .default_value = "fields",
                      .allowed = {"fields", "envelope"}},
                     {.name = "headers",
                      .type = ParamType::object,
                      .description = "extra request headers, name → string value (e.g. "
                                     "Authorization: \"Bearer ${env:API_TOKEN}\"); secret",
                      .secret = true},
                     {.name = "timeout_ms",
                      .type = ParamType::integer,
                      .description = "deadline for connecting, and for sending and answering one "
                                     "request",
                      .default_value = 10000,
                      .minimum = 1},
                     {.name = "retries",
                      .type = ParamType::integer,
                      .description = "further attempts after a network error, timeout, 408, 429 "
                                     "or 5xx (other 4xx fail at once); the packet then fails",
                      .default_value = 3,
                      .minimum = 0,
                      .maximum = 20},
                     {.name = "backoff_ms",
                      .type = ParamType::integer,
                      .description = "wait before the first retry; doubles on each further one",
                      .default_value = 200,
                      .minimum = 0}},
          .capabilities = {"net"}};
}

Http::Http(const Params& params)
    : client_(std::make_unique<Client>()), envelope_(params.get_string("format") == "envelope") {
  Client& c = *client_;
  c.url = parse_url(params.get_string("url"));
  c.host_header = c.url.port == "80" ? c.url.host : c.url.host + ":" + c.url.port;
  c.method = params.get_string("method") == "PUT" ? http::verb::put : http::verb::post;
  c.timeout = std::chrono::milliseconds(params.get_int("timeout_ms"));
  c.retries = static_cast<int>(params.get_int("retries"));
  c.backoff = std::chrono::milliseconds(params.get_int("backoff_ms"));
  if (params.has("headers")) {
    for (const auto& [name, value] : params.get("headers").as_object()) {
      if (!value.is_string())
        throw std::invalid_argument("param 'headers': '" + name + "' must be a string, got " +
                                    value.type_name());
      c.headers.emplace_back(name, value.as_string());
    }
  }
}

Http::~Http() = default;

void Http::process(Packet& packet, Emitter&) {
  body_.clear();
  if (envelope_)
    json::write_envelope(packet, body_);
  else
    json::write_fields(packet, body_);
  // The whole exchange, retries and backoff included, runs off the worker's thread.
  io::run_blocking([&] { client_->send(body_); });
}

}  // namespace sluice::publish
