#include "ingress/request_framer.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>
#include <vector>

#include "support/strings.hpp"

namespace sluice {

namespace {

// A chunk-size line with extensions; far more than any client sends.
constexpr std::size_t max_chunk_line = 4096;

// Methods the routes know; any other token is 501 (RFC 9110 §9.1), not a malformed request.
constexpr std::array<std::string_view, 7> known_methods = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"};

// RFC 9110 §5.6.2 tchar.
bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x80 || u <= 0x20 || u == 0x7f) return false;
  return std::string_view("\"(),/:;<=>?@[\\]{}").find(c) == std::string_view::npos;
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_token_char);
}

// Client bytes inside an error message: JSON-quoted, non-printable bytes as \xNN, cut at 80.
std::string quoted(std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string shown;
  for (const char c : text.substr(0, 80)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      shown.push_back(c);
    } else {
      shown += "\\x";
      shown.push_back(hex[u >> 4]);
      shown.push_back(hex[u & 15]);
    }
  }
  if (text.size() > 80) shown += "...";
  return json_quoted(shown);
}

RequestError malformed(const std::string& message) { return RequestError(400, "malformed request: " + message); }

RequestError too_large(std::size_t limit) {
  return RequestError(413, "request body larger than the limit of " + std::to_string(limit) + " bytes");
}

RequestError head_too_large(std::size_t limit) {
  return RequestError(431, "request head larger than " + std::to_string(limit) + " bytes");
}

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

// `target` (origin-form, absolute-form, or `*` for OPTIONS) into path and query.
void read_target(std::string_view target, HttpRequest& request) {
  if (target.starts_with("http://") || target.starts_with("https://")) {
    // absolute-form (RFC 9112 §3.2.2): the authority is the client's business, the path ours.
    const auto authority = target.find("//") + 2;
    const auto path = target.find_first_of("/?", authority);
    target = path == std::string_view::npos ? std::string_view("/") : target.substr(path);
  }
  if (target == "*" && request.method == "OPTIONS") {
    request.path = "*";
    return;
  }
  if (!target.starts_with('/')) throw malformed("the request target " + quoted(target) + " is not a path");
  for (const char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      throw malformed("the request target " + quoted(target) + " contains a control character");
  target = target.substr(0, target.find('#'));
  const auto question = target.find('?');
  request.path = percent_decode(target.substr(0, question), false);
  if (question == std::string_view::npos) return;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (!pair.empty()) {
      const auto equals = pair.find('=');
      request.query.emplace_back(percent_decode(pair.substr(0, equals), true),
                                 equals == std::string_view::npos ? std::string() : percent_decode(pair.substr(equals + 1), true));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
}

// All values of a header, in order.
std::vector<std::string_view> values_of(const HttpRequest& request, std::string_view lower_name) {
  std::vector<std::string_view> values;
  for (const auto& [name, value] : request.headers)
    if (name == lower_name) values.emplace_back(value);
  return values;
}

}  // namespace

void RequestFramer::feed(std::string_view bytes) {
  // Framed bytes are dropped here, once per read, rather than after every step.
  input_.erase(0, start_);
  start_ = 0;
  input_.append(bytes);
}

void RequestFramer::consume(std::size_t count) {
  start_ += count;
  scanned_ = 0;
}

std::optional<std::size_t> RequestFramer::find_pending(std::string_view terminator) {
  const std::string_view bytes = pending();
  const auto at = bytes.find(terminator, scanned_);
  if (at != std::string_view::npos) return at;
  // The terminator may start in the last bytes and end in the next read.
  scanned_ = bytes.size() >= terminator.size() ? bytes.size() - terminator.size() + 1 : 0;
  return std::nullopt;
}

std::optional<std::string> RequestFramer::take_line(std::size_t limit, const std::function<RequestError()>& too_long) {
  const auto end = find_pending("\r\n");
  if (!end ? pending().size() > limit : *end > limit) throw too_long();
  if (!end) return std::nullopt;
  std::string line(pending().substr(0, *end));
  consume(*end + 2);
  return line;
}

bool RequestFramer::take_body_bytes() {
  const std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, pending().size()));
  current_.request.body.append(pending().substr(0, count));
  consume(count);
  remaining_ -= count;
  return remaining_ == 0;
}

