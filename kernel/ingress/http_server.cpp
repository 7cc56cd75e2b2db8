#include "ingress/http_server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <pistache/endpoint.h>
#include <pistache/peer.h>

#include <sluice/json.hpp>

#include "ingress/strings.hpp"

namespace sluice {

namespace {

using namespace Pistache;

// Whether a comma-separated header value (Connection, Expect) holds `token`, ignoring case.
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    if (lower(trim(value.substr(0, comma))) == token) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX sequences decoded; `plus_is_space` for query strings (form encoding). A malformed
// escape stays as it is: the text is a name to look up, not something to reject.
std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int high = hex_digit(text[i + 1]), low = hex_digit(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

// What the head of a request says about its body, read before Pistache's parser sees the
// body (which reserves the declared Content-Length at once and never answers Expect).
struct HeadFacts {
  bool http11 = false;
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  bool expect_continue = false;
};

HeadFacts read_head(std::string_view head) {
  HeadFacts facts;
  auto line_end = head.find("\r\n");
  const std::string_view request_line = head.substr(0, line_end);
  facts.http11 = request_line.size() >= 8 && request_line.substr(request_line.size() - 8) == "HTTP/1.1";
  while (line_end != std::string_view::npos) {
    head.remove_prefix(line_end + 2);
    line_end = head.find("\r\n");
    const std::string_view line = head.substr(0, line_end);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = lower(trim(line.substr(0, colon)));
    const std::string_view value = trim(line.substr(colon + 1));
    if (name == "content-length") {
      std::uint64_t length = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (ec == std::errc() && end == value.data() + value.size()) facts.content_length = length;
    } else if (name == "transfer-encoding") {
      facts.chunked = has_token(value, "chunked");
    } else if (name == "expect") {
      facts.expect_continue = has_token(value, "100-continue");
    }
  }
  return facts;
}

// The status line and the headers given, each ending in CRLF.
void serialize_head(int status, const std::vector<std::pair<std::string, std::string>>& headers, std::string& out) {
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason_phrase(status);
  out += "\r\n";
  for (const auto& [name, value] : headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
}

std::string serialize(const HttpResponse& response, bool head, bool keep_alive) {
  // 1xx, 204 and 304 responses never carry a body (RFC 9110 §6.4.1).
  const bool bodiless = response.status < 200 || response.status == 204 || response.status == 304;
  std::string out;
  out.reserve(256 + (head || bodiless ? 0 : response.body.size()));
  serialize_head(response.status, response.headers, out);
  if (!bodiless) {
    // For HEAD: the length the GET response has (RFC 9110 §9.3.2), without the bytes.
    out += "Content-Length: ";
    out += std::to_string(response.body.size());
    out += "\r\n";
  }
  out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  if (!head && !bodiless) out += response.body;
  return out;
}

// Queues the bytes on the peer's transport (any thread may call this). When the connection
// is not to be kept, its sending side is shut down once the bytes are out: the client reads
// the response and then the end of the stream, and Pistache removes the peer when the client
// closes. (shutdown, not close: the fd stays Pistache's; the continuation runs on the
// transport's thread, where the peer cannot be removed under it.)
void write_response(const std::shared_ptr<Tcp::Peer>& peer, const HttpResponse& response,
                    bool head, bool keep_alive) {
  std::string bytes = serialize(response, head, keep_alive);
  const std::size_t size = bytes.size();
  // Idle: the keep-alive timeout applies from now on, not the request timeouts.
  peer->setIdle(true);
  std::weak_ptr<Tcp::Peer> weak = peer;
  peer->send(RawBuffer(std::move(bytes), size))
      .then(
          [weak, keep_alive](ssize_t) {
            if (keep_alive) return;
            if (auto p = weak.lock()) ::shutdown(p->fd(), SHUT_WR);
          },
          // The client went away before the response was written: nothing to do.
          [](std::exception_ptr) {});
}

std::string error_body(std::string_view message, std::string_view details) {
  std::string body = "{\"error\": ";
  body += json::to_string(Value(message));
  if (!details.empty()) {
    body += ", ";
    body += details;
  }
  body += '}';
  return body;
}

constexpr const char* connection_key = "sluice.connection";

// Per connection, beside Pistache's parser.
struct ConnectionState {
  std::string head;        // bytes of the current request until its head is complete
  bool head_seen = false;  // the current request's head was read and checked
  bool closing = false;    // a refusal was sent; the rest of the input is discarded
};

struct ServerShared {
  HttpServerOptions options;
  RequestHandler handler;
  std::shared_ptr<const ResponseObserver> observer;
  std::shared_ptr<OpenStreams> streams;
};

class ConnectionHandler final : public Http::Handler {
 public:
  HTTP_PROTOTYPE(ConnectionHandler)

  explicit ConnectionHandler(std::shared_ptr<const ServerShared> shared) : shared_(std::move(shared)) {}

  void onConnection(const std::shared_ptr<Tcp::Peer>& peer) override {
    peer->putData(ParserData, std::make_shared<Http::RequestParser>(getMaxRequestSize()));
    peer->putData(connection_key, std::make_shared<ConnectionState>());
  }

  // Replaces Http::Handler::onInput (same parser, same steps) to add what it lacks: the
  // head check before the body (413 early, 100 Continue) and JSON answers to bad requests.
  void onInput(const char* buffer, size_t len, const std::shared_ptr<Tcp::Peer>& peer) override {
    auto parser = getParser(peer);
    auto& connection = *std::static_pointer_cast<ConnectionState>(peer->getData(connection_key));
    if (connection.closing) return;
    try {
      if (!connection.head_seen && !check_head(connection, std::string_view(buffer, len), peer))
        return;
      if (!parser->feed(buffer, len)) {
        // Only a chunked body gets here (a declared length was checked in the head).
        refuse(peer, connection, 413, too_large_message());
        return;
      }
      if (parser->parse() != Http::Private::State::Done) return;
      connection.head_seen = false;
      // Moved out, and the parser's buffer released, before the request is handled: a large
      // body is then held twice at most (here and in the HttpRequest), not three times.
      Http::Request request = std::move(parser->request);
      parser->reset();
      request.copyAddress(peer->address());
      peer->setIdle(false);
      onRequest(request, Http::ResponseWriter(request.version(), transport(), this, peer));
    } catch (const Http::HttpError& e) {
      refuse(peer, connection, e.code(), "malformed request: " + e.reason());
    } catch (const std::exception& e) {
      refuse(peer, connection, 400, std::string("malformed request: ") + e.what());
    }
  }

  void onRequest(const Http::Request& request, Http::ResponseWriter writer) override {
    HttpRequest out;
    out.method = Http::methodString(request.method());
    out.path = percent_decode(request.resource(), false);
    const auto& query = request.query();
    for (auto it = query.parameters_begin(); it != query.parameters_end(); ++it)
      out.query.emplace_back(percent_decode(it->first, true), percent_decode(it->second, true));
    for (const auto& [name, raw] : request.headers().rawList())
      out.headers.emplace_back(lower(name), raw.value());
    out.body = request.body();

    const auto connection = out.header("connection");
    const bool keep_alive = request.version() == Http::Version::Http11
                                ? !(connection && has_token(*connection, "close"))
                                : connection && has_token(*connection, "keep-alive");
    const bool head = request.method() == Http::Method::Head;
    Responder responder(std::move(writer), head, keep_alive, shared_->observer, shared_->streams);
    try {
      shared_->handler(std::move(out), std::move(responder));
    } catch (const std::exception& e) {
      // The handler answers its own errors; this is the last resort, if it still could.
      if (!responder.sent())
        responder.send(HttpResponse::error(500, std::string("internal error: ") + e.what()));
    }
  }

 private:
  std::string too_large_message() const {
    return "request body larger than the limit of " + std::to_string(shared_->options.max_body) +
           " bytes";
  }

  // Reads the head once it is complete. Returns false when the request was refused.
  bool check_head(ConnectionState& connection, std::string_view data,
                  const std::shared_ptr<Tcp::Peer>& peer) {
    const std::size_t before = connection.head.size();
    connection.head.append(data);
    const auto end = connection.head.find("\r\n\r\n", before >= 3 ? before - 3 : 0);
    if (end == std::string::npos) {
      if (connection.head.size() <= shared_->options.max_head) return true;
      refuse(peer, connection, 431,
             "request head larger than " + std::to_string(shared_->options.max_head) + " bytes");
      return false;
    }
    connection.head_seen = true;
    const HeadFacts facts = read_head(std::string_view(connection.head).substr(0, end));
    const std::size_t body_here = connection.head.size() - end - 4;
    connection.head.clear();
    if (facts.content_length && *facts.content_length > shared_->options.max_body) {
      refuse(peer, connection, 413, too_large_message());
      return false;
    }
    const bool body_to_come =
        facts.chunked || (facts.content_length && body_here < *facts.content_length);
    if (facts.http11 && facts.expect_continue && body_to_come) {
      static constexpr char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";
      peer->send(RawBuffer(continue_line, sizeof continue_line - 1)).then([](ssize_t) {}, [](std::exception_ptr) {});
    }
    return true;
  }

  // Answers and closes: after a refused head or a malformed request the rest of the input
  // cannot be framed, so it is discarded.
  void refuse(const std::shared_ptr<Tcp::Peer>& peer, ConnectionState& connection, int status,
              const std::string& message) {
    connection.closing = true;
    getParser(peer)->reset();
    if (*shared_->observer) (*shared_->observer)(status);
    write_response(peer, HttpResponse::error(status, message), false, false);
  }

  std::shared_ptr<const ServerShared> shared_;
};

}  // namespace

std::optional<std::string_view> HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return std::string_view(value);
  return std::nullopt;
}

std::optional<std::string_view> HttpRequest::query_value(std::string_view name) const {
  for (const auto& [key, value] : query)
    if (key == name) return std::string_view(value);
  return std::nullopt;
}

HttpResponse HttpResponse::json(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "application/json");
  response.body = std::move(body);
  return response;
}

HttpResponse HttpResponse::error(int status, std::string_view message, std::string_view details) {
  return json(status, error_body(message, details));
}

HttpResponse& HttpResponse::with_header(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 413: return "Content Too Large";  // Pistache still says "Request Entity Too Large"
    case 422: return "Unprocessable Content";
    case 431: return "Request Header Fields Too Large";
    default: break;
  }
  const char* text = Http::codeString(static_cast<Http::Code>(status));
  return text && *text ? std::string_view(text) : std::string_view("Unknown");
}

