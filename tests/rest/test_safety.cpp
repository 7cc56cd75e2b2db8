// What keeps a server on its port safe by default (docs/security.md): the Host and Origin a
// browser sends, the refusal to serve other machines without a token, files only inside the
// data root, secrets never shown, stream ids nobody can guess.
#include <sys/wait.h>

#include <cstdlib>

#include "test_support.hpp"

using namespace rest_test;

namespace {

// One raw request with the given Host header (the client's http() always sends 127.0.0.1).
HttpResult with_host(std::uint16_t port, std::string_view host) {
  HttpConnection connection(port);
  connection.send_raw("GET /healthz HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n");
  return connection.read_response();
}

// The fixture plugins and the bundled publishers (jsonl_file, http).
std::vector<std::string> with_publishers(std::vector<std::string> args = {}) {
  args.insert(args.begin(), {"--plugins", REST_FIXTURE_PLUGIN_DIR, "--plugins", PUBLISH_PLUGIN_DIR});
  return args;
}

std::string file_graph(const std::string& name, const std::string& path) {
  return "name: " + name + "\nnodes:\n  out: { component: jsonl_file, params: { path: \"" + path + "\" } }\n";
}

const Headers yaml_type = {{"Content-Type", "application/yaml"}};

}  // namespace

TEST_CASE("a Host that is not a loopback name, the listen address or an --allowed-host gets 421") {
  TempDir dir;
  ServerProcess server(dir, {"--allowed-host", "sluice.example"});
  const std::uint16_t port = server.port();
  const std::string port_text = std::to_string(port);

  const HttpResult rebound = with_host(port, "evil.example:" + port_text);
  REQUIRE(rebound.status == 421);
  CHECK(rebound.json().get("host")->as_string() == "evil.example:" + port_text);
  CHECK(rebound.json().get("error")->as_string().find("--allowed-host") != std::string::npos);
  CHECK(with_host(port, "10.1.2.3").status == 421);

  for (const std::string& host : std::vector<std::string>{"127.0.0.1", "127.0.0.1:" + port_text, "localhost", "LocalHost:" + port_text,
                                 "[::1]:" + port_text, "sluice.example", "sluice.example:443"})
    CHECK_MESSAGE(with_host(port, host).status == 200, host);
  CHECK(server.stop() == 0);
}

TEST_CASE("a state-changing request from a foreign Origin is refused; the own origin and --allow-origin pass") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir, {"--allow-origin", "https://ui.example"});
  const std::uint16_t port = server.port();
  auto post = [&](Headers headers) {
    headers.insert(headers.end(), json_type.begin(), json_type.end());
    return http(port, "POST", "/v1/graphs/echo/packets?wait=true", R"({"x": 1})", headers);
  };
  auto packets_in = [&] {
    const sluice::Value stats = http(port, "GET", "/v1/graphs/echo/stats").json();
    for (const auto& node : stats.get("nodes")->as_array())
      if (node.get("node")->as_string() == "pass") return node.get("in")->as_int();
    return std::int64_t{-1};
  };

  const HttpResult foreign = post({{"Origin", "http://evil.example"}});
  REQUIRE(foreign.status == 403);
  CHECK(foreign.json().get("origin")->as_string() == "http://evil.example");
  CHECK(http(port, "DELETE", "/v1/graphs/echo", {}, {{"Origin", "http://evil.example"}}).status == 403);
  CHECK(http(port, "PUT", "/v1/graphs/echo", echo_graph, {{"Origin", "null"}}).status == 403);
  CHECK(post({{"Sec-Fetch-Site", "cross-site"}}).status == 403);
  CHECK(packets_in() == 0);  // nothing refused reached the graph

  // The editor's own page (Origin = the Host it was loaded from), and no Origin at all (curl).
  CHECK(post({{"Origin", "http://127.0.0.1"}}).status == 200);
  CHECK(post({{"Sec-Fetch-Site", "same-origin"}}).status == 200);
  CHECK(post({}).status == 200);

  // An --allow-origin: its preflight is answered, its requests carry CORS headers.
  const HttpResult preflight = http(port, "OPTIONS", "/v1/graphs/echo/packets", {},
                                    {{"Origin", "https://ui.example"},
                                     {"Access-Control-Request-Method", "POST"},
                                     {"Access-Control-Request-Headers", "content-type"}});
  CHECK(preflight.status == 204);
  CHECK(preflight.header("access-control-allow-origin") == "https://ui.example");
  CHECK(preflight.header("access-control-allow-methods").value_or("").find("POST") != std::string::npos);
  CHECK(preflight.header("access-control-allow-headers").value_or("").find("Content-Type") != std::string::npos);
  const HttpResult allowed = post({{"Origin", "https://ui.example"}});
  CHECK(allowed.status == 200);
  CHECK(allowed.header("access-control-allow-origin") == "https://ui.example");
  CHECK(allowed.header("vary") == "Origin");
  CHECK(http(port, "OPTIONS", "/v1/graphs/echo/packets", {},
             {{"Origin", "http://evil.example"}, {"Access-Control-Request-Method", "POST"}})
            .status == 403);
  CHECK(packets_in() == 4);
  CHECK(server.stop() == 0);
}

