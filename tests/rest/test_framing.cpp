// HTTP/1.1 request framing on the connection's byte stream: requests split anywhere across
// reads, pipelined requests, half-close, Content-Length and chunked bodies done wrong, and
// uploads that never finish.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>
#include <thread>

#include "test_support.hpp"

using namespace rest_test;

namespace {

std::string chunk(std::string_view data, std::string_view extension = {}) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string size;
  for (std::size_t n = data.size(); n > 0 || size.empty(); n /= 16) size.insert(size.begin(), hex[n % 16]);
  return size + std::string(extension) + "\r\n" + std::string(data) + "\r\n";
}

const std::string chunked_post_head =
    "POST /v1/graphs/echo/packets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";

// Texts of the implementation that must never reach a client.
void check_no_internal_text(const std::string& body) {
  for (const char* internal : {"basic_string", "_M_", "stoull", "stoul", "std::", "Pistache"})
    CHECK_MESSAGE(body.find(internal) == std::string::npos, "internal text in: " << body);
}

// The `error` member of a JSON answer, or "" without one.
std::string error_of(const HttpResult& r) {
  const sluice::Value document = r.json();
  const sluice::Value* error = document.is_object() ? document.get("error") : nullptr;
  return error && error->is_string() ? error->as_string() : "";
}

// The `accepted` count of a 202, or -1.
std::int64_t accepted(const HttpResult& r) {
  if (r.status != 202) return -1;
  return r.json().get("accepted")->as_int();
}

// Each test case talks to a server of its own, serving the echo graph.
struct EchoServer {
  EchoServer() : server(with_echo_graph(dir)) {}
  static const TempDir& with_echo_graph(const TempDir& dir) {
    write_file(dir.path / "graphs/echo.yaml", echo_graph);
    return dir;
  }
  TempDir dir;
  ServerProcess server;
};

}  // namespace

TEST_CASE_FIXTURE(EchoServer, "a request split into two writes at any byte is answered the same") {
  struct Sample {
    std::string name;
    std::string bytes;
    std::function<void(const HttpResult&)> check;
  };
  const std::string ndjson = "{\"n\": 1}\n{\"n\": 2}\n";
  const std::vector<Sample> samples = {
      {"GET", "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
       [](const HttpResult& r) {
         REQUIRE(r.status == 200);
         CHECK(r.json().get("status")->as_string() == "ok");
       }},
      {"Content-Length", format_request("POST", "/v1/graphs/echo/packets", ndjson, {{"Content-Type", "application/x-ndjson"}}),
       [](const HttpResult& r) { REQUIRE(accepted(r) == 2); }},
      // Chunks cut inside a line, an extension, a trailer: every stage of the chunked decoder
      // meets a read boundary, the CRLF after a chunk's data too (the split that once looped).
      {"chunked", chunked_post_head + chunk(ndjson.substr(0, 5)) + chunk(ndjson.substr(5), ";name=value") +
                      "0\r\nX-Checksum: none\r\n\r\n",
       [](const HttpResult& r) { REQUIRE(accepted(r) == 2); }},
  };

  HttpConnection connection(server.port());
  for (const auto& sample : samples) {
    for (std::size_t at = 1; at < sample.bytes.size(); ++at) {
      CAPTURE(sample.name);
      CAPTURE(at);
      connection.send_raw(std::string_view(sample.bytes).substr(0, at));
      // Not a wait for a condition: a pause so that the two parts reach the server in two reads.
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      connection.send_raw(std::string_view(sample.bytes).substr(at));
      sample.check(connection.read_response(false, std::chrono::seconds(5)));
    }
  }
  CHECK(server.stop() == 0);
}

