// What sluice's HTTP layer costs: a bare Pistache Http::Endpoint and sluice's HttpServer, in
// one run, with the same handler (parse the JSON body with simdjson, answer a small JSON
// document), under single small JSON POSTs from several keep-alive clients, each waiting for
// its answer before the next POST.
//
//   build-release/tools/bench/bench_rest [--seconds S] [--clients C] [--threads T] [--rounds R]
//
// T is the I/O threads of each server (2, as `sluice serve` has). Everything shares this
// machine's cores: read the median ratio, not the absolute numbers.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <simdjson.h>

#include "http_client.hpp"
#include "ingress/http_server.hpp"

using namespace rest_test;
using Clock = std::chrono::steady_clock;

namespace {

const std::string request_body = R"({"sensor": "t-17", "value": 21.5, "unit": "C", "tags": ["roof", "north"]})";
constexpr std::string_view answer = R"({"ok": true})";

// The work both servers do per request: the body parsed, a field read.
bool parse_body(std::string_view body) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element document;
  if (parser.parse(body.data(), body.size()).get(document)) return false;
  double value = 0;
  return !document["value"].get(value);
}

class BareHandler final : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(BareHandler)

  void onRequest(const Pistache::Http::Request& request, Pistache::Http::ResponseWriter writer) override {
    using Pistache::Http::Code;
    const bool parsed = parse_body(request.body());
    writer.send(parsed ? Code::Ok : Code::Bad_Request, std::string(answer), MIME(Application, Json));
  }
};

// Requests per second that `clients` keep-alive clients get from the server on `port`.
double measure(std::uint16_t port, int clients, std::chrono::seconds duration) {
  std::atomic<std::size_t> answered{0}, failed{0};
  const auto start = Clock::now();
  const auto stop = start + duration;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      HttpConnection connection(port);
      std::size_t mine = 0;
      while (Clock::now() < stop) {
        const int status = connection
                               .request("POST", "/v1/bench", request_body,
                                        {{"Content-Type", "application/json"}, {"Connection", "keep-alive"}})
                               .status;
        if (status == 200) ++mine;
        else ++failed;
      }
      answered += mine;
    });
  for (auto& thread : threads) thread.join();
  if (failed > 0) std::fprintf(stderr, "bench_rest: %zu requests failed\n", failed.load());
  return static_cast<double>(answered) / std::chrono::duration<double>(Clock::now() - start).count();
}

double bare_pistache(int threads, int clients, std::chrono::seconds duration) {
  Pistache::Http::Endpoint endpoint(Pistache::Address("127.0.0.1", Pistache::Port(0)));
  endpoint.init(Pistache::Http::Endpoint::options().threads(threads).flags(Pistache::Tcp::Options::ReuseAddr));
  endpoint.setHandler(Pistache::Http::make_handler<BareHandler>());
  endpoint.serveThreaded();
  const double rate = measure(static_cast<std::uint16_t>(endpoint.getPort()), clients, duration);
  endpoint.shutdown();
  return rate;
}

double sluice_server(int threads, int clients, std::chrono::seconds duration) {
  sluice::HttpServer server({.host = "127.0.0.1", .port = 0, .threads = static_cast<std::size_t>(threads)},
                            [](sluice::HttpRequest&& request, sluice::Responder&& responder) {
                              const bool parsed = parse_body(request.body);
                              responder.send(sluice::HttpResponse::json(parsed ? 200 : 400, std::string(answer)));
                            });
  server.start();
  const double rate = measure(server.port(), clients, duration);
  server.stop();
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 2, clients = 4, threads = 2, rounds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (value <= 0) {
      std::fprintf(stderr, "bench_rest: %s needs a positive number\n", flag.c_str());
      return 2;
    }
    if (flag == "--seconds") seconds = value;
    else if (flag == "--clients") clients = value;
    else if (flag == "--threads") threads = value;
    else if (flag == "--rounds") rounds = value;
    else {
      std::fprintf(stderr, "usage: bench_rest [--seconds S] [--clients C] [--threads T] [--rounds R]\n");
      return 2;
    }
  }
  const std::chrono::seconds duration(seconds);
  std::printf("single small JSON POSTs (%zu bytes), %d keep-alive clients, %d I/O threads, %d s per server and round\n",
              request_body.size(), clients, threads, seconds);
  // The two alternate, round after round, so that a load elsewhere on the machine falls on both.
  std::vector<double> ratios;
  for (int round = 1; round <= rounds; ++round) {
    const double bare = bare_pistache(threads, clients, duration);
    const double ours = sluice_server(threads, clients, duration);
    ratios.push_back(ours / bare);
    std::printf("  round %d: bare Pistache Http::Endpoint %8.0f req/s, sluice HttpServer %8.0f req/s, ratio %.2f\n", round,
                bare, ours, ours / bare);
  }
  std::sort(ratios.begin(), ratios.end());
  std::printf("  median ratio sluice / Pistache: %.2f\n", ratios[ratios.size() / 2]);
  return 0;
}
