// Graph management over REST: validate, deploy, persist, read back, remove; the graphs
// directory at start and as its files change (and on SIGHUP); bearer tokens; the editor's static
// files.
#include <sys/wait.h>

#include <algorithm>
#include <tuple>

#include "test_support.hpp"

using namespace rest_test;

TEST_CASE("PUT validates (422 with line and column), deploys, persists; data flows; DELETE removes") {
  TempDir dir;
  ServerProcess server(dir);
  const std::uint16_t port = server.port();
  const Headers yaml = {{"Content-Type", "application/yaml"}};

  const std::string broken = "name: fresh\nnodes:\n  a: { component: rest_pas }\n  b: { component: rest_collect }\npipeline: [a, b]\n";
  const auto invalid = http(port, "PUT", "/v1/graphs/fresh", broken, yaml);
  REQUIRE(invalid.status == 422);
  const sluice::Value error = invalid.json();
  CHECK(error.get("error")->as_string() == "invalid graph");
  const auto& errors = error.get("errors")->as_array();
  REQUIRE_FALSE(errors.empty());
  CHECK(errors[0].get("line")->as_int() == 3);
  CHECK(errors[0].get("column")->as_int() > 0);
  CHECK(errors[0].get("message")->as_string().find("rest_pass") != std::string::npos);  // did you mean
  CHECK_FALSE(std::filesystem::exists(dir.path / "graphs/fresh.yaml"));

  const auto mismatch = http(port, "PUT", "/v1/graphs/other", echo_graph, yaml);
  CHECK(mismatch.status == 422);

  const auto created = http(port, "PUT", "/v1/graphs/echo", echo_graph, yaml);
  REQUIRE(created.status == 201);
  CHECK(created.header("location") == "/v1/graphs/echo");
  CHECK(read_file(dir.path / "graphs/echo.yaml") == echo_graph);

  const auto flowed = http(port, "POST", "/v1/graphs/echo/packets?wait=true", R"({"x": 1})", json_type);
  REQUIRE(flowed.status == 200);
  CHECK(flowed.json().get("results")->as_array().at(0).get("passed")->as_bool());

  // JSON in, no name: the URL names it; served back as YAML (the text sent) or JSON.
  const std::string json_graph =
      R"({"nodes": {"p": {"component": "rest_pass"}, "c": {"component": "rest_collect"}}, "edges": [{"from": "p", "to": "c"}]})";
  const auto from_json = http(port, "PUT", "/v1/graphs/second", json_graph, json_type);
  REQUIRE(from_json.status == 201);
  const auto as_json = http(port, "GET", "/v1/graphs/second");
  CHECK(as_json.json().get("name")->as_string() == "second");
  CHECK(as_json.json().get("nodes")->get("p")->get("component")->as_string() == "rest_pass");
  const auto as_yaml = http(port, "GET", "/v1/graphs/echo", {}, {{"Accept", "application/yaml"}});
  CHECK(as_yaml.header("content-type") == "application/yaml");
  CHECK(as_yaml.body == echo_graph);

  const auto replaced = http(port, "PUT", "/v1/graphs/echo", echo_graph, yaml);
  CHECK(replaced.status == 200);
  const auto listed = http(port, "GET", "/v1/graphs").json();
  CHECK(listed.get("graphs")->as_array().size() == 2);

  CHECK(http(port, "DELETE", "/v1/graphs/echo").status == 204);
  CHECK_FALSE(std::filesystem::exists(dir.path / "graphs/echo.yaml"));
  CHECK(http(port, "GET", "/v1/graphs/echo").status == 404);
  CHECK(http(port, "DELETE", "/v1/graphs/echo").status == 404);
  CHECK(server.stop() == 0);

  // What was PUT is there after a restart.
  ServerProcess again(dir);
  CHECK(http(again.port(), "GET", "/v1/graphs/second").status == 200);
  CHECK(again.stop() == 0);
}

