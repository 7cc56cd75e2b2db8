// `sluice tap URL GRAPH NODE.PORT`: the packets leaving a node's out port on a running server,
// live, one JSON document per line ({"seq": n, "packet": {fields, meta, field_meta}}), read
// from GET /v1/graphs/{g}/tap (Server-Sent Events). The tap's counters (seen, sampled out,
// dropped) go to stderr when it ends: after --count packets, or when the server ends it
// (redeploy, undeploy, shutdown).
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <iostream>
#include <memory>
#include <string>

#include <sluice/http_client.hpp>

#include "cli/commands.hpp"
#include "ingress/access_tokens.hpp"

namespace sluice::cli {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct TapOptions {
  std::string url, graph, target;  // target: NODE.PORT
  std::size_t limit = 0;           // 0: the server's default
  std::size_t sample = 1;
  std::size_t count = 0;           // 0: until the server ends the tap
  std::string token_file;
};

std::string query_escape(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// Splits a byte stream into Server-Sent Events and acts on each.
class EventReader {
 public:
  explicit EventReader(std::size_t count) : count_(count) {}

  // False once the tap is over (its `end` event, or --count packets printed).
  bool feed(std::string_view bytes) {
    pending_.append(bytes);
    std::size_t end;
    while ((end = pending_.find("\n\n")) != std::string::npos) {
      const std::string event = pending_.substr(0, end);
      pending_.erase(0, end + 2);
      if (!handle(event)) return false;
    }
    return true;
  }
  const std::string& stats() const { return stats_; }
  const std::string& end_reason() const { return end_; }

 private:
  bool handle(std::string_view event) {
    std::string name, data;
    while (!event.empty()) {
      const auto newline = event.find('\n');
      const std::string_view line = event.substr(0, newline);
      if (line.starts_with("event: ")) name = line.substr(7);
      if (line.starts_with("data: ")) data = line.substr(6);
      if (newline == std::string_view::npos) break;
      event.remove_prefix(newline + 1);
    }
    if (name == "packet") {
      std::cout << data << '\n' << std::flush;
      return count_ == 0 || ++printed_ < count_;
    }
    if (name == "stats") stats_ = data;
    if (name == "end") {
      end_ = data;
      return false;
    }
    return true;
  }

  std::size_t count_, printed_ = 0;
  std::string pending_, stats_, end_;
};

int tap(const TapOptions& options) {
  std::optional<sluice::http::Url> url;
  try {
    url = server_url(options.url);
  } catch (const std::invalid_argument& e) {
    std::cerr << "sluice tap: " << e.what() << " (the server is http://HOST:PORT)\n";
    return 2;
  }
  if (url->tls) {
    std::cerr << "sluice tap: " << options.url << ": https is not supported (tap the server's own http address)\n";
    return 2;
  }
  while (url->target.ends_with('/')) url->target.pop_back();
  const auto dot = options.target.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == options.target.size()) {
    std::cerr << "sluice tap: " << options.target << ": not NODE.PORT (for one: parse.out)\n";
    return 2;
  }
  std::string token;
  if (!options.token_file.empty()) {
    try {
      token = read_client_token(options.token_file);
    } catch (const std::exception& e) {
      std::cerr << "sluice tap: " << e.what() << '\n';
      return 2;
    }
  }

  std::string target = url->target + "/v1/graphs/" + query_escape(options.graph) +
                       "/tap?node=" + query_escape(options.target.substr(0, dot)) +
                       "&port=" + query_escape(options.target.substr(dot + 1)) +
                       "&sample=" + std::to_string(options.sample);
  if (options.limit > 0) target += "&limit=" + std::to_string(options.limit);
  try {
    net::io_context ioc;
    tcp::socket socket(ioc);
    net::connect(socket, tcp::resolver(ioc).resolve(url->host, url->port));
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, url->host + ":" + url->port);
    request.set(http::field::accept, "text/event-stream");
    request.set(http::field::user_agent, "sluice-tap");
    if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
    http::write(socket, request);

    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);  // a tap runs as long as it runs
    http::read_header(socket, buffer, parser);
    const unsigned status = parser.get().result_int();
    EventReader events(options.count);
    std::string refusal;
    char piece[16384];
    while (!parser.is_done()) {
      parser.get().body().data = piece;
      parser.get().body().size = sizeof piece;
      beast::error_code ec;
      http::read_some(socket, buffer, parser, ec);
      if (ec && ec != http::error::need_buffer) throw beast::system_error(ec);
      const std::string_view got(piece, sizeof piece - parser.get().body().size);
      if (status != 200)
        refusal.append(got);
      else if (!events.feed(got))
        break;
    }
    if (status != 200) {
      std::cerr << "sluice tap: " << options.url << ": " << status << ' ' << parser.get().reason() << ": " << refusal
                << '\n';
      if (status == 401) std::cerr << "  (the server needs its admin token: --token-file)\n";
      return 1;
    }
    if (!events.stats().empty()) std::cerr << "sluice tap: " << events.stats() << '\n';
    if (!events.end_reason().empty()) std::cerr << "sluice tap: ended " << events.end_reason() << '\n';
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "sluice tap: " << options.url << ": " << e.what() << '\n';
    return 1;
  }
}

}  // namespace

void add_tap_command(CLI::App& app) {
  auto options = std::make_shared<TapOptions>();
  CLI::App* command = app.add_subcommand(
      "tap", "print the packets leaving a node's out port on a running server, live, as NDJSON");
  command->add_option("url", options->url, "the server (http://HOST:PORT)")->required();
  command->add_option("graph", options->graph, "graph name")->required();
  command->add_option("target", options->target, "NODE.PORT, e.g. parse.out (or parse.error)")->required();
  command->add_option("--limit", options->limit, "at most this many packets per second (server default 100)")
      ->check(CLI::Range(1, 10000));
  command->add_option("--sample", options->sample, "look at one packet in N")->check(CLI::Range(1, 1000000));
  command->add_option("--count", options->count, "stop after this many packets");
  command->add_option("--token-file", options->token_file, "file whose first line is the server's admin token")
      ->check(CLI::ExistingFile);
  command->callback([options] { set_exit_code(tap(*options)); });
}

}  // namespace sluice::cli
