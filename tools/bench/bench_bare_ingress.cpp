// The baseline of tools/bench/rest: a bare Pistache Http::Endpoint whose only work per POST is
// what no ingress can skip — parse the body with simdjson (one document, or every line of an
// NDJSON body with iterate_many, each record's fields visited) — before it answers 202, as
// sluice's ingress answers an accepted submission. It serves until SIGINT or SIGTERM.
//
//   bench_bare_ingress [--threads T]      (T I/O threads, default 2 as `sluice serve` has)
//
// It prints `listening on http://127.0.0.1:PORT` once it accepts connections.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <simdjson.h>

namespace {

constexpr std::string_view accepted = R"({"stream": "bare"})";

// Fields of one record, each value visited as a packet's conversion would.
bool visit_record(simdjson::dom::element record, std::size_t& fields) {
  simdjson::dom::object object;
  if (record.get_object().get(object)) return false;
  for (auto field : object) fields += field.value.type() != simdjson::dom::element_type::NULL_VALUE ? 1 : 0;
  return true;
}

// Records parsed from the body, or -1 when it is not JSON. The DOM parser, the fastest way
// through simdjson 3.0: its stage 2 is dispatched at run time (AVX2 here), where on-demand is
// compiled for the build's baseline.
long parse_body(const std::string& body, bool ndjson) {
  thread_local simdjson::dom::parser parser;
  // Pistache keeps the body in a std::string without simdjson's padding: a padded copy, as any
  // server that receives into a plain buffer must make.
  const simdjson::padded_string padded(body);
  std::size_t fields = 0;
  if (ndjson) {
    simdjson::dom::document_stream stream;
    if (parser.parse_many(padded).get(stream)) return -1;
    long records = 0;
    for (auto document : stream) {
      simdjson::dom::element record;
      if (document.get(record) || !visit_record(record, fields)) return -1;
      ++records;
    }
    return records;
  }
  simdjson::dom::element record;
  if (parser.parse(padded).get(record) || !visit_record(record, fields)) return -1;
  return 1;
}

class BareIngress final : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(BareIngress)

  void onRequest(const Pistache::Http::Request& request, Pistache::Http::ResponseWriter writer) override {
    using Pistache::Http::Code;
    const auto type = request.headers().tryGet<Pistache::Http::Header::ContentType>();
    const bool ndjson = type && type->mime().toString().find("ndjson") != std::string::npos;
    if (parse_body(request.body(), ndjson) < 0) {
      writer.send(Code::Bad_Request, R"({"error": "not JSON"})", MIME(Application, Json));
      return;
    }
    writer.send(Code::Accepted, std::string(accepted), MIME(Application, Json));
  }
};

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  for (int i = 1; i < argc; i += 2) {
    if (std::string_view(argv[i]) == "--threads" && i + 1 < argc && std::atoi(argv[i + 1]) > 0) {
      threads = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: bench_bare_ingress [--threads T]\n");
      return 2;
    }
  }
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // before the I/O threads inherit the mask

  Pistache::Http::Endpoint endpoint(Pistache::Address("127.0.0.1", Pistache::Port(0)));
  endpoint.init(Pistache::Http::Endpoint::options()
                    .threads(threads)
                    .maxRequestSize(64 << 20)
                    .flags(Pistache::Tcp::Options::ReuseAddr));
  endpoint.setHandler(Pistache::Http::make_handler<BareIngress>());
  endpoint.serveThreaded();
  std::printf("listening on http://127.0.0.1:%u\n", static_cast<unsigned>(endpoint.getPort()));
  std::fflush(stdout);
  int signal = 0;
  sigwait(&stop_signals, &signal);
  endpoint.shutdown();
  return 0;
}
