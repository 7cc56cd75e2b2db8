#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <sluice/json.hpp>

namespace rest_test {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<std::string> HttpResult::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return value;
  return std::nullopt;
}

sluice::Value HttpResult::json() const {
  try {
    return sluice::json::parse(body);
  } catch (const std::exception& e) {
    throw std::runtime_error("response " + std::to_string(status) + " is not JSON (" + e.what() + "): " + body);
  }
}

HttpConnection::HttpConnection(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const std::string reason = std::strerror(errno);
    ::close(fd_);
    throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " + reason);
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

HttpConnection::~HttpConnection() { ::close(fd_); }

void HttpConnection::send_raw(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void HttpConnection::shutdown_sending() {
  if (::shutdown(fd_, SHUT_WR) != 0) throw std::runtime_error(std::string("shutdown: ") + std::strerror(errno));
}

void HttpConnection::fill(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) throw std::runtime_error("timed out waiting for the response");
  pollfd p{fd_, POLLIN, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
  if (ready == 0) throw std::runtime_error("timed out waiting for the response");
  if (ready < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
  char chunk[65536];
  const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n == 0) throw std::runtime_error("the server closed the connection");
  if (n < 0 && errno != EINTR) throw std::runtime_error(std::string("recv: ") + std::strerror(errno));
  if (n > 0) buffer_.append(chunk, static_cast<std::size_t>(n));
}

HttpResult HttpConnection::read_response(bool head, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) fill(deadline);
  HttpResult result;
  std::string_view lines = std::string_view(buffer_).substr(0, end);
  auto line_end = lines.find("\r\n");
  const std::string_view status_line = lines.substr(0, line_end);
  if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/")
    throw std::runtime_error("not an HTTP status line: " + std::string(status_line));
  result.status = std::stoi(std::string(status_line.substr(9, 3)));
  while (line_end != std::string_view::npos) {
    lines.remove_prefix(line_end + 2);
    line_end = lines.find("\r\n");
    const std::string_view line = lines.substr(0, line_end);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos)
      result.headers.emplace_back(lower(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }
  buffer_.erase(0, end + 4);
  std::size_t length = 0;
  if (auto value = result.header("content-length")) length = std::stoul(*value);
  const bool bodiless = head || result.status < 200 || result.status == 204 || result.status == 304;
  if (!bodiless) {
    while (buffer_.size() < length) fill(deadline);
    result.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
  }
  return result;
}

std::string HttpConnection::read_chunk(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t line_end;
  while ((line_end = buffer_.find("\r\n")) == std::string::npos) fill(deadline);
  const std::size_t size = std::stoul(buffer_.substr(0, line_end), nullptr, 16);
  while (buffer_.size() < line_end + 2 + size + 2) fill(deadline);
  if (buffer_.compare(line_end + 2 + size, 2, "\r\n") != 0) throw std::runtime_error("a chunk does not end in CRLF");
  std::string data = buffer_.substr(line_end + 2, size);
  buffer_.erase(0, line_end + 2 + size + 2);
  return data;
}

std::string HttpConnection::read_bytes(std::size_t count, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (buffer_.size() < count) fill(deadline);
  std::string bytes = buffer_.substr(0, count);
  buffer_.erase(0, count);
  return bytes;
}

HttpResult HttpConnection::request(std::string_view method, std::string_view target, std::string_view body,
                                   const Headers& headers, std::chrono::milliseconds timeout) {
  send_raw(format_request(method, target, body, headers));
  for (;;) {
    HttpResult result = read_response(method == "HEAD", timeout);
    if (result.status != 100) return result;
  }
}

bool HttpConnection::closed_by_server(std::chrono::milliseconds wait) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
  char byte;
  return ::recv(fd_, &byte, 1, MSG_PEEK) == 0;
}

std::string format_request(std::string_view method, std::string_view target, std::string_view body,
                           const Headers& headers) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  bool has_length = false;
  for (const auto& [name, value] : headers) {
    out.append(name).append(": ").append(value).append("\r\n");
    has_length = has_length || lower(name) == "content-length";
  }
  if (!has_length && (!body.empty() || method == "POST" || method == "PUT"))
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  out.append("\r\n").append(body);
  return out;
}

HttpResult http(std::uint16_t port, std::string_view method, std::string_view target, std::string_view body,
                const Headers& headers, std::chrono::milliseconds timeout) {
  HttpConnection connection(port);
  return connection.request(method, target, body, headers, timeout);
}

std::string gzip(std::string_view data) {
  z_stream stream{};
  // 15 window bits + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  std::string out(deflateBound(&stream, static_cast<uLong>(data.size())) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int status = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (status != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
  return out;
}

}  // namespace rest_test