bool RequestFramer::take_continue_wanted() { return std::exchange(continue_wanted_, false); }

std::optional<FramedRequest> RequestFramer::next() {
  for (;;) {
    switch (stage_) {
      case Stage::head: {
        // Empty lines before a request line are ignored (RFC 9112 §2.2).
        while (pending().starts_with("\r\n")) consume(2);
        const auto end = find_pending("\r\n\r\n");
        if (!end ? pending().size() > limits_.max_head : *end + 4 > limits_.max_head)
          throw head_too_large(limits_.max_head);
        if (!end) return std::nullopt;
        const std::string head(pending().substr(0, *end + 2));  // each line with its CRLF
        consume(*end + 4);
        start_request(head);
        if (stage_ == Stage::head) return finish();
        break;
      }
      case Stage::body:
        if (!take_body_bytes()) return std::nullopt;
        return finish();
      case Stage::chunk_size: {
        const auto line = take_line(max_chunk_line, [] {
          return malformed("a chunk-size line is longer than " + std::to_string(max_chunk_line) + " bytes");
        });
        if (!line) return std::nullopt;
        const std::string_view size_text = std::string_view(*line).substr(0, line->find_first_of("; \t"));
        std::uint64_t size = 0;
        const auto [end, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
        if (size_text.empty() || end != size_text.data() + size_text.size())
          throw malformed("the chunk size " + quoted(*line) + " is not a hexadecimal number");
        if (ec == std::errc::result_out_of_range || size > limits_.max_body - current_.request.body.size())
          throw too_large(limits_.max_body);
        remaining_ = size;
        stage_ = size == 0 ? Stage::trailers : Stage::chunk_data;
        break;
      }
      case Stage::chunk_data:
        if (!take_body_bytes()) return std::nullopt;
        stage_ = Stage::chunk_end;
        break;
      case Stage::chunk_end:
        // The CRLF after the data may come in two reads, like any other bytes.
        if (pending().size() < 2) return std::nullopt;
        if (!pending().starts_with("\r\n")) throw malformed("a chunk is longer than its chunk size says");
        consume(2);
        stage_ = Stage::chunk_size;
        break;
      case Stage::trailers: {
        // The trailers count against the head limit, like the header fields they resemble.
        const auto line = take_line(limits_.max_head - std::min(trailer_bytes_, limits_.max_head),
                                    [this] { return head_too_large(limits_.max_head); });
        if (!line) return std::nullopt;
        if (line->empty()) return finish();
        trailer_bytes_ += line->size() + 2;
        break;
      }
    }
  }
}

void RequestFramer::start_request(std::string_view head) {
  HttpRequest& request = current_.request;
  const auto line_end = head.find("\r\n");
  const std::string_view request_line = head.substr(0, line_end);
  head.remove_prefix(line_end + 2);

  // method SP request-target SP HTTP-version, single spaces (RFC 9112 §3).
  const auto first_space = request_line.find(' ');
  const auto second_space = request_line.find(' ', first_space + 1);
  if (first_space == std::string_view::npos || second_space == std::string_view::npos ||
      request_line.find(' ', second_space + 1) != std::string_view::npos)
    throw malformed("the request line " + quoted(request_line) + " is not `METHOD /path HTTP/1.1`");
  const std::string_view method = request_line.substr(0, first_space);
  const std::string_view target = request_line.substr(first_space + 1, second_space - first_space - 1);
  const std::string_view version = request_line.substr(second_space + 1);

  const bool http11 = version == "HTTP/1.1";
  if (!http11 && version != "HTTP/1.0") {
    if (version.starts_with("HTTP/") && version.size() == 8 && version[6] == '.')
      throw RequestError(505, "HTTP version " + quoted(version.substr(5)) + " is not supported (1.0 and 1.1 are)");
    throw malformed("the request line " + quoted(request_line) + " does not end in an HTTP version");
  }
  if (!is_token(method)) throw malformed("the method " + quoted(method) + " is not a token");
  if (std::find(known_methods.begin(), known_methods.end(), method) == known_methods.end())
    throw RequestError(501, "the method " + quoted(method) + " is not implemented");
  request.method = method;
  read_target(target, request);

  while (!head.empty()) {
    const auto end = head.find("\r\n");
    const std::string_view line = head.substr(0, end);
    head.remove_prefix(end + 2);
    if (line.starts_with(' ') || line.starts_with('\t'))
      throw malformed("the header line " + quoted(line) + " continues the previous one (obsolete line folding)");
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) throw malformed("the header line " + quoted(line) + " has no colon");
    const std::string_view name = line.substr(0, colon);
    if (!is_token(name)) throw malformed("the header name " + quoted(name) + " is not a token");
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    for (const char c : value)
      if (c == '\r' || c == '\0')
        throw malformed("the value of header " + quoted(name) + " contains a CR or NUL byte");
    request.headers.emplace_back(lower(name), std::string(value));
  }
  read_framing_headers(http11);
}

