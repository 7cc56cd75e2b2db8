// POST /v1/graphs/{g}/packets: every body kind, packet metadata, async and waiting callers.
#include <fstream>
#include <set>

#include "test_support.hpp"

using namespace rest_test;

TEST_CASE("packets: JSON object, JSON array, NDJSON, JSON text sequences, raw bytes and gzip, with their metadata") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir);
  const std::string target = "/v1/graphs/echo/packets?wait=true";

  SUBCASE("one JSON object") {
    const auto r = http(server.port(), "POST", target, R"({"title": "hello"})", json_type);
    REQUIRE(r.status == 200);
    const sluice::Value document = r.json();
    CHECK(document.get("accepted")->as_int() == 1);
    CHECK(document.get("sinks")->get("out")->as_int() == 1);
    const auto& results = document.get("results")->as_array();
    REQUIRE(results.size() == 1);
    CHECK(results[0].get("title")->as_string() == "hello");
    CHECK(results[0].get("passed")->as_bool());
    const sluice::Value& meta = *results[0].get("meta");
    CHECK(meta.get("route")->as_string() == "/v1/graphs/echo/packets");
    CHECK(meta.get("requestmethod")->as_string() == "POST");
    CHECK(meta.get("stream")->as_string() == document.get("stream")->as_string());
    CHECK_FALSE(meta.get("id")->as_string().empty());
    const std::string when = meta.get("processingtime")->as_string();
    CHECK(when.size() == 24);  // 2026-11-26T02:22:20.123Z
    CHECK(when.back() == 'Z');
  }

  SUBCASE("a JSON array: one packet per element, each with its own id") {
    const auto r = http(server.port(), "POST", target, R"([{"n": 1}, {"n": 2}, {"n": 3}])", json_type);
    REQUIRE(r.status == 200);
    const sluice::Value document = r.json();
    const auto& results = document.get("results")->as_array();
    REQUIRE(results.size() == 3);
    std::set<std::string> ids;
    for (const auto& packet : results) ids.insert(packet.get("meta")->get("id")->as_string());
    CHECK(ids.size() == 3);
  }

  SUBCASE("NDJSON, and curl's default content type sniffed as NDJSON") {
    const std::string lines = "{\"n\": 1}\n{\"n\": 2}\n\n{\"n\": 3}\n";
    const auto typed = http(server.port(), "POST", target, lines, {{"Content-Type", "application/x-ndjson"}});
    REQUIRE(typed.status == 200);
    CHECK(typed.json().get("results")->as_array().size() == 3);
    const auto untyped = http(server.port(), "POST", target, lines,
                              {{"Content-Type", "application/x-www-form-urlencoded"}});
    REQUIRE(untyped.status == 200);
    CHECK(untyped.json().get("results")->as_array().size() == 3);
  }

  SUBCASE("NDJSON by its other names, and RFC 7464 JSON text sequences") {
    for (const std::string type : {"application/ndjson", "application/jsonl", "application/jsonlines",
                                   "application/x-jsonlines", "application/jsonl; charset=utf-8"}) {
      CAPTURE(type);
      const auto r = http(server.port(), "POST", target, "{\"n\": 1}\n{\"n\": 2}\n", {{"Content-Type", type}});
      REQUIRE(r.status == 200);
      CHECK(r.json().get("results")->as_array().size() == 2);
    }
    // A record may span lines; two RS in a row are no record.
    const std::string sequence = "\x1e{\"n\": 1}\n\x1e{\n  \"n\": 2\n}\n\x1e\x1e{\"n\": 3}\n";
    const auto r = http(server.port(), "POST", target, sequence, {{"Content-Type", "application/json-seq"}});
    REQUIRE(r.status == 200);
    const sluice::Value document = r.json();
    const auto& results = document.get("results")->as_array();
    REQUIRE(results.size() == 3);
    for (std::int64_t n = 1; n <= 3; ++n) CHECK(results[n - 1].get("n")->as_int() == n);

    const auto bad = http(server.port(), "POST", target, "\x1e{\"n\": 1}\n\x1e{\"n\": oops}\n",
                          {{"Content-Type", "application/json-seq"}});
    CHECK(bad.status == 400);
    CHECK(bad.json().get("error")->as_string().find("record 2") != std::string::npos);
    const auto unseparated = http(server.port(), "POST", target, "{\"n\": 1}\n",
                                  {{"Content-Type", "application/json-seq"}});
    CHECK(unseparated.status == 400);
    CHECK(unseparated.json().get("error")->as_string().find("RS (0x1E)") != std::string::npos);
  }

  SUBCASE("any other content type: one raw packet with mimetype, contentlength, filename") {
    const auto r = http(server.port(), "POST", target, "a,b\n1,2\n",
                        {{"Content-Type", "text/csv"},
                         {"Content-Disposition", "attachment; filename=\"../../table.csv\""}});
    REQUIRE(r.status == 200);
    const sluice::Value document = r.json();
    const auto& packet = document.get("results")->as_array().at(0);
    CHECK(packet.get("data")->as_string() == "a,b\n1,2\n");
    const sluice::Value& meta = *packet.get("meta");
    CHECK(meta.get("mimetype")->as_string() == "text/csv");
    CHECK(meta.get("contentlength")->as_int() == 8);
    CHECK(meta.get("filename")->as_string() == "table.csv");
  }

  SUBCASE("a body that is not UTF-8 arrives byte for byte, base64-encoded") {
    std::string bytes;
    for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
    const auto r = http(server.port(), "POST", target, bytes, {{"Content-Type", "application/octet-stream"}});
    REQUIRE(r.status == 200);
    const sluice::Value document = r.json();
    const auto& packet = document.get("results")->as_array().at(0);
    // The bytes 00 01 … ff in base64 (RFC 4648).
    CHECK(packet.get("data")->as_string() ==
          "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9Q"
          "UVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6Ch"
          "oqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy"
          "8/T19vf4+fr7/P3+/w==");
    CHECK(packet.get("meta")->get("contentlength")->as_int() == 256);
  }

  SUBCASE("Content-Encoding: gzip") {
    const auto r = http(server.port(), "POST", target, gzip("{\"z\": 1}\n{\"z\": 2}\n"),
                        {{"Content-Type", "application/x-ndjson"}, {"Content-Encoding", "gzip"}});
    REQUIRE(r.status == 200);
    CHECK(r.json().get("results")->as_array().size() == 2);
  }

  SUBCASE("an unsupported Content-Encoding is 415") {
    const auto r = http(server.port(), "POST", target, "{}", {{"Content-Type", "application/json"}, {"Content-Encoding", "br"}});
    CHECK(r.status == 415);
    CHECK(r.json().get("error")->as_string().find("br") != std::string::npos);
  }

  CHECK(server.stop() == 0);
}