TEST_CASE("listening beyond loopback without a token refuses to start unless --insecure") {
  TempDir dir;
  // Under a deadline: a server that does start would otherwise run on.
  const std::string command = "timeout 20 " + std::string(SLUICE_EXE) + " serve --listen 0.0.0.0:0 --graphs " +
                              (dir.path / "graphs").string() + " --plugins " + REST_FIXTURE_PLUGIN_DIR + " 2>" +
                              (dir.path / "err").string();
  const int status = std::system(command.c_str());
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK(read_file(dir.path / "err").find("give --token-file FILE, or --insecure") != std::string::npos);
}

TEST_CASE("graphs write files only inside the data root: `..`, absolute paths and symlinks out are 422") {
  TempDir dir;
  const auto data = dir.path / "var/data";  // the default: var/ beside the graphs directory
  const auto outside = dir.path / "outside";
  std::filesystem::create_directories(data);
  std::filesystem::create_directories(outside);
  std::filesystem::create_directories(dir.path / "opened");
  std::filesystem::create_directory_symlink(outside, data / "link");
  ServerProcess server(dir, with_publishers({"--allow-path", (dir.path / "opened").string()}));
  const std::uint16_t port = server.port();

  for (const std::string& path : std::vector<std::string>{"../../escape.jsonl", (outside / "escape.jsonl").string(), "link/escape.jsonl",
                                 (dir.path / "graphs/escape.jsonl").string()}) {
    const HttpResult refused = http(port, "PUT", "/v1/graphs/writer", file_graph("writer", path), yaml_type);
    REQUIRE_MESSAGE(refused.status == 422, path);
    const sluice::Value error = refused.json();
    CHECK(error.get("graph")->as_string() == "writer");
    const std::string message = error.get("errors")->as_array().at(0).get("message")->as_string();
    CHECK_MESSAGE(message.find("node 'out': param 'path': '" + path + "' resolves to ") == 0, message);
    CHECK(message.find("outside the directories files may be in (" + std::filesystem::canonical(data).string()) !=
          std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(dir.path / "escape.jsonl"));
  CHECK_FALSE(std::filesystem::exists(outside / "escape.jsonl"));
  CHECK(http(port, "GET", "/v1/graphs/writer").status == 404);

  // Inside: relative to the data root. And a directory the operator opened with --allow-path.
  REQUIRE(http(port, "PUT", "/v1/graphs/writer", file_graph("writer", "out/w.jsonl"), yaml_type).status == 201);
  CHECK(http(port, "POST", "/v1/graphs/writer/packets", R"({"n": 7})", json_type).status == 202);
  CHECK(wait_until([&] { return std::filesystem::exists(data / "out/w.jsonl") && read_file(data / "out/w.jsonl") == "{\"n\":7}\n"; },
                   std::chrono::seconds(10)));
  CHECK(http(port, "PUT", "/v1/graphs/opened", file_graph("opened", (dir.path / "opened/o.jsonl").string()), yaml_type)
            .status == 201);
  CHECK(server.stop() == 0);
}

TEST_CASE("--data-dir moves the data root: relative paths land there, the default root is then outside") {
  TempDir dir;
  const auto data = dir.path / "elsewhere/data";
  ServerProcess server(dir, with_publishers({"--data-dir", data.string()}));
  CHECK(server.stdout_text().find("graphs read and write files in " + data.string()) != std::string::npos);
  REQUIRE(http(server.port(), "PUT", "/v1/graphs/writer", file_graph("writer", "w.jsonl"), yaml_type).status == 201);
  CHECK(http(server.port(), "POST", "/v1/graphs/writer/packets", R"({"n": 1})", json_type).status == 202);
  CHECK(wait_until([&] { return std::filesystem::exists(data / "w.jsonl") && read_file(data / "w.jsonl") == "{\"n\":1}\n"; },
                   std::chrono::seconds(10)));
  CHECK(http(server.port(), "PUT", "/v1/graphs/writer", file_graph("writer", (dir.path / "var/data/w.jsonl").string()),
             yaml_type)
            .status == 422);
  CHECK(server.stop() == 0);
}

TEST_CASE("secret params: ${env:} references resolve at deploy; GET never shows a literal secret") {
  TempDir dir;
  ::setenv("SLUICE_REST_TEST_TOKEN", "t0ken-from-env", 1);
  ServerProcess server(dir, with_publishers());
  const std::uint16_t port = server.port();
  const std::string graph = R"(name: hook
nodes:
  send:
    component: http
    params:
      url: http://127.0.0.1:9/
      headers: {Authorization: "Bearer ${env:SLUICE_REST_TEST_TOKEN}", X-Api-Key: hunter2}
)";
  REQUIRE(http(port, "PUT", "/v1/graphs/hook", graph, yaml_type).status == 201);
  const HttpResult as_json = http(port, "GET", "/v1/graphs/hook");
  CHECK(as_json.body.find("hunter2") == std::string::npos);
  CHECK(as_json.body.find("t0ken-from-env") == std::string::npos);
  const sluice::Value shown = as_json.json();
  const sluice::Value* headers = shown.get("nodes")->get("send")->get("params")->get("headers");
  CHECK(headers->get("Authorization")->as_string() == "Bearer ${env:SLUICE_REST_TEST_TOKEN}");
  CHECK(headers->get("X-Api-Key")->as_string() == "***");
  const HttpResult as_yaml = http(port, "GET", "/v1/graphs/hook", {}, {{"Accept", "application/yaml"}});
  CHECK(as_yaml.status == 200);
  CHECK(as_yaml.body.find("hunter2") == std::string::npos);
  CHECK(as_yaml.body.find("\"X-Api-Key\": \"***\"") != std::string::npos);

  // What GET showed, sent back, is refused rather than deployed with "***" as the key.
  const HttpResult echoed = http(port, "PUT", "/v1/graphs/hook", as_json.body, json_type);
  CHECK(echoed.status == 422);
  CHECK(echoed.body.find("which is how a secret is shown") != std::string::npos);
  const HttpResult unset = http(port, "PUT", "/v1/graphs/hook",
                                R"({"nodes": {"send": {"component": "http", "params": {"url": "http://127.0.0.1:9/", "headers": {"A": "${env:SLUICE_REST_NO_SUCH}"}}}}})",
                                json_type);
  CHECK(unset.status == 422);
  CHECK(unset.body.find("no environment variable SLUICE_REST_NO_SUCH") != std::string::npos);
  CHECK(server.stop() == 0);
}

TEST_CASE("stream ids are 128 random bits, not a prefix and a counter") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir);
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    const HttpResult accepted = http(server.port(), "POST", "/v1/graphs/echo/packets", "{}", json_type);
    REQUIRE(accepted.status == 202);
    ids.push_back(accepted.json().get("stream")->as_string());
  }
  for (const auto& id : ids) {
    CHECK(id.size() == 32);
    CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
  }
  std::size_t shared = 0;
  while (shared < ids[0].size() && ids[0][shared] == ids[1][shared]) ++shared;
  CHECK(shared < 8);  // two random ids share 8 leading hex digits once in 4 billion
  CHECK(server.stop() == 0);
}