Responder::Responder(Http::ResponseWriter writer, bool head, bool keep_alive,
                     std::shared_ptr<const ResponseObserver> observer, std::shared_ptr<OpenStreams> streams)
    : writer_(std::move(writer)),
      head_(head),
      keep_alive_(keep_alive),
      observer_(std::move(observer)),
      streams_(std::move(streams)) {}

Responder::Responder(Responder&& other) noexcept
    : writer_(std::move(other.writer_)),
      head_(other.head_),
      keep_alive_(other.keep_alive_),
      sent_(std::exchange(other.sent_, true)),
      observer_(std::move(other.observer_)),
      streams_(std::move(other.streams_)),
      extra_headers_(std::move(other.extra_headers_)) {}

Responder& Responder::operator=(Responder&& other) noexcept {
  writer_ = std::move(other.writer_);
  head_ = other.head_;
  keep_alive_ = other.keep_alive_;
  sent_ = std::exchange(other.sent_, true);
  observer_ = std::move(other.observer_);
  streams_ = std::move(other.streams_);
  extra_headers_ = std::move(other.extra_headers_);
  return *this;
}

void Responder::send(HttpResponse response) {
  if (sent_) throw std::logic_error("Responder::send: this request was already answered");
  sent_ = true;
  for (auto& header : extra_headers_) response.headers.push_back(std::move(header));
  if (observer_ && *observer_) (*observer_)(response.status);
  if (auto peer = writer_.getPeer()) write_response(peer, response, head_, keep_alive_);
}