TEST_CASE("a bad NDJSON line is 400 with its line number, and nothing of the request is admitted") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir);

  const auto r = http(server.port(), "POST", "/v1/graphs/echo/packets", "{\"n\": 1}\n{\"n\": 2}\n{\"n\": oops}\n",
                      {{"Content-Type", "application/x-ndjson"}});
  REQUIRE(r.status == 400);
  const sluice::Value error = r.json();
  CHECK(error.get("line")->as_int() == 3);
  CHECK(error.get("error")->as_string().find("line 3") != std::string::npos);

  const auto not_object = http(server.port(), "POST", "/v1/graphs/echo/packets", "[{\"a\": 1}, 2]", json_type);
  CHECK(not_object.status == 400);

  const auto stats = http(server.port(), "GET", "/v1/graphs/echo/stats").json();
  for (const auto& node : stats.get("nodes")->as_array()) CHECK(node.get("in")->as_int() == 0);

  CHECK(server.stop() == 0);
}

TEST_CASE("async: 202 with a stream id and Location, then the stream is polled until done") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir);

  const auto accepted = http(server.port(), "POST", "/v1/graphs/echo/packets", R"([{"a": 1}, {"a": 2}])", json_type);
  REQUIRE(accepted.status == 202);
  const std::string stream = accepted.json().get("stream")->as_string();
  CHECK(accepted.json().get("accepted")->as_int() == 2);
  REQUIRE(accepted.header("location") == "/v1/streams/" + stream);

  // Pending or done, the stream is known from the moment it was accepted.
  CHECK(stream_status(server.port(), stream) != "");
  CHECK(wait_until([&] { return stream_status(server.port(), stream) == "done"; }, std::chrono::seconds(10)));
  const sluice::Value status = http(server.port(), "GET", "/v1/streams/" + stream).json();
  CHECK(status.get("sinks")->get("out")->as_int() == 2);
  const auto with_results = http(server.port(), "GET", "/v1/streams/" + stream + "?results=true").json();
  CHECK(with_results.get("results")->as_array().size() == 2);

  CHECK(http(server.port(), "GET", "/v1/streams/unknown").status == 404);
  CHECK(server.stop() == 0);
}

