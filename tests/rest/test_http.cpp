// HTTP/1.1 behaviour of the ingress: persistent connections, HEAD, Expect: 100-continue,
// limits and JSON errors from every layer.
#include <chrono>

#include "test_support.hpp"

using namespace rest_test;

TEST_CASE("health, readiness, and JSON errors for unknown routes and methods") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir);

  const auto health = http(server.port(), "GET", "/healthz");
  CHECK(health.status == 200);
  CHECK(health.json().get("status")->as_string() == "ok");

  const auto ready = http(server.port(), "GET", "/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.json().get("ready")->as_bool());

  const auto missing = http(server.port(), "GET", "/v1/nothing");
  CHECK(missing.status == 404);
  CHECK(missing.header("content-type") == "application/json");
  CHECK(missing.json().get("error")->as_string() == "no such route");

  // Neither a route nor a file of the editor: a JSON 404 as well.
  const auto no_file = http(server.port(), "GET", "/no-such-file.js");
  CHECK(no_file.status == 404);
  CHECK(no_file.json().get("error")->as_string() == "no such route");

  const auto not_allowed = http(server.port(), "DELETE", "/healthz");
  CHECK(not_allowed.status == 405);
  CHECK(not_allowed.header("allow") == "GET, HEAD");
  // The body names the methods the header does.
  CHECK(*not_allowed.json().get("allow") == sluice::Value(sluice::Array{"GET", "HEAD"}));
  CHECK(not_allowed.json().get("error")->as_string().find("not allowed") != std::string::npos);

  const auto graph_methods = http(server.port(), "POST", "/v1/graphs/echo", "{}", json_type);
  CHECK(graph_methods.status == 405);
  CHECK(graph_methods.header("allow") == "GET, HEAD, PUT, DELETE");

  const auto no_graph = http(server.port(), "POST", "/v1/graphs/nope/packets", "{}", json_type);
  CHECK(no_graph.status == 404);
  CHECK(no_graph.json().get("graph")->as_string() == "nope");

  CHECK(server.stop() == 0);
}

TEST_CASE("HTTP/1.1 connections persist without a Connection header, and close when asked") {
  TempDir dir;
  ServerProcess server(dir);

  HttpConnection connection(server.port());
  const auto first = connection.request("GET", "/healthz");
  CHECK(first.status == 200);
  CHECK(first.header("connection") == "keep-alive");
  CHECK_FALSE(connection.closed_by_server(std::chrono::milliseconds(200)));
  const auto second = connection.request("GET", "/readyz");
  CHECK(second.status == 200);

  HttpConnection closing(server.port());
  const auto last = closing.request("GET", "/healthz", {}, {{"Connection", "close"}});
  CHECK(last.status == 200);
  CHECK(last.header("connection") == "close");
  CHECK(closing.closed_by_server(std::chrono::seconds(5)));

  // HTTP/1.0 without keep-alive: one request per connection.
  HttpConnection old(server.port());
  old.send_raw("GET /healthz HTTP/1.0\r\n\r\n");
  CHECK(old.read_response().header("connection") == "close");
  CHECK(old.closed_by_server(std::chrono::seconds(5)));

  CHECK(server.stop() == 0);
}

TEST_CASE("HEAD answers GET's headers and Content-Length without the body") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir);

  HttpConnection connection(server.port());
  const auto get = connection.request("GET", "/v1/graphs/echo");
  REQUIRE(get.status == 200);
  const auto head = connection.request("HEAD", "/v1/graphs/echo");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(head.header("content-length") == std::to_string(get.body.size()));
  // Had the body been sent, this response would be read from its bytes.
  CHECK(connection.request("GET", "/healthz").status == 200);

  CHECK(server.stop() == 0);
}

TEST_CASE("Expect: 100-continue gets 100 Continue at once, or 413 before the body is sent") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir, {"--max-body", "100000"});

  std::string body;
  for (int i = 0; i < 1000; ++i) body += R"({"n": )" + std::to_string(i) + "}\n";
  HttpConnection connection(server.port());
  const auto start = std::chrono::steady_clock::now();
  connection.send_raw("POST /v1/graphs/echo/packets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n"
                      "Expect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
  const auto interim = connection.read_response(false, std::chrono::seconds(5));
  CHECK(interim.status == 100);
  // curl waits 1 s for it before sending the body anyway; the answer must come well before.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
  connection.send_raw(body);
  const auto accepted = connection.read_response();
  CHECK(accepted.status == 202);
  CHECK(accepted.json().get("accepted")->as_int() == 1000);

  HttpConnection too_big(server.port());
  too_big.send_raw("POST /v1/graphs/echo/packets HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                   "Content-Length: 1000000000\r\n\r\n");
  const auto refused = too_big.read_response();
  CHECK(refused.status == 413);
  CHECK(refused.json().get("error")->as_string().find("100000") != std::string::npos);
  CHECK(too_big.closed_by_server(std::chrono::seconds(5)));

  CHECK(server.stop() == 0);
}

TEST_CASE("bodies above --max-body and malformed requests get JSON errors") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir, {"--max-body", "1000"});

  const auto large = http(server.port(), "POST", "/v1/graphs/echo/packets", std::string(2000, 'x'),
                          {{"Content-Type", "text/plain"}});
  CHECK(large.status == 413);
  CHECK(large.header("content-type") == "application/json");

  // Small on the wire, large inflated: the limit applies to what it inflates to.
  const auto bomb = http(server.port(), "POST", "/v1/graphs/echo/packets", gzip(std::string(100000, ' ')),
                         {{"Content-Type", "text/plain"}, {"Content-Encoding", "gzip"}});
  CHECK(bomb.status == 413);

  HttpConnection garbage(server.port());
  garbage.send_raw("GET /pot HTTP/1.1\r\nHost x\r\n\r\n");
  const auto bad = garbage.read_response();
  CHECK(bad.status == 400);
  CHECK(bad.json().get("error")->as_string().find("malformed request") == 0);

  CHECK(server.stop() == 0);
}
