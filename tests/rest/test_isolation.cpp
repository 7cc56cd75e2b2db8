// isolation: process against a real server: a component that crashes or hangs in its own
// host process costs the packet it had, never the server, its worker or another graph.
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <future>

#include "test_support.hpp"

using namespace rest_test;

namespace {

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// The fixture plugins plus `fixture`, and graphs `echo` and `graph_yaml`.
struct IsolationSetup {
  TempDir dir;
  std::filesystem::path plugins = dir.path / "plugins";
  std::filesystem::path fixture_file;

  IsolationSetup(const char* fixture, const std::string& file_name, const std::string& graph_name,
                 const std::string& graph_yaml)
      : fixture_file(plugins / file_name) {
    write_file(dir.path / "graphs/echo.yaml", echo_graph);
    write_file(dir.path / ("graphs/" + graph_name + ".yaml"), graph_yaml);
    std::filesystem::create_directories(plugins);
    std::filesystem::copy_file(REST_FIXTURE_PLUGIN, plugins / "librest_fixture.so");
    std::filesystem::copy_file(fixture, fixture_file);
  }
  // One worker: every graph shares it, so a stalled worker would show in the others.
  std::vector<std::string> args() const { return {"--plugins", plugins.string(), "--workers", "1"}; }
};

const std::string crashy_graph =
    "name: crashy\nnodes:\n  c: { component: fixture_segv, isolation: process }\n"
    "  out: { component: rest_collect }\npipeline: [c, out]\n";

sluice::Value node_stats(std::uint16_t port, const std::string& graph, std::size_t node) {
  return http(port, "GET", "/v1/graphs/" + graph + "/stats").json().get("nodes")->as_array().at(node);
}

bool process_exists(int pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

}  // namespace

TEST_CASE("isolation: process: a segfault in process() costs the packet it had; the server and other graphs serve on") {
  IsolationSetup setup(FIXTURE_SEGV_PROCESS, "libfixture_segv.so", "crashy", crashy_graph);
  ServerProcess server(setup.dir, setup.args());
  const auto crashed = http(server.port(), "POST", "/v1/graphs/crashy/packets?wait=true", R"({"address": 16})", json_type);
  REQUIRE(crashed.status == 200);
  const sluice::Value result = crashed.json();
  CHECK(result.get("status")->as_string() == "failed");
  const auto& errors = result.get("errors")->as_array();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].get("node")->as_string() == "crashy/c");
  const std::string message = errors[0].get("error")->as_string();
  CHECK_MESSAGE(contains(message, "was killed by signal SIGSEGV"), message);
  CHECK_MESSAGE(contains(message, setup.fixture_file.string()), message);
  CHECK(errors[0].get("packet")->get("address")->as_int() == 16);

  // The host is started again, and the next packet passes; the other graph never noticed.
  const auto next = http(server.port(), "POST", "/v1/graphs/crashy/packets?wait=true", R"({"n": 2})", json_type);
  REQUIRE(next.status == 200);
  CHECK(next.json().get("status")->as_string() == "done");
  CHECK(http(server.port(), "POST", "/v1/graphs/echo/packets?wait=true", "{}", json_type).status == 200);
  CHECK(http(server.port(), "GET", "/v1/graphs/crashy/dead-letters").json().get("count")->as_int() == 1);

  const sluice::Value stats = node_stats(server.port(), "crashy", 0);
  CHECK(stats.get("isolation")->as_string() == "process");
  const sluice::Value* host = stats.get("host");
  REQUIRE(host);
  CHECK(host->get("failures")->as_int() == 1);
  CHECK(host->get("state")->as_string() == "running");
  CHECK(contains(host->get("last_failure")->as_string(), "SIGSEGV"));
  const int pid = static_cast<int>(host->get("pids")->as_array().at(0).as_int());
  CHECK(pid > 0);
  CHECK(pid != server.pid());

  CHECK(server.stop() == 0);
  const std::string log = server.stderr_text();
  CHECK_MESSAGE(contains(log, "crashy/c: the host process of fixture_segv (" + setup.fixture_file.string() +
                                  ") was killed by signal SIGSEGV (Segmentation fault); it is started again"),
                log);
  // Hosts do not outlive their server.
  CHECK(wait_until([&] { return !process_exists(pid); }, 10s));
}

