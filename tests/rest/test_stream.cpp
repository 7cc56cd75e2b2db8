// Responder::stream on a real HttpServer (loopback, port 0), read by a raw-socket client: the
// pieces arrive as chunks (to HTTP/1.0 as they are), a request pipelined behind a stream waits
// for its end, the buffer bound, and the ends of a stream (close, the client leaving, the
// server stopping).
#include <doctest/doctest.h>

#include <mutex>
#include <optional>

#include "http_client.hpp"
#include "ingress/http_server.hpp"
#include "scratch.hpp"

using namespace sluice;
using namespace rest_test;

namespace {

// GET /events starts a stream (the test writes to it); any other path is answered at once.
struct StreamServer {
  StreamServer() { server.start(); }

  // The stream of the latest GET /events, once the handler has started it.
  ResponseStream take_stream() {
    std::optional<ResponseStream> taken;
    REQUIRE(wait_until([&] {
      std::lock_guard lock(mutex);
      taken.swap(started);
      return taken.has_value();
    }, std::chrono::seconds(5)));
    return std::move(*taken);
  }

  std::mutex mutex;
  std::optional<ResponseStream> started;
  HttpServer server{{.host = "127.0.0.1", .port = 0}, [this](HttpRequest&& request, Responder&& responder) {
                      if (request.path != "/events") {
                        responder.send(HttpResponse::json(200, R"({"path": ")" + request.path + "\"}"));
                        return;
                      }
                      ResponseStream stream = responder.stream(200, {{"Content-Type", "text/event-stream"}}, 4096);
                      std::lock_guard lock(mutex);
                      started.emplace(std::move(stream));
                    }};
};

const std::string events_request = "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

}  // namespace

TEST_CASE_FIXTURE(StreamServer, "a stream's pieces arrive as chunks, and a request pipelined behind it waits for its end") {
  HttpConnection client(server.port());
  client.send_raw(events_request + "GET /after HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  const HttpResult head = client.read_response();
  CHECK(head.status == 200);
  CHECK(head.header("transfer-encoding") == "chunked");
  CHECK(head.header("content-type") == "text/event-stream");
  CHECK(!head.header("content-length"));

  ResponseStream stream = take_stream();
  for (const std::string frame : {"data: 1\n\n", "data: 2\n\n"}) {
    CHECK(stream.write(frame));
    CHECK(client.read_chunk() == frame);
  }
  stream.close();
  CHECK(!stream.open());
  CHECK(!stream.write("data: 3\n\n"));
  // The last chunk, then (not before: the bytes would not parse as chunks) the next answer.
  CHECK(client.read_chunk().empty());
  const HttpResult after = client.read_response();
  CHECK(after.status == 200);
  CHECK(after.body == R"({"path": "/after"})");
}

TEST_CASE_FIXTURE(StreamServer, "write() refuses what passes max_buffered; a stream ends when its client leaves or the server stops") {
  std::optional<HttpConnection> leaving(server.port());
  leaving->send_raw(events_request);
  REQUIRE(leaving->read_response().status == 200);
  ResponseStream left = take_stream();
  CHECK(!left.write(std::string(5000, 'x')));  // more than the 4096 bytes it may hold unsent
  CHECK(left.write(std::string(1000, 'x')));
  leaving.reset();
  CHECK(wait_until([&] { return !left.open(); }, std::chrono::seconds(5)));
  CHECK(!left.write("data: gone\n\n"));

  HttpConnection staying(server.port());
  staying.send_raw(events_request);
  REQUIRE(staying.read_response().status == 200);
  ResponseStream open = take_stream();
  CHECK(open.open());
  server.stop();
  CHECK(!open.open());
  CHECK(!open.write("data: stopped\n\n"));
  CHECK(staying.closed_by_server(std::chrono::seconds(5)));
}

TEST_CASE_FIXTURE(StreamServer, "to an HTTP/1.0 client a stream is its bytes as they are, ended by the end of the connection") {
  HttpConnection client(server.port());
  client.send_raw("GET /events HTTP/1.0\r\n\r\n");
  const HttpResult head = client.read_response();
  CHECK(head.status == 200);
  CHECK(!head.header("transfer-encoding"));  // HTTP/1.0 knows no chunks
  CHECK(head.header("connection") == "close");

  ResponseStream stream = take_stream();
  CHECK(stream.write("data: 1\n\n"));
  CHECK(client.read_bytes(9) == "data: 1\n\n");
  CHECK(stream.write("data: 2\n\n"));
  stream.close();
  CHECK(client.read_bytes(9) == "data: 2\n\n");
  CHECK(client.closed_by_server(std::chrono::seconds(5)));
}
