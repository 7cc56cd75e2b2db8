// The server's lifecycle under traffic: redeploys (by PUT and by a replaced plugin file) while
// clients submit and read stats. Each redeploy drains the old version of the graph on one
// thread while HTTP threads may still be handing packets to it.
#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "test_support.hpp"

using namespace rest_test;

namespace {

// dir/graphs/echo.yaml, and dir/plugins with the fixture package copied in (a directory of its
// own, which the tests change): returns the plugin file.
std::filesystem::path echo_with_own_plugins(const TempDir& dir) {
  write_file(dir.path / "graphs/echo.yaml", echo_graph);
  const auto plugins = dir.path / "plugins";
  std::filesystem::create_directories(plugins);
  const auto file = plugins / "librest_fixture.so";
  std::filesystem::copy_file(REST_FIXTURE_PLUGIN, file);
  return file;
}

}  // namespace

TEST_CASE("redeploys by PUT and by plugin replacement under POSTs and stats: nothing lost, nothing refused") {
  TempDir dir;
  const auto plugins = echo_with_own_plugins(dir).parent_path();
  ServerProcess server(dir, {"--plugins", plugins.string()});

  std::atomic<bool> running{true};
  std::atomic<int> accepted{0}, refused{0}, stats_read{0};
  std::vector<std::string> streams[3];
  std::vector<std::thread> clients;
  for (auto& mine : streams)
    clients.emplace_back([&, &mine = mine] {
      HttpConnection connection(server.port());
      while (running) {
        const auto r = connection.request("POST", "/v1/graphs/echo/packets", R"({"n": 1})", json_type);
        if (r.status != 202) {
          ++refused;
          MESSAGE("POST answered " << r.status << ": " << r.body);
          continue;
        }
        ++accepted;
        mine.push_back(r.json().get("stream")->as_string());
      }
    });
  clients.emplace_back([&] {
    HttpConnection connection(server.port());
    while (running) {
      const auto r = connection.request("GET", "/v1/graphs/echo/stats");
      if (r.status == 200) ++stats_read;
    }
  });

  HttpConnection admin(server.port());
  int redeploys = 0, replacements = 0;
  for (; redeploys < 600; ++redeploys) {
    const auto r = admin.request("PUT", "/v1/graphs/echo", echo_graph, {{"Content-Type", "application/yaml"}});
    REQUIRE_MESSAGE(r.status / 100 == 2, r.body);
    if (redeploys % 60 == 0) {
      // Alternate the two builds of the plugin, renamed over the file the server watches.
      const char* build = replacements++ % 2 == 0 ? REST_FIXTURE_PLUGIN_V2 : REST_FIXTURE_PLUGIN;
      std::filesystem::copy_file(build, plugins / "librest_fixture.so.new",
                                 std::filesystem::copy_options::overwrite_existing);
      std::filesystem::rename(plugins / "librest_fixture.so.new", plugins / "librest_fixture.so");
    }
  }
  running = false;
  for (auto& client : clients) client.join();
  MESSAGE(redeploys << " PUTs, " << replacements << " plugin replacements, " << accepted.load()
                    << " POSTs accepted, " << stats_read.load() << " stats reads");
  CHECK(refused == 0);
  CHECK(accepted > 0);
  CHECK(stats_read > 0);
  // The newest streams of each client (older ones may have left the server's bounded history).
  for (const auto& mine : streams)
    for (std::size_t i = mine.size() > 1000 ? mine.size() - 1000 : 0; i < mine.size(); ++i)
      REQUIRE_MESSAGE(wait_until([&] { return stream_status(server.port(), mine[i]) == "done"; }, 20s),
                      "stream " << mine[i] << " is " << stream_status(server.port(), mine[i]));
  CHECK(server.stop() == 0);
}

TEST_CASE("every plugin added, replaced, rejected and removed is logged with its path, package and version") {
  TempDir dir;
  const auto file = echo_with_own_plugins(dir);
  const auto plugins = file.parent_path();
  ServerProcess server(dir, {"--plugins", plugins.string()});
  const auto logged = [&](const std::string& line) {
    return wait_until([&] { return server.stderr_text().find(line) != std::string::npos; }, 15s);
  };
  CHECK(logged("info  plugin added: " + file.string() + " (package rest_fixture 1.0.0: rest_pass, "));

  std::filesystem::copy_file(REST_FIXTURE_PLUGIN_V2, plugins / "librest_fixture.so.new");
  std::filesystem::rename(plugins / "librest_fixture.so.new", file);
  CHECK(logged("info  plugin replaced: " + file.string() +
               " (package rest_fixture 1.0.0 -> rest_fixture 2.0.0); the graphs using it are redeployed"));

  write_file(plugins / "libnot_a_plugin.so", "just text");
  CHECK(logged("warn  plugin rejected: " + (plugins / "libnot_a_plugin.so").string() + ": "));

  std::filesystem::remove(file);
  CHECK(logged("info  plugin removed: " + file.string() + " (package rest_fixture 2.0.0)"));
  CHECK(server.stop() == 0);
  // One line per event: a file rejected once is not logged again at every rescan.
  const std::string log = server.stderr_text();
  std::size_t rejections = 0;
  for (auto at = log.find("plugin rejected: "); at != std::string::npos; at = log.find("plugin rejected: ", at + 1))
    ++rejections;
  CHECK(rejections == 1);
}

