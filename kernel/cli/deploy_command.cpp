// `sluice deploy --nodes URL,URL GRAPH.yaml`: deploys one graph to every node of a cluster.
// The graph is validated once here, against the plugins of the local search path, so that a
// mistake is reported like `sluice check` does before any node is touched; then every node
// gets `PUT /v1/graphs/{name}` at the same time, and each node's answer is reported. A node
// validates again (it may have other plugins): its 422 comes back with positions in the file.
#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <sluice/json.hpp>

#include "cli/commands.hpp"
#include "graph/graph_spec.hpp"
#include "registry/plugin_registry.hpp"

namespace sluice::cli {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct DeployOptions {
  std::string file;
  std::vector<std::string> nodes;
  std::vector<std::string> plugin_dirs;
  std::string token_file;
  double timeout_seconds = 60;
};

// One node's deploy: resolve, connect, PUT, read the answer — asynchronously, so that all
// nodes are deployed at once on one thread, under one deadline per node (Beast's timeouts
// only apply to asynchronous operations).
class NodeDeploy {
 public:
  NodeDeploy(net::io_context& ioc, ServerUrl url, http::request<http::string_body> request,
             std::chrono::steady_clock::duration timeout)
      : url_(std::move(url)), resolver_(ioc), stream_(ioc), request_(std::move(request)) {
    stream_.expires_after(timeout);
  }

  void start() {
    resolver_.async_resolve(url_.host, url_.port, [this](beast::error_code ec, tcp::resolver::results_type found) {
      if (ec) return fail("cannot resolve " + url_.host + ": " + ec.message());
      stream_.async_connect(found, [this](beast::error_code ec, const tcp::endpoint&) {
        if (ec) return fail(ec == beast::error::timeout ? "no connection before the deadline" : ec.message());
        http::async_write(stream_, request_, [this](beast::error_code ec, std::size_t) {
          if (ec) return fail("sending the graph failed: " + ec.message());
          http::async_read(stream_, buffer_, response_, [this](beast::error_code ec, std::size_t) {
            if (ec) return fail(ec == beast::error::timeout ? "no answer before the deadline" : "reading the answer failed: " + ec.message());
            beast::error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
          });
        });
      });
    });
  }

  const ServerUrl& url() const { return url_; }
  bool answered() const { return network_error_.empty(); }
  const std::string& network_error() const { return network_error_; }
  const http::response<http::string_body>& response() const { return response_; }

 private:
  void fail(std::string message) { network_error_ = std::move(message); }

  ServerUrl url_;
  tcp::resolver resolver_;
  beast::tcp_stream stream_;
  http::request<http::string_body> request_;
  beast::flat_buffer buffer_;
  http::response<http::string_body> response_;
  std::string network_error_;
};

void print_errors(std::vector<Diagnostic> errors) {
  std::stable_sort(errors.begin(), errors.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.where.line, a.where.column) < std::tie(b.where.line, b.where.column);
  });
  for (const auto& error : errors) std::cerr << format(error) << '\n';
}

// What a node said when it refused: its `error`, and for an invalid graph every problem as
// `file:line:col: error: …` (the positions are in the text sent, i.e. in `file`).
void print_refusal(const std::string& body, const std::string& file) {
  Value answer;
  try {
    answer = json::parse(body);
  } catch (const json::ParseError&) {
    std::cerr << "  " << body.substr(0, 500) << '\n';
    return;
  }
  const Value* error = answer.get("error");
  std::cerr << "  " << (error && error->is_string() ? error->as_string() : body.substr(0, 500)) << '\n';
  const Value* problems = answer.get("errors");
  if (!problems || !problems->is_array()) return;
  for (const Value& problem : problems->as_array()) {
    const Value* line = problem.get("line");
    const Value* column = problem.get("column");
    const Value* message = problem.get("message");
    if (!message || !message->is_string()) continue;
    Diagnostic diagnostic{.where = {.file = file,
                                    .line = line && line->is_int() ? static_cast<std::size_t>(line->as_int()) : 0,
                                    .column = column && column->is_int() ? static_cast<std::size_t>(column->as_int()) : 0},
                          .message = message->as_string()};
    std::cerr << "  " << format(diagnostic) << '\n';
  }
}