TEST_CASE("wait=true past its timeout is 504 with the stream id; the work goes on") {
  TempDir dir;
  write_file(dir.path / "graphs/slow.yaml", slow_graph("slow", 1500));
  ServerProcess server(dir);

  const auto start = std::chrono::steady_clock::now();
  const auto r = http(server.port(), "POST", "/v1/graphs/slow/packets?wait=true&timeout=200ms", R"({"a": 1})", json_type);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1200));
  REQUIRE(r.status == 504);
  const std::string stream = r.json().get("stream")->as_string();
  CHECK(r.header("location") == "/v1/streams/" + stream);
  CHECK(stream_status(server.port(), stream) == "pending");
  CHECK(wait_until([&] { return stream_status(server.port(), stream) == "done"; }, std::chrono::seconds(10)));

  CHECK(http(server.port(), "POST", "/v1/graphs/slow/packets?wait=true&timeout=soon", "{}", json_type).status == 400);
  const auto waited = http(server.port(), "POST", "/v1/graphs/slow/packets?wait=true&timeout=10s", R"({"b": 2})", json_type);
  CHECK(waited.status == 200);
  CHECK(server.stop() == 0);
}

TEST_CASE("query parameters: unknown names and yes/no values that are neither are 400; an empty body is 400") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir);
  const std::uint16_t port = server.port();

  const auto typo = http(port, "POST", "/v1/graphs/echo/packets?wiat=true", "{}", json_type);
  REQUIRE(typo.status == 400);
  CHECK(typo.json().get("parameter")->as_string() == "wiat");
  CHECK(*typo.json().get("known") == sluice::Value(sluice::Array{"wait", "timeout", "node"}));
  const auto yes = http(port, "POST", "/v1/graphs/echo/packets?wait=yes", "{}", json_type);
  REQUIRE(yes.status == 400);
  CHECK(yes.json().get("parameter")->as_string() == "wait");
  CHECK(http(port, "GET", "/v1/graphs?verbose=1").status == 400);
  CHECK(http(port, "GET", "/v1/streams/x?results=maybe").status == 400);

  for (const std::string type : {"text/plain", "application/json", ""}) {
    const auto empty = http(port, "POST", "/v1/graphs/echo/packets", "",
                            type.empty() ? Headers{} : Headers{{"Content-Type", type}});
    REQUIRE_MESSAGE(empty.status == 400, type);
    CHECK(empty.json().get("error")->as_string() == "the body holds no packets");
  }
  const auto stats = http(port, "GET", "/v1/graphs/echo/stats").json();
  for (const auto& node : stats.get("nodes")->as_array()) CHECK(node.get("in")->as_int() == 0);

  const auto waited = http(port, "POST", "/v1/graphs/echo/packets?wait", "{}", json_type);
  CHECK(waited.status == 200);
  CHECK(waited.json().get("status")->as_string() == "done");
  const auto not_waited = http(port, "POST", "/v1/graphs/echo/packets?wait=false", "{}", json_type);
  CHECK(not_waited.status == 202);
  const std::string stream = not_waited.json().get("stream")->as_string();
  CHECK(http(port, "GET", "/v1/streams/" + stream + "?results=false").status == 200);
  CHECK(server.stop() == 0);
}

TEST_CASE("finished streams keep their packets within --stream-history-bytes: the oldest keep only counts") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir, {"--stream-history-bytes", "1MiB"});
  const std::string body = R"({"text": ")" + std::string(100 << 10, 'x') + R"("})";
  const std::size_t before = process_memory_bytes(server.pid(), "VmRSS");
  std::vector<std::string> streams;
  for (int i = 0; i < 400; ++i) {  // 40 MB of results, none waited for
    const auto accepted = http(server.port(), "POST", "/v1/graphs/echo/packets", body, json_type);
    REQUIRE(accepted.status == 202);
    streams.push_back(accepted.json().get("stream")->as_string());
  }
  auto stream = [&](const std::string& id, const char* query = "") {
    return http(server.port(), "GET", "/v1/streams/" + id + query).json();
  };
  REQUIRE(wait_until([&] { return stream(streams.back()).get("status")->as_string() == "done"; }, 60s));
  // Holding all of them would take 40 MB more.
  const std::size_t after = process_memory_bytes(server.pid(), "VmRSS");
  CHECK_MESSAGE(after < before + (20 << 20),
                "resident " << (before >> 10) << " KiB before, " << (after >> 10) << " KiB after");
  const sluice::Value oldest = stream(streams.front(), "?results=true");
  CHECK(oldest.get("status")->as_string() == "done");
  REQUIRE(oldest.get("packets_released") != nullptr);
  CHECK(oldest.get("packets_released")->as_bool());
  CHECK(oldest.get("results")->as_array().empty());
  CHECK(stream(streams.front()).get("results_count")->as_int() == 1);
  const sluice::Value newest = stream(streams.back(), "?results=true");
  CHECK(newest.get("packets_released") == nullptr);
  REQUIRE(newest.get("results")->as_array().size() == 1);
  CHECK(newest.get("results")->as_array()[0].get("text")->as_string().size() == 100u << 10);
}
