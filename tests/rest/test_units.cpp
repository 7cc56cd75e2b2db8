// The ingress pieces that need no server: request bodies, durations, times, the control loop.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sluice/json.hpp>

#include "ingress/request_body.hpp"
#include "ingress/rest_api.hpp"
#include "support/control_loop.hpp"
#include "support/timestamps.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

std::string gzip(std::string_view data) {
  z_stream stream{};
  deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, static_cast<uLong>(data.size())) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

HttpRequest post(std::string body, std::string content_type = {}) {
  HttpRequest request;
  request.method = "POST";
  request.path = "/v1/graphs/g/packets";
  if (!content_type.empty()) request.headers.emplace_back("content-type", std::move(content_type));
  request.body = std::move(body);
  return request;
}

int status_of(HttpRequest request, std::size_t limit = 1 << 20) {
  try {
    read_packets(request, limit, 100);
  } catch (const RequestError& e) {
    return e.status();
  }
  return 0;
}

}  // namespace

TEST_CASE("inflate_body: gzip, concatenated members, the size limit, corrupt data") {
  CHECK(inflate_body(gzip("hello"), 100) == "hello");
  CHECK(inflate_body(gzip("ab") + gzip("cd"), 100) == "abcd");
  CHECK_THROWS_AS(inflate_body(gzip(std::string(1000, 'x')), 999), RequestError);
  try {
    inflate_body(gzip(std::string(1000, 'x')), 999);
  } catch (const RequestError& e) {
    CHECK(e.status() == 413);
  }
  std::string truncated = gzip(std::string(5000, 'y'));
  truncated.resize(truncated.size() / 2);
  CHECK_THROWS_AS(inflate_body(truncated, 100000), RequestError);
  CHECK_THROWS_AS(inflate_body("not gzip at all", 100000), RequestError);
}

TEST_CASE("content_disposition_filename") {
  CHECK(content_disposition_filename(R"(attachment; filename="report.pdf")") == "report.pdf");
  CHECK(content_disposition_filename("attachment; filename=plain.txt") == "plain.txt");
  CHECK(content_disposition_filename(R"(attachment; filename="a.txt"; filename*=UTF-8''%C3%A9t%C3%A9.txt)") == "\xC3\xA9t\xC3\xA9.txt");
  CHECK(content_disposition_filename(R"(form-data; name="f"; filename="C:\\dir\\x.csv")") == "x.csv");
  CHECK(content_disposition_filename("inline").empty());
}

TEST_CASE("read_packets: an NDJSON body tells each packet's line, blank lines and \\r\\n included") {
  const std::string body = "\n{\"a\": 1}\r\n  \n\t{\"b\": [2, 3]} \n{\"c\": {}}";
  HttpRequest request = post(body, "application/x-ndjson");
  std::vector<TextSpan> texts;
  const auto packets = read_packets(request, 1000, 100, &texts);
  REQUIRE(packets.size() == 3);
  REQUIRE(texts.size() == 3);
  CHECK(body.substr(texts[0].offset, texts[0].length) == "{\"a\": 1}\r");
  CHECK(body.substr(texts[1].offset, texts[1].length) == "\t{\"b\": [2, 3]} ");
  CHECK(body.substr(texts[2].offset, texts[2].length) == "{\"c\": {}}");
  for (std::size_t i = 0; i < packets.size(); ++i)
    CHECK(json::to_packet(json::parse(body.substr(texts[i].offset, texts[i].length))) == packets[i]);
  // Other bodies tell nothing: their packets are written out.
  HttpRequest array = post(R"([{"a": 1}, {"a": 2}])", "application/json");
  std::vector<TextSpan> none;
  CHECK(read_packets(array, 1000, 100, &none).size() == 2);
  CHECK(none.empty());
}