struct ResponseStream::State {
  std::weak_ptr<Tcp::Peer> peer;
  std::size_t max_buffered = 0;
  std::atomic<bool> open{true};
  std::atomic<std::size_t> in_flight{0};  // queued on the transport, not yet written

  // Queues `bytes` on the connection, counted in `in_flight` until written; false when the
  // client is gone. `last`: the sending side is shut once they are out, as for a response
  // that does not keep its connection (see write_response()).
  static bool send(const std::shared_ptr<State>& state, std::string bytes, bool last = false) {
    auto peer = state->peer.lock();
    if (!peer) return false;
    const std::size_t size = bytes.size();
    state->in_flight += size;
    peer->send(RawBuffer(std::move(bytes), size))
        .then(
            [state, size, last](ssize_t) {
              state->in_flight -= size;
              if (auto p = state->peer.lock(); p && last) ::shutdown(p->fd(), SHUT_WR);
            },
            [state, size](std::exception_ptr) {
              state->open = false;
              state->in_flight -= size;
            });
    return true;
  }

  // Sends the last chunk; idempotent.
  static void close(const std::shared_ptr<State>& state) {
    if (state->open.exchange(false)) send(state, "0\r\n\r\n", true);
  }
};

struct OpenStreams {
  std::mutex mutex;
  std::vector<std::weak_ptr<ResponseStream::State>> streams;