TEST_CASE_FIXTURE(EchoServer, "100 pipelined requests on one connection are all answered, in order") {
  // Waiting posts (answered from the workers, later) between immediate answers: the order of
  // the answers is the order of the requests, not of their completion.
  std::string requests;
  for (int i = 0; i < 100; ++i) {
    if (i % 2 == 0)
      requests += format_request("POST", "/v1/graphs/echo/packets?wait=true", "{\"i\": " + std::to_string(i) + "}", json_type);
    else
      requests += format_request("GET", "/v1/graphs/nope-" + std::to_string(i), "", {});
  }
  HttpConnection connection(server.port());
  connection.send_raw(requests);
  for (int i = 0; i < 100; ++i) {
    CAPTURE(i);
    const auto r = connection.read_response(false, std::chrono::seconds(10));
    if (i % 2 == 0) {
      REQUIRE(r.status == 200);
      CHECK(r.json().get("results")->as_array().at(0).get("i")->as_int() == i);
    } else {
      REQUIRE(r.status == 404);
      CHECK(r.json().get("graph")->as_string() == "nope-" + std::to_string(i));
    }
  }
  CHECK(connection.request("GET", "/healthz").status == 200);
  CHECK(server.stop() == 0);
}

TEST_CASE_FIXTURE(EchoServer, "requests followed by FIN (half-close) are answered, then the server closes") {
  HttpConnection connection(server.port());
  connection.send_raw(format_request("POST", "/v1/graphs/echo/packets?wait=true", R"({"k": 1})", json_type) +
                      format_request("GET", "/healthz", "", {}));
  connection.shutdown_sending();
  const auto waited = connection.read_response();
  REQUIRE(waited.status == 200);
  CHECK(waited.json().get("results")->as_array().at(0).get("k")->as_int() == 1);
  CHECK(connection.read_response().status == 200);
  CHECK(connection.closed_by_server(std::chrono::seconds(5)));

  // FIN in the middle of a body: the request cannot be complete, and the client hears why.
  HttpConnection cut(server.port());
  cut.send_raw("POST /v1/graphs/echo/packets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"a\"");
  cut.shutdown_sending();
  const auto refused = cut.read_response();
  CHECK(refused.status == 400);
  CHECK(error_of(refused).find("in the middle of a request") != std::string::npos);
  CHECK(server.stop() == 0);
}

