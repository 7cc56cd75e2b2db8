// `sluice deploy --nodes URL,URL GRAPH.yaml`: deploys one graph to every node of a cluster.
// The graph is validated once here, against the plugins of the local search path, so that a
// mistake is reported like `sluice check` does before any node is touched; then every node
// gets `PUT /v1/graphs/{name}` at the same time, and each node's answer is reported. A node
// validates again (it may have other plugins): its 422 comes back with positions in the file.
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sluice/http_client.hpp>
#include <sluice/json.hpp>

#include "cli/commands.hpp"
#include "control/graph_loading.hpp"
#include "ingress/access_tokens.hpp"
#include "registry/plugin_registry.hpp"

namespace sluice::cli {

namespace {

struct DeployOptions {
  std::string file;
  std::vector<std::string> nodes;
  std::vector<std::string> plugin_dirs;
  std::string token_file;
  double timeout_seconds = 60;
  http::TlsOptions tls;
};

struct Node {
  std::string text;  // as given, for the report
  http::Url url;     // its target is the path before /v1/…, "" for most nodes
};

// `http://host:port[/prefix]`, `https://…`, or `host:port`.
std::optional<Node> parse_node(const std::string& text, std::string& error) {
  try {
    Node node{.text = text, .url = server_url(text)};
    while (node.url.target.ends_with('/')) node.url.target.pop_back();
    return node;
  } catch (const std::invalid_argument& e) {
    error = std::string(e.what()) + " (a node is http://HOST:PORT or https://HOST:PORT)";
    return std::nullopt;
  }
}

// One node's PUT, on a thread of its own so that all nodes are deployed at once.
struct NodeDeploy {
  const Node& node;
  std::optional<http::Response> answer;
  std::string failure;  // no answer: why
};

void put_graph(NodeDeploy& deploy, const DeployOptions& options, const http::Headers& headers, const std::string& name,
               const std::string& yaml) {
  try {
    http::Client client(deploy.node.url, options.tls,
                        std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::duration<double>(options.timeout_seconds)));
    deploy.answer = client.send("PUT", deploy.node.url.target + "/v1/graphs/" + name, headers, yaml);
  } catch (const std::exception& e) {
    deploy.failure = e.what();
  }
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
  std::vector<Node> nodes;
  for (const auto& text : options.nodes) {
    std::string error;
    auto node = parse_node(text, error);
    if (!node) {
      std::cerr << "sluice deploy: " << error << '\n';
      return 2;
    }
    if (!node->url.tls && options.tls.given()) {
      std::cerr << "sluice deploy: --tls-* options apply to https:// nodes; " << text << " is not one\n";
      return 2;
    }
    nodes.push_back(std::move(*node));
  }
  std::string token;
  if (!options.token_file.empty()) {
    try {
      token = read_client_token(options.token_file);
    } catch (const std::exception& e) {
      std::cerr << "sluice deploy: " << e.what() << '\n';
      return 2;
    }
  }


  const PluginRegistry registry(plugin_search_path(options.plugin_dirs));
  // Named by its `name`, or else by the file (graphs/enrich.yaml → enrich), as `sluice check`.
  const LoadedGraph graph = load_graph(options.file, registry);
  if (!graph.plan) {
    report_errors(std::cerr, graph, "nothing deployed", registry.rejected().size());
    return 1;
  }
  const GraphSpec& spec = graph.spec;

  http::Headers headers = {{"Content-Type", "application/yaml"}, {"User-Agent", "sluice-deploy"}, {"Connection", "close"}};
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
  std::vector<NodeDeploy> deploys;
  for (const auto& node : nodes) deploys.push_back({.node = node, .answer = {}, .failure = {}});
  {
    std::vector<std::jthread> threads;
    for (auto& deploy : deploys)
      threads.emplace_back([&] { put_graph(deploy, options, headers, spec.name, spec.yaml_text); });
  }

  std::size_t deployed = 0;
  for (const auto& deploy : deploys) {
    const std::string& where = deploy.node.text;
    if (!deploy.answer) {
      std::cerr << where << ": failed: " << deploy.failure << '\n';
      continue;
    }
    const unsigned status = deploy.answer->status;
    if (status == 200 || status == 201) {
      ++deployed;
      std::cout << where << ": " << status << " deployed" << (status == 201 ? " (new)" : " (replaced)") << '\n';
      continue;
    }
    std::cerr << where << ": " << status << ' ' << deploy.answer->reason << '\n';
    print_refusal(deploy.answer->body, options.file);
    if (status == 401) std::cerr << "  (the node needs its admin token: --token-file)\n";
    if (status == 403) std::cerr << "  (the token's role is not admin on that node)\n";
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
  command->add_option("--nodes", options->nodes,
                      "the nodes' URLs, comma-separated or repeated (http://HOST:PORT or https://HOST:PORT)")
      ->required()
      ->delimiter(',')
      ->allow_extra_args(false);  // `--nodes A,B g.yaml`: g.yaml is the file
  add_plugin_dirs_option(*command, options->plugin_dirs);
  command->add_option("--token-file", options->token_file, "file that holds the nodes' admin token (its first word; the server's own token file works too)")
      ->check(CLI::ExistingFile);
  command->add_option("--timeout", options->timeout_seconds,
                      "seconds to wait for each node (a deploy drains the graph's previous version)")
      ->check(at_least_one)
      ->capture_default_str();
  command->add_option("--tls-ca-file", options->tls.ca_file, "https nodes: PEM bundle of the CAs to trust instead of the system's")
      ->check(CLI::ExistingFile);
  command->add_option("--tls-client-cert", options->tls.client_cert, "https nodes: PEM certificate to present")
      ->check(CLI::ExistingFile);
  command->add_option("--tls-client-key", options->tls.client_key, "https nodes: PEM private key of --tls-client-cert")
      ->check(CLI::ExistingFile);
  command->add_flag("--tls-no-verify", [options](std::int64_t) { options->tls.verify = false; },
                    "https nodes: accept any certificate (only for tests and trusted networks)");
  command->callback([options] { set_exit_code(deploy(*options)); });
}

}  // namespace sluice::cli