TEST_CASE("PUT answers every error in one 422, those only constructing finds too, each naming its node and param") {
  TempDir dir;
  ServerProcess server(dir);
  // Two regexes that pass the param table but not the constructor, beside errors the table and
  // the graph's shape find: none of them hides another.
  const std::string graph =
      "name: many\n"
      "nodes:\n"
      "  first: { component: rest_match, params: { pattern: \"(\" } }\n"
      "  second: { component: rest_match, params: { pattern: \"[a\" } }\n"
      "  slow: { component: rest_slow, params: { ms: -5 } }\n"
      "  typo: { component: rest_pas }\n"
      "  sink: { component: rest_collect }\n"
      "edges:\n"
      "  - first -> second\n"
      "  - second -> slow\n"
      "  - slow -> typo\n"
      "  - typo -> sink\n"
      "  - sink -> nowhere\n";
  const auto answer = http(server.port(), "PUT", "/v1/graphs/many", graph, {{"Content-Type", "application/yaml"}});
  REQUIRE(answer.status == 422);
  const sluice::Value body = answer.json();
  CHECK(body.get("graph")->as_string() == "many");
  std::vector<std::tuple<std::string, std::string, std::size_t, std::string>> got;  // node, param, line, message
  for (const auto& e : body.get("errors")->as_array())
    got.emplace_back(e.get("node") ? e.get("node")->as_string() : "", e.get("param") ? e.get("param")->as_string() : "",
                     e.get("line")->as_int(), e.get("message")->as_string());
  std::sort(got.begin(), got.end(), [](const auto& a, const auto& b) { return std::get<2>(a) < std::get<2>(b); });
  REQUIRE(got.size() == 5);
  auto check = [&](std::size_t i, const std::string& node, const std::string& param, std::size_t line,
                   const std::string& says) {
    CAPTURE(std::get<3>(got[i]));
    CHECK(std::get<0>(got[i]) == node);
    CHECK(std::get<1>(got[i]) == param);
    CHECK(std::get<2>(got[i]) == line);
    CHECK(std::get<3>(got[i]).find(says) != std::string::npos);
  };
  check(0, "first", "pattern", 3, "node 'first': rest_match failed to start: param 'pattern': not a regular expression");
  check(1, "second", "pattern", 4, "node 'second': rest_match failed to start: param 'pattern'");
  check(2, "slow", "ms", 5, "node 'slow'");
  check(3, "typo", "", 6, "unknown component 'rest_pas' (did you mean 'rest_pass'?)");
  check(4, "", "", 13, "unknown node 'nowhere'");
  CHECK(http(server.port(), "GET", "/v1/graphs/many").status == 404);
  CHECK(server.stop() == 0);
}

TEST_CASE("a graph file with errors is reported with file:line:col and skipped; the server starts") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  write_file(dir.path / "graphs/broken.yaml", "name: broken\nnodes:\n  a: { component: nowhere }\npipeline: [a]\n");
  ServerProcess server(dir);
  CHECK(server.stderr_text().find("broken.yaml:3:") != std::string::npos);
  CHECK(http(server.port(), "GET", "/v1/graphs/echo").status == 200);
  CHECK(http(server.port(), "GET", "/v1/graphs/broken").status == 404);
  CHECK(server.stdout_text().find("try: curl") != std::string::npos);
  CHECK(server.stop() == 0);
}