TEST_CASE_FIXTURE(EchoServer, "Content-Length and chunk sizes that do not say one length are refused, naming the problem") {
  struct Bad {
    std::string framing;  // header lines, each with its CRLF
    std::string body;
    int status;
    std::string says;
  };
  const std::string body = R"({"a":1})";  // 7 bytes
  const std::vector<Bad> cases = {
      {"Content-Length: +7\r\n", body, 400, R"(Content-Length "+7" is not a number of bytes)"},
      {"Content-Length: 7, 7\r\n", body, 400, R"(Content-Length "7, 7" is not a number of bytes)"},
      {"Content-Length: -7\r\n", body, 400, R"(Content-Length "-7" is not a number of bytes)"},
      {"Content-Length: 0x7\r\n", body, 400, R"(Content-Length "0x7" is not a number of bytes)"},
      {"Content-Length: 7\r\nContent-Length: 7\r\n", body, 400, "more than one Content-Length header"},
      {"Content-Length: 7\r\nTransfer-Encoding: chunked\r\n", chunk(body) + "0\r\n\r\n", 400,
       "Content-Length and Transfer-Encoding in one request"},
      {"Content-Length: 99999999999999999999999\r\n", body, 413, "larger than the limit of 67108864 bytes"},
      {"Transfer-Encoding: chunked\r\n", "zz\r\n" + body + "\r\n0\r\n\r\n", 400, R"(the chunk size "zz" is not a hexadecimal number)"},
      {"Transfer-Encoding: chunked\r\n", "fffffffffffffffffffff\r\n", 413, "larger than the limit of 67108864 bytes"},
      {"Transfer-Encoding: chunked\r\n", "3\r\n" + body + "\r\n0\r\n\r\n", 400, "a chunk is longer than its chunk size says"},
      {"Transfer-Encoding: gzip, chunked\r\n", chunk(body) + "0\r\n\r\n", 501, R"(Transfer-Encoding "gzip, chunked" is not supported)"},
  };
  for (const auto& bad : cases) {
    CAPTURE(bad.framing);
    HttpConnection connection(server.port());
    connection.send_raw("POST /v1/graphs/echo/packets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
                        bad.framing + "\r\n" + bad.body);
    const auto r = connection.read_response();
    CHECK(r.status == bad.status);
    CHECK(r.header("content-type") == "application/json");
    const std::string error = error_of(r);
    CHECK_MESSAGE(error.find(bad.says) != std::string::npos, error);
    check_no_internal_text(r.body);
    // What follows such a request cannot be framed: the connection ends with the answer.
    CHECK(connection.closed_by_server(std::chrono::seconds(5)));
  }

  // A malformed line, an unknown method, a foreign version: errors in HTTP's terms, too.
  for (const auto& [request, status] : std::vector<std::pair<std::string, int>>{
           {"GET /healthz HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n", 400},
           {"GET /healthz HTTP/1.1\r\n\r\n", 400},
           {"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", 501},
           {"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505},
           {"GET healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400}}) {
    CAPTURE(request);
    HttpConnection connection(server.port());
    connection.send_raw(request);
    const auto r = connection.read_response();
    CHECK(r.status == status);
    check_no_internal_text(r.body);
  }
  CHECK(server.stop() == 0);
}

TEST_CASE_FIXTURE(EchoServer, "a 60 MB chunked upload from curl -T - is answered") {
  std::string data;
  data.reserve(60'000'000);
  for (int line = 0; data.size() < 60'000'000; ++line) data += "line " + std::to_string(line) + " of a large upload\n";
  write_file(dir.path / "upload.bin", data);
  // -T - reads stdin: curl does not know the length and sends it chunked, with Expect.
  const std::string command = "curl -sS -m 120 -o '" + (dir.path / "answer.json").string() + "' -w '%{http_code}' -T - -X POST " +
                              "-H 'Content-Type: application/octet-stream' 'http://127.0.0.1:" + std::to_string(server.port()) +
                              "/v1/graphs/echo/packets' < '" + (dir.path / "upload.bin").string() + "' > '" +
                              (dir.path / "status.txt").string() + "'";
  REQUIRE(std::system(command.c_str()) == 0);
  CHECK(read_file(dir.path / "status.txt") == "202");
  CHECK(sluice::json::parse(read_file(dir.path / "answer.json")).get("accepted")->as_int() == 1);
  CHECK(server.stop() == 0);
}

TEST_CASE_FIXTURE(EchoServer, "chunked uploads that never finish hold no thread: others are served and SIGTERM exits") {
  // Two stop after the CRLF that ends a chunk's data, sent as CR and LF in two writes (the
  // split that once sent an I/O thread into an endless loop), one stops inside a chunk.
  HttpConnection first(server.port()), second(server.port()), inside(server.port());
  for (HttpConnection* stuck : {&first, &second}) stuck->send_raw(chunked_post_head + "8\r\n{\"n\": 1}\r");
  // Not a wait for a condition: a pause so that the LF comes in a read of its own.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (HttpConnection* stuck : {&first, &second}) stuck->send_raw("\n");
  inside.send_raw(chunked_post_head + "100\r\n{\"n\": ");

  for (int i = 0; i < 20; ++i) {
    const auto r = http(server.port(), "GET", "/healthz", {}, {}, std::chrono::seconds(2));
    REQUIRE(r.status == 200);
  }
  const auto stopping = std::chrono::steady_clock::now();
  CHECK(server.stop(SIGTERM, std::chrono::seconds(5)) == 0);
  CHECK(std::chrono::steady_clock::now() - stopping < std::chrono::seconds(3));
}

namespace {

std::size_t open_descriptors(pid_t pid) {
  const auto entries = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd");
  return static_cast<std::size_t>(std::distance(std::filesystem::begin(entries), std::filesystem::end(entries)));
}

// CPU time the process has used (user + system), from /proc/PID/stat.
std::chrono::milliseconds cpu_time(pid_t pid) {
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));  // after "pid (comm) "
  std::string field;
  long long ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i)
    if (i >= 14) ticks += std::stoll(field);  // fields 14 and 15: utime, stime
  return std::chrono::milliseconds(ticks * 1000 / ::sysconf(_SC_CLK_TCK));
}

}  // namespace