int deploy(const DeployOptions& options) {
  std::vector<ServerUrl> nodes;
  for (const auto& text : options.nodes) {
    std::string error;
    auto url = parse_server_url(text, "deploy to the nodes' own http addresses", error);
    if (!url) {
      std::cerr << "sluice deploy: " << error << '\n';
      return 2;
    }
    nodes.push_back(std::move(*url));
  }
  std::string token;
  if (!options.token_file.empty() && !read_token_file(options.token_file, "deploy", token)) return 2;

  const PluginRegistry registry(plugin_search_path(options.plugin_dirs));
  std::vector<Diagnostic> errors;
  // Named by its `name`, or else by the file (graphs/enrich.yaml → enrich), as `sluice check`.
  const GraphSpec spec = load_graph_file(options.file, errors);
  const auto plan = plan_graph(spec, registry, errors);
  if (!plan) {
    print_errors(errors);
    std::cerr << options.file << ": " << errors.size() << " error" << (errors.size() == 1 ? "" : "s")
              << "; nothing deployed";
    if (const auto rejected = registry.rejected().size(); rejected != 0)
      std::cerr << "; " << rejected << " plugin file" << (rejected == 1 ? "" : "s") << " rejected, `sluice plugins` says why";
    std::cerr << '\n';
    return 1;
  }

  net::io_context ioc;
  const auto timeout = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(options.timeout_seconds));
  std::vector<std::unique_ptr<NodeDeploy>> deploys;
  for (const auto& node : nodes) {
    http::request<http::string_body> request{http::verb::put, node.prefix + "/v1/graphs/" + spec.name, 11};
    request.set(http::field::host, node.host + ":" + node.port);
    request.set(http::field::content_type, "application/yaml");
    request.set(http::field::user_agent, "sluice-deploy");
    if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
    request.keep_alive(false);
    request.body() = spec.yaml_text;
    request.prepare_payload();
    deploys.push_back(std::make_unique<NodeDeploy>(ioc, node, std::move(request), timeout));
    deploys.back()->start();
  }
  ioc.run();

  std::size_t deployed = 0;
  for (const auto& node : deploys) {
    if (!node->answered()) {
      std::cerr << node->url().text << ": failed: " << node->network_error() << '\n';
      continue;
    }
    const unsigned status = node->response().result_int();
    if (status == 200 || status == 201) {
      ++deployed;
      std::cout << node->url().text << ": " << status << " deployed" << (status == 201 ? " (new)" : " (replaced)") << '\n';
      continue;
    }
    std::cerr << node->url().text << ": " << status << ' ' << node->response().reason() << '\n';
    print_refusal(node->response().body(), options.file);
    if (status == 401) std::cerr << "  (the node needs its admin token: --token-file)\n";
  }
  const std::size_t failed = deploys.size() - deployed;
  std::cout << "sluice deploy: " << spec.name << " on " << deployed << " of " << deploys.size() << " node"
            << (deploys.size() == 1 ? "" : "s");
  if (failed != 0) {
    // A node that refused keeps what it ran before; a repeated PUT of the same text is harmless.
    std::cout << "; " << failed << " failed (above), they run their previous version if any — "
              << "fix and run the same command again\n";
    return 1;
  }
  std::cout << '\n';
  return 0;
}

}  // namespace

void add_deploy_command(CLI::App& app) {
  auto options = std::make_shared<DeployOptions>();
  CLI::App* command = app.add_subcommand(
      "deploy", "validate a graph here, then deploy it to every node of a cluster (PUT /v1/graphs/{name})");
  command->add_option("file", options->file, "graph YAML file")->required()->check(CLI::ExistingFile);
  command->add_option("--nodes", options->nodes, "the nodes' URLs, comma-separated or repeated (http://HOST:PORT)")
      ->required()
      ->delimiter(',')
      ->allow_extra_args(false);  // `--nodes A,B g.yaml`: g.yaml is the file
  add_plugin_dirs_option(*command, options->plugin_dirs);
  command->add_option("--token-file", options->token_file, "file whose first line is the nodes' admin token")
      ->check(CLI::ExistingFile);
  command->add_option("--timeout", options->timeout_seconds,
                      "seconds to wait for each node (a deploy drains the graph's previous version)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command->callback([options] { set_exit_code(deploy(*options)); });
}

}  // namespace sluice::cli
