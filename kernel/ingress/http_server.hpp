// HttpServer — the HTTP/1.1 layer of the REST ingress: connections on Pistache 0.0.5's TCP
// layer (Tcp::Listener, its reactor threads, Peer::send), requests framed by RequestFramer
// (ingress/request_framer.hpp) on each connection's byte stream (docs/rest.md "HTTP details").
//
//   HttpServer server({.host = "127.0.0.1", .port = 0, .max_body = 64 << 20},
//                     [](HttpRequest&& request, Responder&& responder) {
//                       responder.send(HttpResponse::json(200, R"({"ok": true})"));
//                     });
//   server.start();                 // binds; port() is the bound port (also for port 0)
//   ... responder.send() may run on any thread, later ...
//   server.stop();
//
// - Persistent connections: HTTP/1.1 keeps the connection unless `Connection: close`;
//   HTTP/1.0 only with `Connection: keep-alive`.
// - Pipelining: requests sent before the previous answer arrived are handled one after the
//   other and answered in order; a request followed by FIN (half-close) is still answered.
// - `Expect: 100-continue` is answered with `100 Continue` when the head is in and the body is
//   still to come; a declared Content-Length above the body limit is refused with 413 first.
// - HEAD: the headers and Content-Length of the GET response, no body.
// - Every response, also from this layer (400, 408, 413, 431, 501, 503, 505), is JSON.
// - Limits: --max-connections (kept below the file descriptor limit; the longest-idle
//   connection gives way to a new one at the maximum, 503 when none is idle), a deadline for
//   the request head, an idle timeout.
//
// The handler runs on one of the server's I/O threads (for a large body, on one of its body
// threads); it must not block: hand long work elsewhere and send() from there (the Responder
// is move-only and thread-agnostic).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <sluice/value.hpp>

namespace Pistache::Tcp {
class Listener;
}

namespace sluice {

class ServerConnection;
struct ServerCore;

struct HttpRequest {
  std::string method;  // as sent: GET, HEAD, POST, PUT, DELETE, ...
  std::string path;    // percent-decoded, without the query
  std::vector<std::pair<std::string, std::string>> query;    // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;

  // The first header with this (lower-case) name.
  std::optional<std::string_view> header(std::string_view lower_name) const;
  std::optional<std::string_view> query_value(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added
  std::string body;

  // `body` with Content-Type application/json.
  static HttpResponse json(int status, std::string body);
  // {"error": message} followed by the members of `details`, e.g. {{"graph", "g"}}.
  static HttpResponse error(int status, std::string_view message, const Object& details = {});
  HttpResponse& with_header(std::string name, std::string value);
};

// A request the API refuses: thrown by request-reading code, answered by the route table as
// HttpResponse::error(status, what(), details).
class RequestError : public std::runtime_error {
 public:
  RequestError(int status, const std::string& message, Object details = {})
      : std::runtime_error(message), status_(status), details_(std::move(details)) {}
  int status() const { return status_; }
  const Object& details() const { return details_; }
  HttpResponse response() const { return HttpResponse::error(status_, what(), details_); }

 private:
  int status_;
  Object details_;
};

// Standard reason phrase ("Not Found"); "Unknown" for codes without one.
std::string_view reason_phrase(int status);

// Called once per response written, with its status (for the request counters).
using ResponseObserver = std::function<void(int status)>;

// A response whose body is written piece by piece (Transfer-Encoding: chunked; to an HTTP/1.0
// client the bytes as they are, and the connection closed at the end). Move-only,
// thread-agnostic like Responder. write() returns false once the client is gone or the stream was
// closed; it never blocks: bytes beyond `max_buffered` (an argument of Responder::stream) that
// the client has not taken yet are refused (false).
class ResponseStream {
 public:
  ResponseStream(std::shared_ptr<ServerConnection> connection, bool head, bool chunked, bool keep_alive,
                 std::size_t max_buffered);
  ResponseStream(ResponseStream&&) noexcept = default;
  ResponseStream& operator=(ResponseStream&& other) noexcept;
  ResponseStream(const ResponseStream&) = delete;
  ResponseStream& operator=(const ResponseStream&) = delete;
  ~ResponseStream() { close(); }