TEST_CASE("read_packets: kinds of bodies") {
  {
    HttpRequest request = post(R"({"a": 1})", "application/json; charset=utf-8");
    CHECK(read_packets(request, 1000, 100).size() == 1);
  }
  {
    HttpRequest request = post("{\n  \"a\": 1\n}\n");  // pretty-printed, no type: JSON
    CHECK(read_packets(request, 1000, 100).size() == 1);
  }
  {
    HttpRequest request = post("{\"a\": 1}\n{\"a\": 2}\n");  // no type, a value per line: NDJSON
    CHECK(read_packets(request, 1000, 100).size() == 2);
  }
  {
    HttpRequest request = post("a=1&b=2", "application/x-www-form-urlencoded");
    auto packets = read_packets(request, 1000, 100);
    REQUIRE(packets.size() == 1);
    CHECK(packets[0].get("data")->as_string() == "a=1&b=2");
  }
  for (const char* type : {"", "text/plain"}) {
    HttpRequest empty = post("", type);
    CHECK(read_packets(empty, 1000, 100).empty());  // no packets: POST answers 400
  }
  CHECK(status_of(post("{\"a\": 1}\nnope\n", "application/x-ndjson")) == 400);
  CHECK(status_of(post("[1, 2]", "application/json")) == 400);
  // More packets than a graph can queue (100 here): 413, NDJSON without parsing the rest.
  std::string lines;
  for (int i = 0; i < 100; ++i) lines += "{}\n";
  CHECK(status_of(post(lines, "application/x-ndjson")) == 0);
  CHECK(status_of(post(lines + "{}\nnot even JSON\n", "application/x-ndjson")) == 413);
  std::string array = "[{}";
  for (int i = 0; i < 100; ++i) array += ", {}";
  CHECK(status_of(post(array + "]", "application/json")) == 413);
  // Gzip NDJSON: inflating stops at the line after the last allowed one, before the rest of the
  // stream (cut off here, so inflating it to the end would be a 400) is reached.
  HttpRequest bomb = post(gzip(lines + "{}\n" + std::string(1 << 20, ' ')).substr(0, 600), "application/x-ndjson");
  bomb.headers.emplace_back("content-encoding", "gzip");
  CHECK(status_of(bomb) == 413);
  HttpRequest encoded = post("{}", "application/json");
  encoded.headers.emplace_back("content-encoding", "compress");
  CHECK(status_of(encoded) == 415);
}

TEST_CASE("parse_duration and iso8601") {
  CHECK(parse_duration("500ms") == 500ms);
  CHECK(parse_duration("5s") == 5000ms);
  CHECK(parse_duration("1m") == 60000ms);
  CHECK(parse_duration("2.5") == 2500ms);
  CHECK_FALSE(parse_duration("soon"));
  CHECK_FALSE(parse_duration("-1s"));
  CHECK_FALSE(parse_duration("5h"));
  CHECK(iso8601(std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123))) ==
        "2023-11-14T22:13:20.123Z");
}

TEST_CASE("ControlLoop runs timer callbacks in deadline order and not when cancelled") {
  ControlLoop loop;
  std::mutex mutex;
  std::condition_variable fired;
  std::vector<int> order;
  auto record = [&](int n) {
    return [&, n] {
      std::lock_guard lock(mutex);
      order.push_back(n);
      fired.notify_all();
    };
  };
  const auto now = ControlLoop::Clock::now();
  loop.schedule(now + 60ms, record(2));
  const auto cancelled = loop.schedule(now + 30ms, record(99));
  loop.schedule(now + 20ms, record(1));
  CHECK(loop.cancel(cancelled));
  std::unique_lock lock(mutex);
  CHECK(fired.wait_for(lock, 5s, [&] { return order.size() == 2; }));
  CHECK(order == std::vector<int>{1, 2});
  CHECK_FALSE(loop.cancel(cancelled));
}

