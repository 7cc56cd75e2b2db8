// The live tap, GET /v1/graphs/{g}/tap: Server-Sent Events in a chunked body, read here from a
// raw socket that decodes every chunk (so a framing mistake fails the test), and `sluice tap`.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "test_support.hpp"

using namespace rest_test;
using Clock = std::chrono::steady_clock;

namespace {

struct Event {
  std::string name;
  std::string data;
  sluice::Value json() const { return sluice::json::parse(data); }
};

// One GET on a socket of its own; the response head is read by the constructor, then events
// one by one out of the chunked body.
class SseClient {
 public:
  SseClient(std::uint16_t port, const std::string& target, const Headers& headers = {}) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      throw std::runtime_error("cannot connect");
    const std::string request = format_request("GET", target, {}, headers);
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
      throw std::runtime_error("cannot send");
    const auto deadline = Clock::now() + 10s;
    std::size_t end;
    while ((end = raw_.find("\r\n\r\n")) == std::string::npos) fill(deadline);
    head = raw_.substr(0, end + 2);
    raw_.erase(0, end + 4);
    status = std::stoi(head.substr(9, 3));
    if (head.find("Transfer-Encoding: chunked") == std::string::npos) {
      body = raw_;  // a plain answer (an error): its body follows
      while (head.find("Content-Length: " + std::to_string(body.size()) + "\r\n") == std::string::npos) {
        fill(deadline);
        body = raw_;
      }
    }
  }
  ~SseClient() { ::close(fd_); }

  // The next event, or nullopt when the body ended (the last chunk) before `wait`.
  std::optional<Event> next(std::chrono::milliseconds wait = 10s) {
    const auto deadline = Clock::now() + wait;
    std::size_t end;
    while ((end = body.find("\n\n")) == std::string::npos) {
      if (finished || !read_chunk(deadline)) return std::nullopt;
    }
    Event event;
    std::string_view text(body.data(), end);
    while (!text.empty()) {
      const auto newline = text.find('\n');
      const std::string_view line = text.substr(0, newline);
      if (line.starts_with("event: ")) event.name = line.substr(7);
      else if (line.starts_with("data: ")) event.data = line.substr(6);
      else if (!line.starts_with(':')) FAIL("not an SSE line: " << line);
      if (newline == std::string_view::npos) break;
      text.remove_prefix(newline + 1);
    }
    body.erase(0, end + 2);
    return event;
  }

  // The next event called `name`, skipping others (stats).
  std::optional<Event> next_named(std::string_view name, std::chrono::milliseconds wait = 10s) {
    const auto deadline = Clock::now() + wait;
    while (Clock::now() < deadline) {
      auto event = next(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
      if (!event || event->name == name) return event;
    }
    return std::nullopt;
  }

  // After the stream ended: another GET on the same connection (HTTP/1.1 keeps it after the
  // last chunk), its status.
  int reuse_for(const std::string& target) {
    const std::string request = format_request("GET", target, {}, {});
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
      throw std::runtime_error("cannot send");
    const auto deadline = Clock::now() + 10s;
    while (raw_.find("\r\n\r\n") == std::string::npos) fill(deadline);
    return std::stoi(raw_.substr(9, 3));
  }

  int status = 0;
  std::string head;
  std::string body;       // decoded, not yet consumed
  bool finished = false;  // the last chunk was read

 private:
  // One chunk (size line, data, CRLF) into `body`; false on timeout.
  bool read_chunk(Clock::time_point deadline) {
    try {
      std::size_t line_end;
      while ((line_end = raw_.find("\r\n")) == std::string::npos) fill(deadline);
      std::size_t size = 0;
      const auto [ptr, ec] = std::from_chars(raw_.data(), raw_.data() + line_end, size, 16);
      REQUIRE_MESSAGE((ec == std::errc() && ptr == raw_.data() + line_end), "bad chunk size line: " << raw_.substr(0, line_end));
      while (raw_.size() < line_end + 2 + size + 2) fill(deadline);
      REQUIRE_MESSAGE(raw_.compare(line_end + 2 + size, 2, "\r\n") == 0, "chunk not ended by CRLF");
      body.append(raw_, line_end + 2, size);
      raw_.erase(0, line_end + 2 + size + 2);
      if (size == 0) finished = true;
      return true;
    } catch (const std::runtime_error& e) {
      if (std::string(e.what()) == "timeout") return false;
      throw;
    }
  }

  void fill(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd_, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) throw std::runtime_error("timeout");
    std::array<char, 65536> buffer;
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n <= 0) throw std::runtime_error("closed");
    raw_.append(buffer.data(), static_cast<std::size_t>(n));
  }

  int fd_ = -1;
  std::string raw_;  // received, not yet decoded
};