TEST_CASE_FIXTURE(EchoServer, "at the file descriptor limit idle connections give way and accepting does not spin") {
  // systemd's default limit, lowered while the server runs (it raised its own at start).
  const std::size_t limit = 1024;
  const rlimit low{limit, limit};
  REQUIRE(::prlimit(server.pid(), RLIMIT_NOFILE, &low, nullptr) == 0);
  rlimit own{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &own) == 0);
  REQUIRE(own.rlim_cur > 1200);

  // Idle connections, more than the limit allows: the server must neither run out of
  // descriptors and spin on the ready listener, nor stop serving.
  std::vector<std::unique_ptr<HttpConnection>> idle;
  for (int i = 0; i < 1100; ++i) idle.push_back(std::make_unique<HttpConnection>(server.port()));
  const auto cpu_before = cpu_time(server.pid());
  const auto wall_before = std::chrono::steady_clock::now();
  // Not a wait for a condition: the CPU time the server takes over one second is the measure.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const auto cpu_used = cpu_time(server.pid()) - cpu_before;
  const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - wall_before);
  MESSAGE("CPU with " << idle.size() << " idle connections at a limit of " << limit << " descriptors: "
                      << cpu_used.count() << " ms in " << wall.count() << " ms; "
                      << open_descriptors(server.pid()) << " descriptors open");
  CHECK(cpu_used < wall / 4);
  // Nor does it stay at the limit: a few descriptors are kept free for its own files (the
  // log's next segment, a sink's file). At the limit, UBSan's own check of a vptr (it opens a
  // pipe) failed, and in a real server a rotation of the log would.
  std::size_t open = 0;
  CHECK_MESSAGE(wait_until([&] { return (open = open_descriptors(server.pid())) + 4 <= limit; }, std::chrono::seconds(5)),
                open << " descriptors open");

  // New clients are served: the connections that waited longest for a request give way.
  for (int i = 0; i < 20; ++i) {
    CAPTURE(i);
    int status = 0;
    try {
      status = http(server.port(), "GET", "/healthz", {}, {}, std::chrono::seconds(5)).status;
    } catch (const std::exception& e) {
      FAIL_CHECK(e.what() << "; the server wrote: " << server.stderr_text());
    }
    REQUIRE(status == 200);
  }
  CHECK(server.stop() == 0);
}

TEST_CASE("at --max-connections an idle connection gives way to a new one; 503 when none is idle") {
  TempDir dir;
  ServerProcess server(dir, {"--max-connections", "3"});
  // Three connections in the middle of a request: none of them may be dropped.
  std::vector<std::unique_ptr<HttpConnection>> busy;
  for (int i = 0; i < 3; ++i) {
    busy.push_back(std::make_unique<HttpConnection>(server.port()));
    busy.back()->send_raw("GET /healthz HTTP/1.1\r\n");
  }
  // A new connection is refused once the server has read those heads (until then the three
  // may still look idle, and a new one is let in in place of one: so it asks again).
  HttpResult refused;
  CHECK(wait_until([&] {
    HttpConnection probe(server.port());
    refused = probe.request("GET", "/healthz");
    return refused.status == 503 && probe.closed_by_server(std::chrono::seconds(5));
  }, std::chrono::seconds(10)));
  CHECK(error_of(refused).find("limit of 3 connections") != std::string::npos);

  // One finishes its request and waits for the next: it is the one that gives way.
  busy.front()->send_raw("Host: 127.0.0.1\r\n\r\n");
  REQUIRE(busy.front()->read_response().status == 200);
  HttpConnection fifth(server.port());
  CHECK(fifth.request("GET", "/healthz").status == 200);
  CHECK(busy.front()->closed_by_server(std::chrono::seconds(5)));
  for (std::size_t i = 1; i < busy.size(); ++i) {
    busy[i]->send_raw("Host: 127.0.0.1\r\n\r\n");
    CHECK(busy[i]->read_response().status == 200);
  }
  CHECK(server.stop() == 0);
}