  void add(const std::shared_ptr<ResponseStream::State>& state) {
    std::lock_guard lock(mutex);
    std::erase_if(streams, [](const auto& weak) { return weak.expired(); });
    streams.push_back(state);
  }

  // Closes every open stream and waits, up to `limit`, until their bytes are written.
  void close_all(std::chrono::milliseconds limit) {
    std::vector<std::shared_ptr<ResponseStream::State>> open;
    {
      std::lock_guard lock(mutex);
      for (const auto& weak : streams)
        if (auto state = weak.lock()) open.push_back(std::move(state));
    }
    for (const auto& state : open) ResponseStream::State::close(state);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (const auto& state : open)
      while (state->in_flight.load() != 0 && !state->peer.expired() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
};

ResponseStream& ResponseStream::operator=(ResponseStream&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

bool ResponseStream::open() const {
  return state_ && state_->open.load() && !state_->peer.expired();
}

bool ResponseStream::write(std::string_view bytes) {
  if (!open()) return false;
  if (bytes.empty()) return true;  // an empty chunk would end the body
  char size_line[24];
  const int size_length = std::snprintf(size_line, sizeof size_line, "%zx\r\n", bytes.size());
  std::string chunk(size_line, static_cast<std::size_t>(size_length));
  chunk.append(bytes);
  chunk += "\r\n";
  if (state_->in_flight.load() + chunk.size() > state_->max_buffered) return false;
  return State::send(state_, std::move(chunk));
}

void ResponseStream::close() {
  if (state_) State::close(state_);
}

ResponseStream Responder::stream(int status, std::vector<std::pair<std::string, std::string>> headers,
                                 std::size_t max_buffered) {
  if (sent_) throw std::logic_error("Responder::stream: this request was already answered");
  sent_ = true;
  for (auto& header : extra_headers_) headers.push_back(std::move(header));
  headers.emplace_back("Transfer-Encoding", "chunked");
  headers.emplace_back("Connection", "close");
  std::string bytes;
  serialize_head(status, headers, bytes);
  bytes += "\r\n";
  if (observer_ && *observer_) (*observer_)(status);
  auto state = std::make_shared<ResponseStream::State>();
  state->max_buffered = max_buffered;
  auto peer = writer_.getPeer();
  if (!peer) return ResponseStream();
  state->peer = peer;
  // Idle for Pistache: its request timeouts must not cut a stream that outlasts them (its
  // keep-alive timeout, 300 s of silence from the client, still applies).
  peer->setIdle(true);
  ResponseStream::State::send(state, std::move(bytes));
  if (streams_) streams_->add(state);
  ResponseStream stream(std::move(state));
  if (head_) stream.close();
  return stream;
}

HttpServer::HttpServer(HttpServerOptions options, RequestHandler handler, ResponseObserver observer)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      observer_(std::make_shared<const ResponseObserver>(std::move(observer))),
      streams_(std::make_shared<OpenStreams>()) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  if (running_) return;
  const std::string where = options_.host + ":" + std::to_string(options_.port);
  try {
    endpoint_ = std::make_unique<Http::Endpoint>(Address(options_.host, Port(options_.port)));
    endpoint_->init(Http::Endpoint::options()
                        .threads(static_cast<int>(std::max<std::size_t>(options_.threads, 1)))
                        .flags(Tcp::Options::ReuseAddr)
                        .headerTimeout(options_.request_timeout)
                        .bodyTimeout(options_.request_timeout)
                        // The parser buffers the whole request: head and body.
                        .maxRequestSize(options_.max_body + options_.max_head));
    endpoint_->setHandler(std::make_shared<ConnectionHandler>(
        std::make_shared<const ServerShared>(ServerShared{options_, handler_, observer_, streams_})));
    endpoint_->serveThreaded();
  } catch (const std::exception& e) {
    endpoint_.reset();
    throw std::runtime_error("cannot listen on " + where + ": " + e.what());
  }
  running_ = true;
}

std::uint16_t HttpServer::port() const {
  if (!endpoint_) throw std::logic_error("HttpServer::port: the server is not started");
  return static_cast<std::uint16_t>(endpoint_->getPort());
}

void HttpServer::stop() {
  if (!running_) return;
  running_ = false;
  streams_->close_all(std::chrono::seconds(1));
  endpoint_->shutdown();
}

}  // namespace sluice
