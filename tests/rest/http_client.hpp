// A small HTTP/1.1 client over a POSIX socket, so that tests decide every byte: which
// headers go out (or not), whether the connection is reused, when the body follows an
// `Expect: 100-continue` head.
//
//   HttpConnection connection(port);
//   HttpResult r = connection.request("GET", "/healthz");
//   CHECK(r.status == 200);
//   CHECK(connection.request("GET", "/readyz").status == 200);   // same socket
//
//   HttpResult one = http(port, "POST", "/v1/graphs/g/packets", R"({"a": 1})",
//                         {{"Content-Type", "application/json"}});
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sluice/value.hpp>

namespace rest_test {

using Headers = std::vector<std::pair<std::string, std::string>>;
using namespace std::chrono_literals;

struct HttpResult {
  int status = 0;
  Headers headers;  // names lower-case
  std::string body;

  std::optional<std::string> header(std::string_view lower_name) const;
  sluice::Value json() const;  // the body parsed; throws with the body in the message
};

class HttpConnection {
 public:
  explicit HttpConnection(std::uint16_t port);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  void send_raw(std::string_view bytes);
  // Half-closes: sends FIN, while the answers can still be read.
  void shutdown_sending();
  // Reads one response (an interim 1xx one too). `head`: the response has no body whatever
  // its Content-Length says. Throws on timeout or when the server closes first.
  HttpResult read_response(bool head = false, std::chrono::milliseconds timeout = 15s);
  // Sends a request (Host and Content-Length added) and reads the final response.
  HttpResult request(std::string_view method, std::string_view target, std::string_view body = {},
                     const Headers& headers = {}, std::chrono::milliseconds timeout = 15s);
  // The next chunk of a chunked body whose head read_response() returned; "" for the last one.
  std::string read_chunk(std::chrono::milliseconds timeout = 15s);
  // The next `count` bytes as they come (a body without Content-Length, read so far).
  std::string read_bytes(std::size_t count, std::chrono::milliseconds timeout = 15s);
  // True when the server closes the connection within `wait` (nothing else arrives).
  bool closed_by_server(std::chrono::milliseconds wait);

 private:
  void fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buffer_;  // received, not yet consumed
};

std::string format_request(std::string_view method, std::string_view target, std::string_view body,
                           const Headers& headers);

// One request on a connection of its own.
HttpResult http(std::uint16_t port, std::string_view method, std::string_view target,
                std::string_view body = {}, const Headers& headers = {},
                std::chrono::milliseconds timeout = 15s);

std::string gzip(std::string_view data);

}  // namespace rest_test