  bool write(std::string_view bytes);
  void close();  // sends the last chunk; idempotent; also done by the destructor
  bool open() const;  // false after close() or when the client has gone away

 private:
  std::shared_ptr<ServerConnection> connection_;  // null once closed
  bool head_ = false;  // HEAD: the headers went out, no chunk ever does
  bool chunked_ = true;
  bool keep_alive_ = true;
  std::size_t max_buffered_ = 0;
};

// The right to answer one request. Move it to wherever the answer is made; send() once.
// When the client has gone away in the meantime, send() does nothing.
class Responder {
 public:
  Responder(std::shared_ptr<ServerConnection> connection, bool head, bool http11, bool keep_alive);
  // A moved-from Responder counts as sent: it no longer answers anything.
  Responder(Responder&&) noexcept;
  Responder& operator=(Responder&&) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  // One destroyed unsent answers 500: the requests pipelined behind it wait for its answer.
  ~Responder();

  // Throws std::logic_error when called twice (stream() counts as an answer).
  void send(HttpResponse response);
  // Starts the response (status + headers, no Content-Length) and hands over the rest; the
  // requests pipelined behind it wait until the stream is closed.
  ResponseStream stream(int status, std::vector<std::pair<std::string, std::string>> headers,
                        std::size_t max_buffered);
  // A header the response will carry, whoever sends it (CORS headers, for one).
  void add_header(std::string name, std::string value) { extra_headers_.emplace_back(std::move(name), std::move(value)); }
  bool sent() const { return sent_; }

 private:
  void mark_sent();

  // Keeps the connection while the request is handled (also after the client's FIN).
  std::shared_ptr<ServerConnection> connection_;
  bool head_ = false;
  bool http11_ = true;
  bool keep_alive_ = true;
  bool sent_ = false;
  std::vector<std::pair<std::string, std::string>> extra_headers_;
};

using RequestHandler = std::function<void(HttpRequest&& request, Responder&& responder)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port, see HttpServer::port()
  std::size_t threads = 1;    // I/O threads; handlers must not block them
  std::size_t max_body = std::size_t{64} << 20;
  std::size_t max_head = std::size_t{64} << 10;  // request line + headers
  // A request whose body is larger than this goes to the handler on one of `body_threads`
  // threads instead of the I/O thread that read it: inflating and parsing a large body must not
  // stall the other connections of that thread.
  std::size_t large_body = std::size_t{64} << 10;
  std::size_t body_threads = 2;
  // Connections beyond this are answered 503 and closed, unless an idle one gives way. It is
  // kept below the file descriptor limit (raised to its hard limit at start), with a reserve.
  std::size_t max_connections = 10000;
  // From the first byte of a request until its head is complete; 408 beyond.
  std::chrono::milliseconds header_timeout{30000};
  // The longest silence of a client: between requests (the connection is closed) or in the
  // middle of a body (408). Nothing times out while the handler works on a request.
  std::chrono::milliseconds idle_timeout{300000};
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, RequestHandler handler, ResponseObserver observer = {});
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on background threads. Throws std::runtime_error naming the
  // address when it cannot bind.
  void start();
  std::uint16_t port() const;
  // Closes the listener, every connection and open stream, and waits for the I/O threads;
  // idempotent. Responses sent after it are dropped.
  void stop();

 private:
  std::shared_ptr<ServerCore> core_;
  std::unique_ptr<Pistache::Tcp::Listener> listener_;
  std::thread timers_;  // checks the connections' deadlines
  std::vector<std::thread> body_threads_;  // handle the requests with a large body
  std::uint16_t port_ = 0;
  bool running_ = false;
};

}  // namespace sluice