void RequestFramer::read_framing_headers(bool http11) {
  const HttpRequest& request = current_.request;
  const auto hosts = values_of(request, "host");
  if (http11 && hosts.empty()) throw malformed("an HTTP/1.1 request must have a Host header");
  if (hosts.size() > 1) throw malformed("more than one Host header");

  const auto connection = values_of(request, "connection");
  const auto connection_says = [&](std::string_view token) {
    return std::any_of(connection.begin(), connection.end(), [&](std::string_view v) { return has_token(v, token); });
  };
  current_.keep_alive = !connection_says("close") && (http11 || connection_says("keep-alive"));
  current_.http11 = http11;

  const auto lengths = values_of(request, "content-length");
  const auto codings = values_of(request, "transfer-encoding");
  if (!codings.empty()) {
    // Two ways to say where the body ends are how requests are smuggled (RFC 9112 §6.3).
    if (!lengths.empty())
      throw malformed("Content-Length and Transfer-Encoding in one request; send one of them");
    if (!http11) throw malformed("Transfer-Encoding in an HTTP/1.0 request");
    std::string joined;
    for (const std::string_view value : codings) joined += (joined.empty() ? "" : ", ") + lower(value);
    if (joined.ends_with(", chunked"))
      throw RequestError(501, "Transfer-Encoding " + quoted(joined) + " is not supported (only chunked is)");
    if (joined != "chunked") throw malformed("the last Transfer-Encoding must be chunked, not " + quoted(joined));
    stage_ = Stage::chunk_size;
  } else if (!lengths.empty()) {
    if (lengths.size() > 1) throw malformed("more than one Content-Length header");
    const std::string_view text = lengths.front();
    if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
      throw malformed("Content-Length " + quoted(text) + " is not a number of bytes");
    std::uint64_t length = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), length);
    if (ec != std::errc() || length > limits_.max_body) throw too_large(limits_.max_body);
    remaining_ = length;
    if (length > 0) stage_ = Stage::body;
  }

  if (stage_ != Stage::head && http11) {
    for (const std::string_view value : values_of(request, "expect"))
      if (has_token(value, "100-continue")) continue_wanted_ = true;
  }
}

FramedRequest RequestFramer::finish() {
  stage_ = Stage::head;
  remaining_ = 0;
  trailer_bytes_ = 0;
  continue_wanted_ = false;
  return std::exchange(current_, FramedRequest{});
}

}  // namespace sluice