TEST_CASE("--token-file: every route needs a token whose role covers it; 401 without one, 403 below it") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  // A token may be given as its SHA-256 digest: the file need not hold that secret in the clear.
  // sha256sum of "hashed-data-token"
  write_file(dir.path / "tokens",
             "# token   role\n"
             "admin-token admin\n"
             "sha256:0ed0121009701c42e65f4b44dc2ff96f18e28b247f78f0935737911bab44f2f2 data\n"
             "reader-token read\n"
             "bare-token\n");
  ServerProcess server(dir, {"--token-file", (dir.path / "tokens").string(), "--open-route", "healthz"});

  struct Route {
    std::string method, path, body;
    int needed;  // 0 read, 1 data, 2 admin
  };
  const std::vector<Route> routes = {
      {"GET", "/readyz", "", 0},
      {"GET", "/metrics", "", 0},
      {"GET", "/v1/components", "", 0},
      {"GET", "/v1/plugins", "", 0},
      {"GET", "/v1/graphs", "", 0},
      {"GET", "/v1/graphs/echo", "", 0},
      {"GET", "/v1/graphs/echo/stats", "", 0},
      {"POST", "/v1/graphs/echo/packets", "{}", 1},
      {"GET", "/v1/streams/0123456789abcdef0123456789abcdef", "", 1},
      {"GET", "/v1/graphs/echo/dead-letters", "", 2},
      {"POST", "/v1/graphs/echo/dead-letters/replay", "", 2},
      {"PUT", "/v1/graphs/echo", echo_graph, 2},
  };
  const std::vector<std::pair<std::string, int>> tokens = {
      {"reader-token", 0}, {"hashed-data-token", 1}, {"admin-token", 2}, {"bare-token", 2}};
  for (const Route& route : routes) {
    CAPTURE(route.method);
    CAPTURE(route.path);
    Headers headers = json_type;
    const auto anonymous = http(server.port(), route.method, route.path, route.body, headers);
    CHECK(anonymous.status == 401);
    CHECK(anonymous.header("www-authenticate").value_or("").find("Bearer") == 0);
    headers.emplace_back("Authorization", "Bearer not-a-token");
    CHECK(http(server.port(), route.method, route.path, route.body, headers).status == 401);
    for (const auto& [token, role] : tokens) {
      CAPTURE(token);
      headers.back().second = "bearer " + token;
      const auto answer = http(server.port(), route.method, route.path, route.body, headers);
      if (role < route.needed) {
        CHECK(answer.status == 403);
        CHECK(answer.json().get("error")->as_string().find("role") != std::string::npos);
      } else {
        CHECK(answer.status != 401);
        CHECK(answer.status != 403);
        CHECK(answer.status < 500);
      }
    }
  }
  // The route opened with --open-route answers everyone; the editor's static files need no token.
  CHECK(http(server.port(), "GET", "/healthz").status == 200);
  CHECK(server.stop() == 0);
}

namespace {

// Runs `sluice serve ARGS` in `dir`, which must refuse to start: its exit status and stderr.
std::pair<int, std::string> refused_start(const TempDir& dir, const std::string& args) {
  // Under a deadline: a server that does start would otherwise run on.
  const std::string command = "cd " + dir.path.string() + " && timeout 20 " + std::string(SLUICE_EXE) +
                              " serve --listen 127.0.0.1:0 " + args + " 2>err";
  const int status = std::system(command.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(dir.path / "err")};
}

}  // namespace

TEST_CASE("--token-file: a bad line stops the start and names the file and line") {
  TempDir dir;
  write_file(dir.path / "tokens", "good admin\nother superuser\n");
  auto [status, err] = refused_start(dir, "--token-file tokens");
  CHECK(status == 2);
  CHECK(err.find("tokens:2: unknown role 'superuser' (read, data or admin)") != std::string::npos);

  write_file(dir.path / "tokens", "sha256:abc data\n");
  std::tie(status, err) = refused_start(dir, "--token-file tokens");
  CHECK(status == 2);
  CHECK(err.find("tokens:1: sha256: must be followed by 64 hex digits") != std::string::npos);

  write_file(dir.path / "tokens", "# only a comment\n\n");
  std::tie(status, err) = refused_start(dir, "--token-file tokens");
  CHECK(status == 2);
  CHECK(err.find("no token in the file") != std::string::npos);

  std::tie(status, err) = refused_start(dir, "--open-route metrics");
  CHECK(status == 2);
  CHECK(err.find("--open-route needs --token-file") != std::string::npos);
}

TEST_CASE("--editor serves its static files at /") {
  TempDir dir;
  write_file(dir.path / "editor/index.html", "<!doctype html><title>editor</title>");
  write_file(dir.path / "editor/app.js", "console.log('hi');");
  ServerProcess server(dir, {"--editor", (dir.path / "editor").string()});
  const auto index = http(server.port(), "GET", "/");
  CHECK(index.status == 200);
  CHECK(index.header("content-type").value_or("").find("text/html") == 0);
  CHECK(index.body.find("editor") != std::string::npos);
  CHECK(http(server.port(), "GET", "/app.js").header("content-type").value_or("").find("javascript") != std::string::npos);
  CHECK(http(server.port(), "GET", "/../token").status == 404);
  CHECK(http(server.port(), "GET", "/v1/graphs").status == 200);  // the API still wins
  CHECK(server.stop() == 0);
}