TEST_CASE("the port opens before the plugins are loaded: /readyz and the graph routes answer 503 until then") {
  TempDir dir;
  const auto plugins = echo_with_own_plugins(dir).parent_path();
  // Its probe runs until --plugin-load-timeout: the time the server is starting.
  std::filesystem::copy_file(FIXTURE_HANG, plugins / "libfixture_hang.so");
  ServerProcess server(dir, {"--plugins", plugins.string(), "--plugin-load-timeout", "8s"},
                       ServerProcess::Until::port_open);

  CHECK(http(server.port(), "GET", "/healthz").status == 200);
  const HttpResult starting = http(server.port(), "GET", "/readyz");
  CHECK(starting.status == 503);
  CHECK(starting.json()["starting"].as_bool());
  const HttpResult early = http(server.port(), "POST", "/v1/graphs/echo/packets?wait=true", R"({"a": 1})",
                                {{"Content-Type", "application/json"}});
  CHECK(early.status == 503);
  CHECK(early.header("retry-after") == "1");
  CHECK(early.body.find("the server is starting") != std::string::npos);
  CHECK(http(server.port(), "PUT", "/v1/graphs/other", echo_graph).status == 503);
  CHECK(server.stdout_text().find("listening on") == std::string::npos);  // all of the above came first

  REQUIRE(server.wait_for_stdout("listening on", 30s));
  INFO(server.stdout_text() << server.stderr_text());
  const HttpResult ready = http(server.port(), "GET", "/readyz");
  CHECK(ready.status == 200);
  CHECK_FALSE(ready.json()["starting"].as_bool());
  CHECK(http(server.port(), "POST", "/v1/graphs/echo/packets?wait=true", R"({"a": 1})",
             {{"Content-Type", "application/json"}})
            .status == 200);
  const std::string plugins_json = http(server.port(), "GET", "/v1/plugins").body;
  CHECK(plugins_json.find("libfixture_hang.so") != std::string::npos);
  CHECK(server.stop() == 0);
}

TEST_CASE("a graph whose plugin file is removed is degraded, keeps running, and says which build each node runs") {
  TempDir dir;
  const auto file = echo_with_own_plugins(dir);
  const auto plugins = file.parent_path();
  ServerProcess server(dir, {"--plugins", plugins.string()});
  const auto post = [&] {
    return http(server.port(), "POST", "/v1/graphs/echo/packets?wait=true", R"({"a": 1})",
                {{"Content-Type", "application/json"}});
  };
  // GET /v1/graphs's entry for echo (null when it is not listed).
  const auto listed = [&] {
    sluice::Value list = http(server.port(), "GET", "/v1/graphs").json();
    for (auto& entry : list["graphs"].as_array())
      if (entry["name"].as_string() == "echo") return entry;
    return sluice::Value();
  };
  const auto graph_state = [&] {
    sluice::Value entry = listed();
    return entry.is_null() ? std::string("absent") : entry["state"].as_string();
  };

  // Which build: the package, its version and the hash of the file loaded.
  std::string hash;
  sluice::Value registry = http(server.port(), "GET", "/v1/plugins").json();
  for (auto& package : registry["packages"].as_array())
    if (package["name"].as_string() == "rest_fixture") hash = package["hash"].as_string();
  CHECK(hash.size() == 32);
  const HttpResult document = http(server.port(), "GET", "/v1/graphs/echo", {}, {{"Accept", "application/json"}});
  sluice::Value status = document.json()["status"];
  CHECK(status["state"].as_string() == "running");
  sluice::Value pass = status["nodes"]["pass"];
  CHECK(pass["package"].as_string() == "rest_fixture");
  CHECK(pass["version"].as_string() == "1.0.0");
  CHECK(pass["hash"].as_string() == hash);
  CHECK(pass["file"].as_string() == file.string());
  CHECK_FALSE(pass["missing"].as_bool());
  sluice::Value first_stats = http(server.port(), "GET", "/v1/graphs/echo/stats").json();
  CHECK(first_stats["nodes"][0]["plugin"]["hash"].as_string() == hash);
  // The document GET sends, status and all, can be PUT back.
  CHECK(http(server.port(), "PUT", "/v1/graphs/echo", document.body, {{"Content-Type", "application/json"}}).status ==
        200);
  CHECK(graph_state() == "running");

  std::filesystem::remove(file);
  REQUIRE(wait_until([&] { return graph_state() == "degraded"; }, 15s));
  CHECK(wait_until([&] {
    return server.stderr_text().find("graph \"echo\" is degraded: no loaded plugin offers \"rest_collect\", "
                                     "\"rest_pass\" any more") != std::string::npos;
  }, 15s));
  CHECK(sluice::json::to_string(listed()["missing"]) == R"(["rest_collect","rest_pass"])");
  sluice::Value stats = http(server.port(), "GET", "/v1/graphs/echo/stats").json();
  CHECK(stats["state"].as_string() == "degraded");
  CHECK(stats["nodes"][0]["missing"].as_bool());
  CHECK(http(server.port(), "GET", "/metrics").body.find("sluice_graph_degraded{graph=\"echo\"} 1") !=
        std::string::npos);
  // It keeps running on the build it loaded.
  CHECK(post().status == 200);

  // The plugin back: redeployed, running again.
  std::filesystem::copy_file(REST_FIXTURE_PLUGIN, plugins / "librest_fixture.so.new");
  std::filesystem::rename(plugins / "librest_fixture.so.new", file);
  CHECK(wait_until([&] { return graph_state() == "running"; }, 15s));
  CHECK(http(server.port(), "GET", "/metrics").body.find("sluice_graph_degraded{graph=\"echo\"} 0") !=
        std::string::npos);
  CHECK(post().status == 200);
  CHECK(server.stop() == 0);
}