void post_numbers(std::uint16_t port, const std::string& graph, int from, int count) {
  std::string body;
  for (int i = from; i < from + count; ++i) body += "{\"n\": " + std::to_string(i) + "}\n";
  const auto r = http(port, "POST", "/v1/graphs/" + graph + "/packets?wait=true", body,
                      {{"Content-Type", "application/x-ndjson"}});
  REQUIRE_MESSAGE(r.status == 200, r.body);
}

const std::string echo_tap = "/v1/graphs/echo/tap?node=pass&port=out";

}  // namespace

TEST_CASE("tap: an SSE stream in chunks — open, then each packet leaving the port with fields and meta") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir);
  SseClient tap(server.port(), echo_tap);
  REQUIRE(tap.status == 200);
  CHECK(tap.head.find("Content-Type: text/event-stream\r\n") != std::string::npos);
  CHECK(tap.head.find("Content-Length") == std::string::npos);
  const auto opened = tap.next();
  REQUIRE(opened);
  CHECK(opened->name == "open");
  CHECK(opened->json().get("node")->as_string() == "pass");
  CHECK(opened->json().get("limit")->as_int() == 100);

  post_numbers(server.port(), "echo", 1, 3);
  for (int n = 1; n <= 3; ++n) {
    const auto event = tap.next_named("packet");
    REQUIRE(event);
    const sluice::Value document = event->json();
    CHECK(document.get("seq")->as_int() == n);
    const sluice::Value* packet = document.get("packet");
    CHECK(packet->get("fields")->get("n")->as_int() == n);
    CHECK(packet->get("fields")->get("passed")->as_bool());
    CHECK(packet->get("meta")->get("stream")->is_string());
  }
  const auto stats = tap.next_named("stats", 3s);
  REQUIRE(stats);
  CHECK(stats->json().get("seen")->as_int() == 3);
  CHECK(stats->json().get("sent")->as_int() == 3);
}

TEST_CASE("tap: sample= keeps one packet in N, limit= caps packets per second and counts the rest as dropped") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir);
  {
    SseClient sampled(server.port(), echo_tap + "&sample=3");
    REQUIRE(sampled.next_named("open"));
    post_numbers(server.port(), "echo", 1, 9);
    for (int seq : {3, 6, 9}) {
      const auto event = sampled.next_named("packet");
      REQUIRE(event);
      CHECK(event->json().get("seq")->as_int() == seq);
    }
    const auto stats = sampled.next_named("stats", 3s);
    REQUIRE(stats);
    CHECK(stats->json().get("sampled_out")->as_int() == 6);
  }
  SseClient limited(server.port(), echo_tap + "&limit=5");
  REQUIRE(limited.next_named("open"));
  const auto started = Clock::now();
  post_numbers(server.port(), "echo", 1, 500);
  int packets = 0;
  std::optional<Event> stats;
  while (!stats) {
    auto event = limited.next();
    REQUIRE(event);
    if (event->name == "packet") ++packets;
    if (event->name == "stats" && event->json().get("seen")->as_int() == 500) stats = event;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  // A burst of one second's worth, then 5 per second.
  CHECK(packets >= 5);
  CHECK(packets <= 5 + static_cast<int>(5 * seconds) + 1);
  CHECK(stats->json().get("dropped")->get("rate")->as_int() == 500 - packets);
}

TEST_CASE("tap: a bad query is 400, an unknown graph, node or port is 404 naming what there is") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir);
  const auto port = server.port();
  CHECK(http(port, "GET", "/v1/graphs/echo/tap?port=out").status == 400);
  CHECK(http(port, "GET", echo_tap + "&limit=0").status == 400);
  CHECK(http(port, "GET", echo_tap + "&sample=many").status == 400);
  CHECK(http(port, "GET", echo_tap + "&every=2").status == 400);
  CHECK(http(port, "GET", "/v1/graphs/nope/tap?node=pass&port=out").status == 404);
  CHECK(http(port, "GET", "/v1/graphs/echo/tap?node=nope&port=out").status == 404);
  const auto port_error = http(port, "GET", "/v1/graphs/echo/tap?node=pass&port=nope");
  CHECK(port_error.status == 404);
  CHECK(port_error.body.find("it has 'out', 'error'") != std::string::npos);
  // The `error` port exists on every node.
  SseClient errors(port, "/v1/graphs/echo/tap?node=pass&port=error");
  CHECK(errors.status == 200);
}