TEST_CASE("a replaced plugin: the graphs using its components are redeployed with the new build") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  const auto plugins = dir.path / "plugins";
  std::filesystem::create_directories(plugins);
  std::filesystem::copy_file(REST_FIXTURE_PLUGIN, plugins / "librest_fixture.so");
  ServerProcess server(dir, {"--plugins", plugins.string()});

  auto version = [&] {
    const auto r = http(server.port(), "POST", "/v1/graphs/echo/packets?wait=true", "{}", json_type);
    return r.status == 200 ? r.json().get("results")->as_array().at(0).get("version")->as_string() : "";
  };
  REQUIRE(version() == "1.0.0");
  // Written beside, then renamed over: what a careful deploy tool does.
  std::filesystem::copy_file(REST_FIXTURE_PLUGIN_V2, plugins / "librest_fixture.so.new");
  std::filesystem::rename(plugins / "librest_fixture.so.new", plugins / "librest_fixture.so");
  CHECK(wait_until([&] { return version() == "2.0.0"; }, std::chrono::seconds(15)));
  CHECK(server.stop() == 0);
  CHECK(server.stderr_text().find("redeployed graph \"echo\" with the reloaded plugin") !=
        std::string::npos);
}

TEST_CASE("graph files edited in the graphs directory (or where a link there points) are deployed, redeployed and removed; SIGHUP rereads") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir);
  const std::uint16_t port = server.port();
  auto description = [&](const std::string& graph) {
    const auto r = http(port, "GET", "/v1/graphs/" + graph);
    if (r.status != 200) return std::string(r.status == 404 ? "(none)" : "(error)");
    const sluice::Value document = r.json();
    const sluice::Value* text = document.get("description");
    return text ? text->as_string() : std::string();
  };
  auto echo_described = [](const std::string& text) {
    std::string graph = echo_graph;
    graph.replace(graph.find("marks packets and hands them back"), 33, text);
    return graph;
  };
  constexpr auto deadline = std::chrono::seconds(15);

  write_file(dir.path / "graphs/second.yaml", slow_graph("second", 1));
  CHECK(wait_until([&] { return http(port, "GET", "/v1/graphs/second").status == 200; }, deadline));

  write_file(dir.path / "graphs/echo.yaml", echo_described("edited on disk"));
  CHECK(wait_until([&] { return description("echo") == "edited on disk"; }, deadline));
  CHECK(http(port, "POST", "/v1/graphs/echo/packets?wait=true", "{}", json_type).status == 200);

  // A broken edit is reported; the last good version keeps running.
  write_file(dir.path / "graphs/echo.yaml", "name: echo\nnodes:\n  a: { component: nowhere }\npipeline: [a]\n");
  CHECK(wait_until([&] { return server.stderr_text().find("echo.yaml:3:") != std::string::npos; }, deadline));
  CHECK(description("echo") == "edited on disk");

  std::filesystem::remove(dir.path / "graphs/second.yaml");
  CHECK(wait_until([&] { return description("second") == "(none)"; }, deadline));
  CHECK(wait_until([&] { return server.stderr_text().find("removed graph 'second' (its file is gone)") != std::string::npos; },
                   deadline));
  // The broken file was reread at that change, but its errors are not said twice.
  const std::string log = server.stderr_text();
  CHECK(log.find("echo.yaml:3:") == log.rfind("echo.yaml:3:"));

  // A graph file linked from elsewhere: its target's directory is watched too, so an edit
  // there (in place, or renamed over as editors do) is deployed; SIGHUP rereads as well.
  const auto linked = [&](const std::string& text) {
    return "name: linked\ndescription: " + text + "\n" + echo_graph.substr(echo_graph.find("nodes:"));
  };
  write_file(dir.path / "elsewhere/linked.yaml", linked("one"));
  std::filesystem::create_symlink(dir.path / "elsewhere/linked.yaml", dir.path / "graphs/linked.yaml");
  CHECK(wait_until([&] { return description("linked") == "one"; }, deadline));
  write_file(dir.path / "elsewhere/linked.yaml", linked("two"));
  CHECK(wait_until([&] { return description("linked") == "two"; }, deadline));
  write_file(dir.path / "elsewhere/.linked.yaml.swp", linked("three"));
  std::filesystem::rename(dir.path / "elsewhere/.linked.yaml.swp", dir.path / "elsewhere/linked.yaml");
  CHECK(wait_until([&] { return description("linked") == "three"; }, deadline));
  write_file(dir.path / "elsewhere/linked.yaml", linked("four"));
  REQUIRE(::kill(server.pid(), SIGHUP) == 0);
  CHECK(wait_until([&] { return description("linked") == "four"; }, deadline));
  CHECK(http(port, "GET", "/healthz").status == 200);
  CHECK(server.stop() == 0);
}

