#include "sluice/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <functional>
#include <optional>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace sluice::http {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

Url Url::parse(std::string_view text) {
  const std::string given(text);
  Url url;
  if (text.starts_with("https://")) {
    url.tls = true;
    text.remove_prefix(8);
  } else if (text.starts_with("http://")) {
    text.remove_prefix(7);
  } else {
    throw std::invalid_argument("'" + given + "' is not an http:// or https:// URL");
  }
  const auto slash = text.find('/');
  const std::string_view authority = text.substr(0, slash);
  url.target = slash == std::string_view::npos ? "/" : std::string(text.substr(slash));
  url.port = url.tls ? "443" : "80";
  std::string_view host = authority;
  if (const auto colon = authority.rfind(':');
      colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    host = authority.substr(0, colon);
    url.port = std::string(authority.substr(colon + 1));
    if (url.port.empty() || url.port.size() > 5 || url.port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(url.port) == 0 || std::stoul(url.port) > 65535)
      throw std::invalid_argument("'" + given + "' has a bad port (1 to 65535)");
  }
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);  // [::1] → ::1
  if (host.empty()) throw std::invalid_argument("'" + given + "' names no host");
  url.host = std::string(host);
  return url;
}

std::string Url::authority() const {
  const std::string host_text = host.find(':') == std::string::npos ? host : "[" + host + "]";
  return port == (tls ? "443" : "80") ? host_text : host_text + ":" + port;
}

std::string Url::origin() const { return (tls ? "https://" : "http://") + authority(); }

namespace {

// Why OpenSSL refused the server's certificate ("certificate has expired", "hostname
// mismatch", "unable to get local issuer certificate"), or nothing when it did not.
std::optional<std::string> verify_failure(SSL* ssl) {
  const long result = SSL_get_verify_result(ssl);
  if (result == X509_V_OK) return std::nullopt;
  return X509_verify_cert_error_string(result);
}

template <typename Load>
void load_tls_file(const char* option, const std::string& file, Load load) {
  try {
    load();
  } catch (const boost::system::system_error& e) {
    throw std::invalid_argument("TLS " + std::string(option) + " '" + file + "' cannot be used: " + e.code().message());
  }
}

}  // namespace

// The connection, driven synchronously on a private io_context so that every step has a
// deadline (Beast's timeouts only apply to asynchronous operations).
struct Client::Connection {
  TlsOptions tls;
  std::chrono::milliseconds timeout;
  net::io_context ioc;
  std::optional<ssl::context> tls_context;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  bool open() const { return plain || secure; }
  beast::tcp_stream& tcp() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
  void close() {
    plain.reset();
    secure.reset();
    buffer.clear();
  }

  // Runs the asynchronous operation `start` begins to completion (or to the deadline).
  beast::error_code run(const std::function<void(std::function<void(beast::error_code)>)>& start) {
    beast::error_code result = net::error::would_block;
    start([&](beast::error_code ec) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  void connect(const Url& url) {
    const std::string peer = url.authority();
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    const auto endpoints = resolver.resolve(url.host, url.port, ec);
    if (ec) throw TransportError("cannot resolve " + url.host + ": " + ec.message(), true);
    if (tls_context) secure.emplace(ioc, *tls_context);
    else plain.emplace(ioc);
    tcp().expires_after(timeout);
    ec = run([&](auto done) {
      tcp().async_connect(endpoints, [done](beast::error_code e, const tcp::endpoint&) { done(e); });
    });
    if (ec) {
      close();
      const bool timed_out = ec == beast::error::timeout;
      throw TransportError("cannot connect to " + peer + ": " + (timed_out ? "timed out" : ec.message()), true, timed_out);
    }
    if (secure) handshake(url, peer);
  }

  void handshake(const Url& url, const std::string& peer) {
    SSL* ssl = secure->native_handle();
    const std::string& name = tls.server_name.empty() ? url.host : tls.server_name;
    beast::error_code not_an_address;
    net::ip::make_address(name, not_an_address);
    if (!not_an_address) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
    } else {
      SSL_set1_host(ssl, name.c_str());
      SSL_set_tlsext_host_name(ssl, name.c_str());  // SNI is for names only (RFC 6066)
    }
    const beast::error_code ec = run([&](auto done) {
      secure->async_handshake(ssl::stream_base::client, [done](beast::error_code e) { done(e); });
    });
    if (!ec) return;
    const auto refused = verify_failure(ssl);
    close();
    if (refused)
      throw TransportError("TLS handshake with " + peer + " failed: " + *refused +
                               (name != url.host ? " (verified as " + name + ")" : ""),
                           false);
    const bool timed_out = ec == beast::error::timeout;
    // An alert from the server (it refused our certificate, or our protocol) will not change
    // on a retry; a connection that broke may.
    const bool alert = ec.category() == net::error::get_ssl_category();
    throw TransportError("TLS handshake with " + peer + " failed: " + (timed_out ? "timed out" : ec.message()),
                         !alert, timed_out);
  }

  // Writes `request` and reads the answer; nullopt with `ec` set when either failed.
  std::optional<Response> exchange(bhttp::request<bhttp::string_body>& request, beast::error_code& ec) {
    tcp().expires_after(timeout);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::uint64_t{64} << 20);
    auto io = [&](auto& stream) {
      ec = run([&](auto done) { bhttp::async_write(stream, request, [done](beast::error_code e, std::size_t) { done(e); }); });
      if (!ec)
        ec = run([&](auto done) { bhttp::async_read(stream, buffer, parser, [done](beast::error_code e, std::size_t) { done(e); }); });
    };
    if (secure) io(*secure);
    else io(*plain);
    if (ec) {
      close();
      return std::nullopt;
    }
    auto message = parser.release();
    Response response{.status = message.result_int(), .reason = std::string(message.reason()), .headers = {}, .body = {}};
    for (const auto& field : message) response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    response.body = std::move(message.body());
    if (!message.keep_alive()) close();
    return response;
  }
};