TEST_CASE("tap: with --token-file it needs the admin token") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  write_file(dir.path / "token", "s3cret\n");
  ServerProcess server(dir, {"--token-file", (dir.path / "token").string()});
  CHECK(http(server.port(), "GET", echo_tap).status == 401);
  SseClient tap(server.port(), echo_tap, {{"Authorization", "Bearer s3cret"}});
  CHECK(tap.status == 200);
  CHECK(tap.next_named("open"));
}

TEST_CASE("tap: a redeploy and an undeploy end the stream with the reason and the last chunk") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir);
  {
    SseClient tap(server.port(), echo_tap);
    REQUIRE(tap.next_named("open"));
    const auto put = http(server.port(), "PUT", "/v1/graphs/echo", echo_graph, {{"Content-Type", "application/yaml"}});
    REQUIRE(put.status == 200);
    const auto end = tap.next_named("end");
    REQUIRE(end);
    CHECK(end->json().get("reason")->as_string() == "redeployed");
    CHECK(!tap.next(5s));
    CHECK(tap.finished);
    CHECK(tap.reuse_for("/healthz") == 200);
  }
  SseClient tap(server.port(), echo_tap);
  REQUIRE(tap.next_named("open"));
  REQUIRE(http(server.port(), "DELETE", "/v1/graphs/echo").status == 204);
  const auto end = tap.next_named("end");
  REQUIRE(end);
  CHECK(end->json().get("reason")->as_string() == "undeployed");
}

TEST_CASE("tap: SIGTERM with a tap open still exits promptly, and the tap hears why") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir);
  SseClient tap(server.port(), echo_tap);
  REQUIRE(tap.next_named("open"));
  const auto signalled = Clock::now();
  CHECK(server.stop(SIGTERM, 5s) == 0);
  CHECK(Clock::now() - signalled < 3s);
  const auto end = tap.next_named("end", 2s);
  REQUIRE(end);
  CHECK(end->json().get("reason")->as_string() == "shutting down");
}

TEST_CASE("tap: a client that goes away frees its tap; the graph under load with a tap open is not held up") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir);
  const auto port = server.port();
  // More taps than the server keeps open (32), each dropped at once: each frees its place
  // once the server notices (its pump runs every 100 ms), or the later ones get 503.
  for (int i = 0; i < 40; ++i) {
    const auto deadline = Clock::now() + 5s;
    int status = 0;
    while (Clock::now() < deadline && (status = SseClient(port, echo_tap).status) != 200)
      std::this_thread::sleep_for(20ms);
    REQUIRE_MESSAGE(status == 200, "tap " << i);
  }

  // A tap whose client reads nothing while 20 000 packets pass: the graph does not wait for it
  // (each ?wait=true POST completes), the tap drops what the client cannot take and counts it.
  // tools/bench/bench_tap measures what a tap costs the runtime.
  SseClient tap(port, echo_tap + "&limit=10000");
  REQUIRE(tap.next_named("open"));
  for (int batch = 0; batch < 20; ++batch) post_numbers(port, "echo", batch * 1000, 1000);
  std::optional<Event> stats;
  while (!stats) {
    auto event = tap.next_named("stats");
    REQUIRE(event);
    if (event->json().get("seen")->as_int() == 20000) stats = event;
  }
  // json() parses anew each call: `dropped` points into this document, which must outlive it.
  const sluice::Value document = stats->json();
  const sluice::Value* dropped = document.get("dropped");
  MESSAGE("tap stats: " << stats->data);
  CHECK(document.get("sent")->as_int() + dropped->get("rate")->as_int() + dropped->get("buffer")->as_int() +
            dropped->get("slow_client")->as_int() ==
        20000);
}

TEST_CASE("sluice tap prints the packets as NDJSON") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir);
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  const std::string command = "timeout 20 " + std::string(SLUICE_EXE) + " tap " + url + " echo pass.out --count 2 2>" +
                              (dir.path / "tap.err").string();
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe);
  // When the command's tap is attached is not visible from here: post until it has printed two.
  std::string out;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    std::array<char, 4096> buffer;
    std::size_t n;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
    done = true;
  });
  const auto deadline = Clock::now() + 10s;
  int n = 0;
  while (Clock::now() < deadline && !done) {
    post_numbers(server.port(), "echo", ++n, 1);
    std::this_thread::sleep_for(100ms);
  }
  reader.join();
  CHECK(::pclose(pipe) == 0);
  std::size_t lines = 0;
  for (std::size_t start = 0, end; (end = out.find('\n', start)) != std::string::npos; start = end + 1, ++lines) {
    const sluice::Value document = sluice::json::parse(out.substr(start, end - start));
    CHECK(document.get("packet")->get("fields")->get("passed")->as_bool());
  }
  CHECK(lines == 2);
}