TEST_CASE("GET /v1/graphs/{g} has an ETag; PUT with a stale If-Match is 412 and changes nothing") {
  TempDir dir;
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  ServerProcess server(dir);
  const auto port = server.port();
  const Headers yaml = {{"Content-Type", "application/yaml"}};
  const auto opened = http(port, "GET", "/v1/graphs/echo");
  const auto tag = opened.header("etag");
  REQUIRE(tag);
  CHECK(tag->size() == 18);
  CHECK(http(port, "GET", "/v1/graphs/echo", {}, {{"Accept", "application/yaml"}}).header("etag") == tag);
  CHECK(http(port, "HEAD", "/v1/graphs/echo").header("etag") == tag);

  // Two editors opened the same version; the first saves, the second is refused.
  const std::string first = echo_graph + "# saved by the first\n";
  const auto saved = http(port, "PUT", "/v1/graphs/echo", first, {{"Content-Type", "application/yaml"}, {"If-Match", *tag}});
  REQUIRE_MESSAGE(saved.status == 200, saved.body);
  const auto new_tag = saved.header("etag");
  REQUIRE(new_tag);
  CHECK(new_tag != tag);
  CHECK(http(port, "GET", "/v1/graphs/echo").header("etag") == new_tag);
  const auto stale = http(port, "PUT", "/v1/graphs/echo", echo_graph + "# the second\n",
                          {{"Content-Type", "application/yaml"}, {"If-Match", *tag}});
  CHECK(stale.status == 412);
  CHECK(stale.json().get("etag")->as_string() == *new_tag);
  CHECK(http(port, "GET", "/v1/graphs/echo", {}, {{"Accept", "application/yaml"}}).body == first);
  CHECK(read_file(dir.path / "graphs/echo.yaml") == first);

  // Without If-Match a PUT overwrites, as before; * matches any version but none.
  CHECK(http(port, "PUT", "/v1/graphs/echo", echo_graph, yaml).status == 200);
  CHECK(http(port, "PUT", "/v1/graphs/echo", echo_graph, {{"Content-Type", "application/yaml"}, {"If-Match", "*"}}).status == 200);
  const std::string other = "name: other\nnodes:\n  out: { component: rest_collect }\n";
  CHECK(http(port, "PUT", "/v1/graphs/other", other, {{"Content-Type", "application/yaml"}, {"If-Match", "*"}}).status == 412);
  // If-None-Match: * creates, never replaces.
  CHECK(http(port, "PUT", "/v1/graphs/other", other, {{"Content-Type", "application/yaml"}, {"If-None-Match", "*"}}).status == 201);
  CHECK(http(port, "PUT", "/v1/graphs/other", other, {{"Content-Type", "application/yaml"}, {"If-None-Match", "*"}}).status == 412);
}

TEST_CASE("a node's ui block (the editor's layout) is kept by PUT, served by GET, and ignored by the runtime") {
  TempDir dir;
  ServerProcess server(dir);
  const std::string text = "name: placed\nnodes:\n  pass: { component: rest_pass, ui: { x: 40, y: -12 } }\n"
                           "  out: { component: rest_collect, ui: { x: 300, y: 0 } }\npipeline: [pass, out]\n";
  REQUIRE(http(server.port(), "PUT", "/v1/graphs/placed", text, {{"Content-Type", "application/yaml"}}).status == 201);
  const sluice::Value document = http(server.port(), "GET", "/v1/graphs/placed").json();
  CHECK(sluice::json::to_string(*document.get("nodes")->get("pass")->get("ui")) == R"({"x":40,"y":-12})");
  CHECK(http(server.port(), "GET", "/v1/graphs/placed", {}, {{"Accept", "application/yaml"}}).body == text);
  CHECK(read_file(dir.path / "graphs/placed.yaml") == text);
  const auto r = http(server.port(), "POST", "/v1/graphs/placed/packets?wait=true", R"({"n": 1})", json_type);
  REQUIRE(r.status == 200);
  CHECK(r.json().get("results")->as_array().size() == 1);
}