TEST_CASE_FIXTURE(EchoServer, "a 63 KiB gzip body of 22 M tiny lines is refused at once with 413, not parsed") {
  std::string lines;
  lines.reserve(66'000'000);
  for (int i = 0; i < 22'000'000; ++i) lines += "{}\n";
  const std::string body = gzip(lines);
  lines = std::string();
  const auto start = std::chrono::steady_clock::now();
  const auto r = http(server.port(), "POST", "/v1/graphs/echo/packets", body,
                      {{"Content-Type", "application/x-ndjson"}, {"Content-Encoding", "gzip"}}, std::chrono::seconds(60));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  const std::size_t peak = process_memory_bytes(server.pid(), "VmHWM");
  MESSAGE(body.size() << " bytes of gzip: answered in " << took.count() << " ms, server peak RSS " << (peak >> 20) << " MiB");
  CHECK(r.status == 413);
  CHECK(error_of(r).find("more than 65536 packets") != std::string::npos);
  CHECK(took < std::chrono::seconds(3));
  CHECK(peak < (std::size_t{400} << 20));
  CHECK(server.stop() == 0);
}

TEST_CASE_FIXTURE(EchoServer, "a large body being parsed does not hold up the other connections of its I/O thread") {
  ServerProcess one_thread(dir, {"--http-threads", "1", "--durability", "none"});
  // 60 000 packets of about 1 KB in one JSON array: parsing it takes a while.
  const std::string filler(1000, 'x');
  std::string array = "[";
  for (int i = 0; i < 60'000; ++i) array += (i ? ", {\"i\": " : "{\"i\": ") + std::to_string(i) + ", \"f\": \"" + filler + "\"}";
  array += "]";
  HttpConnection large(one_thread.port()), small(one_thread.port());
  REQUIRE(small.request("GET", "/healthz").status == 200);
  large.send_raw(format_request("POST", "/v1/graphs/echo/packets", array, json_type));
  const auto sent = std::chrono::steady_clock::now();
  REQUIRE(small.request("GET", "/healthz").status == 200);
  const auto healthz = std::chrono::steady_clock::now() - sent;
  const auto r = large.read_response(false, std::chrono::seconds(60));
  const auto post = std::chrono::steady_clock::now() - sent;
  MESSAGE("60 MB JSON POST answered " << std::chrono::duration_cast<std::chrono::milliseconds>(post).count()
                                      << " ms after it was sent; /healthz meanwhile in "
                                      << std::chrono::duration_cast<std::chrono::milliseconds>(healthz).count() << " ms");
  CHECK(accepted(r) == 60'000);
  CHECK(healthz * 4 < post);
  CHECK(one_thread.stop() == 0);
}

TEST_CASE("--header-timeout and --idle-timeout: slow heads and silent bodies are 408, idle connections close") {
  TempDir dir;
  ServerProcess server(dir, {"--header-timeout", "300ms", "--idle-timeout", "500ms"});

  // The head deadline runs from the head's first byte; more bytes do not extend it.
  HttpConnection slow_head(server.port());
  slow_head.send_raw("GET /healthz HTTP/1.1\r\n");
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) slow_head.send_raw("X-Slow: " + std::to_string(i) + "\r\n");
  const auto late = slow_head.read_response(false, std::chrono::seconds(5));
  CHECK(late.status == 408);
  CHECK(error_of(late) == "the request head did not arrive within 300 ms");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
  CHECK(slow_head.closed_by_server(std::chrono::seconds(5)));

  HttpConnection silent_body(server.port());
  silent_body.send_raw("POST /v1/graphs/x/packets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"a\": 1");
  const auto stalled = silent_body.read_response(false, std::chrono::seconds(5));
  CHECK(stalled.status == 408);
  CHECK(error_of(stalled) == "no byte of the request body arrived for 500 ms");

  HttpConnection idle(server.port());
  CHECK(idle.request("GET", "/healthz").status == 200);
  CHECK(idle.closed_by_server(std::chrono::seconds(5)));
  CHECK(server.stop() == 0);
}