TEST_CASE("ControlLoop: a periodic task runs until cancel_and_wait, which returns once it is not running") {
  ControlLoop loop;
  std::atomic<int> runs{0};
  std::atomic<bool> inside{false};
  const auto task = loop.every(1ms, [&] {
    inside = true;
    std::this_thread::sleep_for(2ms);  // a run in progress when cancel_and_wait is called
    ++runs;
    inside = false;
  });
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (runs < 5 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
  REQUIRE(runs >= 5);
  loop.cancel_and_wait(task);
  CHECK_FALSE(inside);
  const int after = runs;
  loop.wait_for_jobs();  // a round trip through the loop: a rearmed timer would have had time
  std::this_thread::sleep_for(20ms);
  CHECK(runs == after);
}

TEST_CASE("ControlLoop: jobs run one at a time in order, and timers run beside a long job") {
  ControlLoop loop;
  std::vector<int> order;  // written by the jobs only: one at a time
  std::promise<void> timer_ran;
  auto timer_done = timer_ran.get_future();
  // The first job waits for a timer: with one thread for everything this would never end.
  loop.post_job([&] {
    CHECK(timer_done.wait_for(10s) == std::future_status::ready);
    order.push_back(1);
  });
  for (int n = 2; n <= 50; ++n) loop.post_job([&order, n] { order.push_back(n); });
  loop.schedule(ControlLoop::Clock::now() + 1ms, [&] { timer_ran.set_value(); });
  loop.wait_for_jobs();
  REQUIRE(order.size() == 50);
  for (int n = 1; n <= 50; ++n) CHECK(order[static_cast<std::size_t>(n - 1)] == n);
}

TEST_CASE("ControlLoop::stop runs the jobs posted already, drops the timers and takes nothing more") {
  ControlLoop loop;
  std::atomic<int> jobs{0};
  std::atomic<bool> timer_ran{false};
  loop.post_job([&] {
    std::this_thread::sleep_for(20ms);
    ++jobs;
  });
  loop.post_job([&] { ++jobs; });
  loop.schedule(ControlLoop::Clock::now() + 10s, [&] { timer_ran = true; });
  loop.stop();
  CHECK(jobs == 2);
  CHECK_FALSE(timer_ran);
  CHECK_FALSE(loop.post_job([&] { ++jobs; }));
  loop.stop();  // idempotent
  CHECK(jobs == 2);
}

// A pipe whose ends close with the test.
struct Pipe {
  Pipe() { REQUIRE(::pipe(fds) == 0); }
  ~Pipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  void write(const std::string& text) const { REQUIRE(::write(fds[1], text.data(), text.size()) == static_cast<ssize_t>(text.size())); }
  int fds[2];
};

TEST_CASE("ControlLoop::watch_readable: a first call, then what was written, then the deadline; nothing after unwatch") {
  ControlLoop loop;
  Pipe pipe;
  std::mutex mutex;
  std::condition_variable called;
  std::vector<std::string> calls;
  std::atomic<bool> want_deadline{false};
  const auto id = loop.watch_readable(pipe.fds[0], [&](std::string_view data) -> std::optional<ControlLoop::Clock::time_point> {
    std::lock_guard lock(mutex);
    calls.emplace_back(data);
    called.notify_all();
    if (want_deadline.exchange(false)) return ControlLoop::Clock::now() + 20ms;
    return std::nullopt;
  });
  auto wait_for_calls = [&](std::size_t n) {
    std::unique_lock lock(mutex);
    return called.wait_for(lock, 10s, [&] { return calls.size() >= n; });
  };
  REQUIRE(wait_for_calls(1));
  CHECK(calls[0].empty());
  want_deadline = true;
  pipe.write("one");
  REQUIRE(wait_for_calls(2));
  CHECK(calls[1] == "one");
  REQUIRE(wait_for_calls(3));  // nothing was written: the deadline the second call asked for
  CHECK(calls[2].empty());
  pipe.write("two");
  REQUIRE(wait_for_calls(4));
  CHECK(calls[3] == "two");

  loop.unwatch(id);
  pipe.write("three");
  loop.wait_for_jobs();  // a round trip through the loop: a watch still in place would have had time
  std::this_thread::sleep_for(20ms);
  std::lock_guard lock(mutex);
  CHECK(calls.size() == 4);
}

TEST_CASE("ControlLoop: a watch handler that takes long holds up neither the jobs nor the timers, and stop() ends a watch") {
  ControlLoop loop;
  Pipe pipe;
  std::promise<void> job_ran, handler_returned;
  std::promise<void> timer_ran;
  std::shared_future<void> timer_done = timer_ran.get_future().share();
  auto job_done = job_ran.get_future();
  std::atomic<bool> job_saw_the_timer{false}, handler_saw_the_job{false};
  loop.watch_readable(pipe.fds[0], [&](std::string_view) -> std::optional<ControlLoop::Clock::time_point> {
    // A plugin rescan probing for seconds, while a deploy waits for a timeout: each on a thread.
    handler_saw_the_job = job_done.wait_for(10s) == std::future_status::ready;
    handler_returned.set_value();
    return std::nullopt;
  });
  loop.post_job([&] {
    job_saw_the_timer = timer_done.wait_for(10s) == std::future_status::ready;
    job_ran.set_value();
  });
  loop.schedule(ControlLoop::Clock::now() + 1ms, [&] { timer_ran.set_value(); });
  REQUIRE(handler_returned.get_future().wait_for(30s) == std::future_status::ready);
  CHECK(job_saw_the_timer);
  CHECK(handler_saw_the_job);
  loop.stop();  // returns although the watch's read is still waiting for data
}