TEST_CASE("isolation: process: a process() that never returns is killed after the node's timeout; its worker serves meanwhile") {
  IsolationSetup setup(FIXTURE_ENDLESS, "libfixture_endless.so", "stuck",
                       "name: stuck\nnodes:\n  h: { component: fixture_endless, isolation: process, timeout: 1500ms }\n"
                       "  out: { component: rest_collect }\npipeline: [h, out]\n");
  ServerProcess server(setup.dir, setup.args());
  REQUIRE(http(server.port(), "POST", "/v1/graphs/stuck/packets?wait=true", "{}", json_type).status == 200);
  std::atomic<bool> answered{false};
  auto stuck = std::async(std::launch::async, [&] {
    auto response = http(server.port(), "POST", "/v1/graphs/stuck/packets?wait=true", R"({"hang": true})", json_type);
    answered = true;
    return response;
  });
  // While the host hangs, the one worker runs the other graph.
  CHECK(wait_until([&] { return node_stats(server.port(), "stuck", 0).get("in")->as_int() == 2; }, 10s));
  const auto echoed = http(server.port(), "POST", "/v1/graphs/echo/packets?wait=true", "{}", json_type);
  CHECK(echoed.status == 200);
  CHECK_FALSE(answered.load());  // the echo was answered while the stuck packet still waited

  const auto response = stuck.get();
  REQUIRE(response.status == 200);
  const sluice::Value result = response.json();
  CHECK(result.get("status")->as_string() == "failed");
  const std::string message = result.get("errors")->as_array().at(0).get("error")->as_string();
  CHECK_MESSAGE(contains(message, "went silent for 1500 ms (the node's timeout) and was killed"), message);
  // A new host takes the next packet.
  const auto after = http(server.port(), "POST", "/v1/graphs/stuck/packets?wait=true", R"({"n": 3})", json_type);
  REQUIRE(after.status == 200);
  CHECK(after.json().get("status")->as_string() == "done");
  CHECK(server.stop() == 0);
}

TEST_CASE("isolation: process: a host that keeps crashing makes its graph unready, not the server") {
  IsolationSetup setup(FIXTURE_SEGV_PROCESS, "libfixture_segv.so", "crashy", crashy_graph);
  ServerProcess server(setup.dir, setup.args());
  for (int i = 0; i < 3; ++i)
    REQUIRE(http(server.port(), "POST", "/v1/graphs/crashy/packets?wait=true", R"({"address": 16})", json_type).status == 200);

  const auto graph_ready = http(server.port(), "GET", "/readyz?graph=crashy");
  CHECK(graph_ready.status == 503);
  const sluice::Value problem = graph_ready.json().get("nodes")->as_array().at(0);
  CHECK(problem.get("node")->as_string() == "c");
  CHECK(problem.get("state")->as_string() == "crash_looping");
  CHECK(contains(problem.get("reason")->as_string(), "SIGSEGV"));
  CHECK(http(server.port(), "GET", "/readyz?graph=echo").status == 200);
  const auto ready = http(server.port(), "GET", "/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.json().get("graphs_not_ready")->get("crashy"));
  CHECK(node_stats(server.port(), "crashy", 0).get("host")->get("state")->as_string() == "crash_looping");
  CHECK(http(server.port(), "GET", "/readyz?graph=nope").status == 404);

  // One packet through, and the graph is ready again.
  REQUIRE(http(server.port(), "POST", "/v1/graphs/crashy/packets?wait=true", "{}", json_type).status == 200);
  CHECK(http(server.port(), "GET", "/readyz?graph=crashy").status == 200);
  CHECK(contains(http(server.port(), "GET", "/metrics").body,
                 "sluice_node_host_failures_total{graph=\"crashy\",node=\"c\",component=\"fixture_segv\"} 3"));
  CHECK(server.stop() == 0);
}

TEST_CASE("in the kernel's process, a process() that never returns shows as stalled; SIGTERM still ends the server") {
  IsolationSetup setup(FIXTURE_ENDLESS, "libfixture_endless.so", "stuck",
                       "name: stuck\nnodes:\n  h: { component: fixture_endless, timeout: 1s }\n"
                       "  out: { component: rest_collect }\npipeline: [h, out]\n");
  auto args = setup.args();
  args.insert(args.end(), {"--drain-timeout", "2s"});
  ServerProcess server(setup.dir, args);
  REQUIRE(http(server.port(), "POST", "/v1/graphs/stuck/packets?wait=true", "{}", json_type).status == 200);
  CHECK(http(server.port(), "GET", "/readyz").status == 200);
  CHECK_FALSE(node_stats(server.port(), "stuck", 0).get("stalled")->as_bool());

  REQUIRE(http(server.port(), "POST", "/v1/graphs/stuck/packets", R"({"hang": true})", json_type).status == 202);
  CHECK(wait_until([&] { return http(server.port(), "GET", "/readyz").status == 503; }, 10s));
  const sluice::Value ready = http(server.port(), "GET", "/readyz").json();
  CHECK(ready.get("stalled")->as_bool());
  const sluice::Value problem = ready.get("graphs_not_ready")->get("stuck")->as_array().at(0);
  CHECK(problem.get("node")->as_string() == "h");
  CHECK(problem.get("state")->as_string() == "stalled");
  CHECK(http(server.port(), "GET", "/readyz?graph=stuck").status == 503);
  CHECK(node_stats(server.port(), "stuck", 0).get("stalled")->as_bool());
  CHECK(contains(http(server.port(), "GET", "/metrics").body,
                 "sluice_node_stalled{graph=\"stuck\",node=\"h\",component=\"fixture_endless\"} 1"));

  CHECK(server.stop(SIGTERM, 20s) == 0);  // at the drain deadline, with the packet kept in the log
  const std::string log = server.stderr_text();
  CHECK_MESSAGE(contains(log, "stuck/h: fixture_endless has been busy with one packet for more than its timeout of "
                              "1000 ms: the node is stalled"),
                log);
  CHECK_MESSAGE(contains(log, "did not drain within --drain-timeout 2000 ms"), log);
}
