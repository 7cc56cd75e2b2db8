// RequestFramer — cuts the byte stream of one connection into HTTP/1.1 requests (RFC 9112),
// however the bytes happen to be split into reads:
//
//   RequestFramer framer({.max_head = 64 << 10, .max_body = 64 << 20});
//   framer.feed(bytes_just_read);
//   while (auto framed = framer.next()) handle(std::move(framed->request));  // throws RequestError
//
// - Requests follow one another on the stream (pipelining): next() returns them in order, one
//   per call, and keeps the bytes of the following ones for the next call.
// - A body is framed by Content-Length (digits only, one header, never beside
//   Transfer-Encoding) or by Transfer-Encoding: chunked (chunk extensions and trailers are read
//   and dropped). 413 as soon as the declared or the decoded size passes max_body.
// - A RequestError (400, 413, 431, 501, 505) means the stream cannot be framed any
//   further: answer it and close the connection. Its message says what is wrong in HTTP terms.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "ingress/http_server.hpp"

namespace sluice {

struct FramingLimits {
  std::size_t max_head = std::size_t{64} << 10;  // request line + headers, and the trailers
  std::size_t max_body = std::size_t{64} << 20;  // after chunked decoding
};

struct FramedRequest {
  HttpRequest request;
  bool keep_alive = true;  // HTTP/1.1 without `Connection: close`, HTTP/1.0 with keep-alive
  bool http11 = true;      // else HTTP/1.0, which knows no chunked responses
};

class RequestFramer {
 public:
  explicit RequestFramer(FramingLimits limits) : limits_(limits) {}

  void feed(std::string_view bytes);
  // The next complete request, or nullopt until more bytes arrive. Throws RequestError when the
  // bytes are not HTTP/1.1 or pass a limit; the framer is of no further use then.
  std::optional<FramedRequest> next();

  // True once per request whose head asked for `Expect: 100-continue` and whose body has not
  // been received completely by the last next().
  bool take_continue_wanted();
  // Some bytes of a request not yet returned by next() were received.
  bool in_request() const { return stage_ != Stage::head || !pending().empty(); }
  // ... and its head is not complete yet.
  bool in_head() const { return stage_ == Stage::head && !pending().empty(); }
  // Received bytes not yet framed (the following pipelined requests among them).
  std::size_t buffered() const { return pending().size(); }

 private:
  enum class Stage { head, body, chunk_size, chunk_data, chunk_end, trailers };

  std::string_view pending() const { return std::string_view(input_).substr(start_); }
  void consume(std::size_t count);
  // Where `terminator` starts in the pending bytes; each byte is searched once across calls.
  std::optional<std::size_t> find_pending(std::string_view terminator);
  // The next CRLF-terminated line, consumed; throws too_long() when it passes `limit` bytes.
  std::optional<std::string> take_line(std::size_t limit, const std::function<RequestError()>& too_long);
  // Takes up to remaining_ body bytes; true when the last of them arrived.
  bool take_body_bytes();
  void start_request(std::string_view head);
  void read_framing_headers(bool http11);
  FramedRequest finish();

  FramingLimits limits_;
  std::string input_;
  std::size_t start_ = 0;    // input_[0, start_) is framed already
  std::size_t scanned_ = 0;  // pending bytes searched for the current terminator without a match
  Stage stage_ = Stage::head;
  FramedRequest current_;
  std::uint64_t remaining_ = 0;   // bytes of the body (or of the current chunk) still to come
  std::size_t trailer_bytes_ = 0;
  bool continue_wanted_ = false;
};

}  // namespace sluice
