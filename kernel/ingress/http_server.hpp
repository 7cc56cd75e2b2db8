// HttpServer — the HTTP/1.1 layer of the REST ingress, on Pistache 0.0.5, with what that
// version gets wrong put right (measured, see docs/rest.md "HTTP details"):
//
//   HttpServer server({.host = "127.0.0.1", .port = 0, .max_body = 64 << 20},
//                     [](HttpRequest&& request, Responder&& responder) {
//                       responder.send(HttpResponse::json(200, R"({"ok": true})"));
//                     });
//   server.start();                 // binds; port() is the bound port (also for port 0)
//   ... responder.send() may run on any thread, later ...
//   server.stop();
//
// - Persistent connections: HTTP/1.1 requests without `Connection: close` keep the
//   connection (Pistache answers `Connection: Close` to them and clients then hang up).
// - `Expect: 100-continue` is answered with `100 Continue` as soon as the head is in, and a
//   declared Content-Length above the body limit is refused with 413 before the body is sent.
// - HEAD: the headers and Content-Length of the GET response, no body.
// - Every response, also from this layer (413, 431, 400 for a malformed request), is JSON.
//
// The handler runs on one of the server's I/O threads; it must not block: hand long work
// elsewhere and send() from there (the Responder is move-only and thread-agnostic).
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
#include <utility>
#include <vector>

#include <pistache/http.h>

namespace Pistache::Http {
class Endpoint;
}

namespace sluice {

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
  // {"error": message} plus the members of `details` (a JSON object's inside, may be empty,
  // e.g. R"("graph": "g")").
  static HttpResponse error(int status, std::string_view message, std::string_view details = {});
  HttpResponse& with_header(std::string name, std::string value);
};

// A request the API refuses: thrown by request-reading code, answered by the route table as
// HttpResponse::error(status, what(), details).
class RequestError : public std::runtime_error {
 public:
  RequestError(int status, const std::string& message, std::string details = {})
      : std::runtime_error(message), status_(status), details_(std::move(details)) {}
  int status() const { return status_; }
  const std::string& details() const { return details_; }
  HttpResponse response() const { return HttpResponse::error(status_, what(), details_); }

 private:
  int status_;
  std::string details_;
};

// Standard reason phrase ("Not Found"); "Unknown" for codes without one.
std::string_view reason_phrase(int status);

// A response whose body is written piece by piece (Transfer-Encoding: chunked): Server-Sent
// Events. Move-only, thread-agnostic like Responder (one writer at a time). write() returns
// false once the client is gone or the stream was closed; it never blocks: bytes beyond
// `max_buffered` (an argument of Responder::stream) not yet taken by the socket are refused
// (false, nothing sent). The connection ends with the stream (`Connection: close`).
class ResponseStream {
 public:
  ResponseStream() = default;  // closed
  ResponseStream(ResponseStream&&) noexcept = default;
  ResponseStream& operator=(ResponseStream&& other) noexcept;
  ResponseStream(const ResponseStream&) = delete;
  ResponseStream& operator=(const ResponseStream&) = delete;
  ~ResponseStream() { close(); }

  bool write(std::string_view bytes);
  void close();              // sends the last chunk; idempotent; also done by the destructor
  bool open() const;         // false after close() or when the client has gone away

  struct State;  // the connection and the bytes in flight, shared with write completions

 private:
  friend class Responder;
  explicit ResponseStream(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

// The streams a server has open, for HttpServer::stop() to end them (http_server.cpp).
struct OpenStreams;

// Called once per response written, with its status (for the request counters).
using ResponseObserver = std::function<void(int status)>;

// The right to answer one request. Move it to wherever the answer is made; send() once.
// When the client has gone away in the meantime, send() does nothing.
class Responder {
 public:
  Responder(Pistache::Http::ResponseWriter writer, bool head, bool keep_alive,
            std::shared_ptr<const ResponseObserver> observer, std::shared_ptr<OpenStreams> streams);
  // A moved-from Responder counts as sent: it no longer answers anything.
  Responder(Responder&&) noexcept;
  Responder& operator=(Responder&&) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  // Throws std::logic_error when called twice (send or stream).
  void send(HttpResponse response);
  // Starts the response (status + headers, no Content-Length) and hands over the rest. For
  // HEAD the headers alone are sent and the stream is closed at once.
  ResponseStream stream(int status, std::vector<std::pair<std::string, std::string>> headers,
                        std::size_t max_buffered);
  // A header the response will carry, whoever sends it (CORS headers, for one).
  void add_header(std::string name, std::string value) { extra_headers_.emplace_back(std::move(name), std::move(value)); }
  bool sent() const { return sent_; }

 private:
  // Carries the connection (a weak reference to its peer); Pistache's own send() cannot
  // answer HEAD correctly, so the response bytes are written by write_response().
  Pistache::Http::ResponseWriter writer_;
  bool head_ = false;
  bool keep_alive_ = true;
  bool sent_ = false;
  std::shared_ptr<const ResponseObserver> observer_;
  std::shared_ptr<OpenStreams> streams_;
  std::vector<std::pair<std::string, std::string>> extra_headers_;
};

using RequestHandler = std::function<void(HttpRequest&& request, Responder&& responder)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port, see HttpServer::port()
  std::size_t threads = 1;    // I/O threads; handlers must not block them
  std::size_t max_body = std::size_t{64} << 20;
  std::size_t max_head = std::size_t{64} << 10;  // request line + headers
  // A connection whose request is not answered (or not fully received) within this is closed
  // with 408 by Pistache: it must outlast the longest ?wait=true.
  std::chrono::milliseconds request_timeout{65000};
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
  // Ends the open response streams (their last bytes are given up to a second to go out),
  // then closes the listener and every connection; idempotent.
  void stop();

 private:
  HttpServerOptions options_;
  RequestHandler handler_;
  std::shared_ptr<const ResponseObserver> observer_;
  std::shared_ptr<OpenStreams> streams_;
  std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
  bool running_ = false;
};

}  // namespace sluice