Client::Client(Url url, TlsOptions tls, std::chrono::milliseconds timeout)
    : url_(std::move(url)), connection_(std::make_unique<Connection>()) {
  Connection& c = *connection_;
  c.timeout = timeout;
  if (!url_.tls) {
    if (tls.given()) throw std::invalid_argument("TLS options are given for " + url_.origin() + ", which is not https://");
    return;
  }
  if (tls.client_cert.empty() != tls.client_key.empty())
    throw std::invalid_argument("a TLS client certificate needs both client_cert and client_key");
  ssl::context& context = c.tls_context.emplace(ssl::context::tls_client);
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  context.set_verify_mode(tls.verify ? ssl::verify_peer : ssl::verify_none);
  if (tls.ca_file.empty()) context.set_default_verify_paths();
  else load_tls_file("ca_file", tls.ca_file, [&] { context.load_verify_file(tls.ca_file); });
  if (!tls.client_cert.empty()) {
    load_tls_file("client_cert", tls.client_cert, [&] { context.use_certificate_chain_file(tls.client_cert); });
    load_tls_file("client_key", tls.client_key, [&] { context.use_private_key_file(tls.client_key, ssl::context::pem); });
  }
  if (!tls.verify) tls.server_name.clear();
  c.tls = std::move(tls);
}

Client::~Client() = default;

Response Client::send(std::string_view method, const std::string& target, const Headers& headers, std::string body) {
  const bhttp::verb verb = bhttp::string_to_verb(beast::string_view(method.data(), method.size()));
  if (verb == bhttp::verb::unknown) throw std::invalid_argument("unknown HTTP method '" + std::string(method) + "'");
  bhttp::request<bhttp::string_body> request{verb, target, 11};
  request.set(bhttp::field::host, url_.authority());
  request.set(bhttp::field::user_agent, "sluice/1.0");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.keep_alive(true);
  request.body() = std::move(body);
  request.prepare_payload();

  Connection& c = *connection_;
  // A kept-alive connection the server has closed meanwhile fails without an answer; that
  // costs no attempt: the request goes again on a fresh connection.
  const bool reused = c.open();
  for (int attempt = reused ? 0 : 1; attempt < 2; ++attempt) {
    if (!c.open()) c.connect(url_);
    beast::error_code ec;
    if (auto response = c.exchange(request, ec)) return std::move(*response);
    if (ec == beast::error::timeout)
      throw TransportError(std::string(method) + " " + url_.origin() + target + ": timed out (no answer within " +
                               std::to_string(c.timeout.count()) + " ms)",
                           true, true);
    // With TLS 1.3 a server that refuses our certificate says so after the handshake, in an
    // alert that arrives here; that will not change on a retry either.
    if (ec.category() == net::error::get_ssl_category())
      throw TransportError("TLS connection with " + url_.authority() + " refused: " + ec.message(), false);
    if (attempt == 1) throw TransportError(std::string(method) + " " + url_.origin() + target + ": " + ec.message(), true);
  }
  throw TransportError(std::string(method) + " " + url_.origin() + target + ": no answer", true);
}

}  // namespace sluice::http
