// Plugins that pass every load-time check and then crash the server: the crash names the
// plugin, the next start leaves it out (quarantine) and serves everything else, and
// `sluice plugins release` lets the same build in again.
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <regex>

#include "test_support.hpp"

using namespace rest_test;

namespace {

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// The reason GET /v1/plugins gives for rejecting `file`, or "" when it is not rejected.
std::string rejection_of(std::uint16_t port, const std::filesystem::path& file) {
  const sluice::Value plugins = http(port, "GET", "/v1/plugins").json();
  for (const auto& entry : plugins.get("rejected")->as_array())
    if (entry.get("path")->as_string() == file.string()) return entry.get("reason")->as_string();
  return "";
}

bool has_component(std::uint16_t port, std::string_view name) {
  const sluice::Value components = http(port, "GET", "/v1/components").json();
  for (const auto& entry : components.as_array())
    if (entry.get("name")->as_string() == name) return true;
  return false;
}

struct CrashSetup {
  TempDir dir;
  std::filesystem::path plugins = dir.path / "plugins";
  std::filesystem::path crashing;

  CrashSetup(const char* fixture, const std::string& file_name) : crashing(plugins / file_name) {
    write_file(dir.path / "graphs/echo.yaml", echo_graph);
    std::filesystem::create_directories(plugins);
    std::filesystem::copy_file(REST_FIXTURE_PLUGIN, plugins / "librest_fixture.so");
    std::filesystem::copy_file(fixture, crashing);
  }
  std::vector<std::string> args() const { return {"--plugins", plugins.string()}; }

  // After the crash: the next start serves without the plugin, and says why. `release`: then
  // lift the quarantine and see the running server load the same build again.
  void check_quarantined_at_restart(int signal, bool release) {
    ServerProcess server(dir, args());
    const std::string reason = rejection_of(server.port(), crashing);
    CHECK_MESSAGE(contains(reason, "quarantined: crashed the server (SIG"), reason);
    CHECK_MESSAGE(contains(reason, std::string(sigabbrev_np(signal))), reason);
    CHECK_MESSAGE(contains(reason, "sluice plugins release"), reason);
    // The submission that crashed it is replayed from the write-ahead log first (503 until then).
    CHECK(wait_until([&] { return http(server.port(), "GET", "/readyz").status == 200; }, 15s));
    const auto echoed = http(server.port(), "POST", "/v1/graphs/echo/packets?wait=true", "{}", json_type);
    CHECK(echoed.status == 200);
    if (!release) return;
    const std::string command = "XDG_CACHE_HOME='" + (dir.path / "cache").string() + "' '" SLUICE_EXE
                                "' plugins release '" + crashing.string() + "'";
    CHECK(std::system(command.c_str()) == 0);
    CHECK(std::system(command.c_str()) != 0);  // nothing left to release
    CHECK(wait_until([&] { return rejection_of(server.port(), crashing).empty(); }, 15s));
    CHECK(has_component(server.port(), "fixture_segv"));
    CHECK(server.stop() == 0);
  }
};

}  // namespace

TEST_CASE("a segfault in process() names the plugin; the next start quarantines it and serves the rest") {
  CrashSetup setup(FIXTURE_SEGV_PROCESS, "libfixture_segv.so");
  write_file(setup.dir.path / "graphs/crashy.yaml",
             "name: crashy\nnodes:\n  c: { component: fixture_segv }\n  out: { component: rest_collect }\n"
             "pipeline: [c, out]\n");
  {
    ServerProcess server(setup.dir, setup.args());
    REQUIRE(http(server.port(), "POST", "/v1/graphs/crashy/packets?wait=true", "{}", json_type).status == 200);
    try {
      http(server.port(), "POST", "/v1/graphs/crashy/packets?wait=true", R"({"address": 16})", json_type);
    } catch (const std::exception&) {
      // The connection dies with the server.
    }
    CHECK(server.stop(0, 20s) == 128 + SIGSEGV);
    const std::string log = server.stderr_text();
    CHECK_MESSAGE(contains(log, "sluice: fatal: crashed the server (SIGSEGV: Segmentation fault) in plugin " +
                                    setup.crashing.string() + " (package fixture_segv)"),
                  log);
  }
  setup.check_quarantined_at_restart(SIGSEGV, true);
}

TEST_CASE("a plugin that aborts from its own thread after loading is quarantined at the next start") {
  CrashSetup setup(FIXTURE_THREAD_ABORT, "libfixture_thread_abort.so");
  {
    ServerProcess server(setup.dir, setup.args());
    CHECK(server.stop(0, 20s) == 128 + SIGABRT);  // it dies by itself, three seconds after loading
    CHECK_MESSAGE(contains(server.stderr_text(), "in plugin " + setup.crashing.string()), server.stderr_text());
  }
  // Not released: loaded again, it would abort the server again.
  setup.check_quarantined_at_restart(SIGABRT, false);
}

TEST_CASE("a component that overflows its fiber's stack stops the server with a message naming its node") {
  CrashSetup setup(FIXTURE_RECURSE, "libfixture_recurse.so");
  write_file(setup.dir.path / "graphs/deep.yaml",
             "name: deep\nnodes:\n  r: { component: fixture_recurse }\n  out: { component: rest_collect }\n"
             "pipeline: [r, out]\n");
  ServerProcess server(setup.dir, setup.args());
  // 200 levels of 1 KiB fit in the default stack.
  const auto shallow = http(server.port(), "POST", "/v1/graphs/deep/packets?wait=true", R"({"depth": 200})", json_type);
  REQUIRE(shallow.status == 200);
  try {
    http(server.port(), "POST", "/v1/graphs/deep/packets?wait=true", R"({"depth": 100000})", json_type);
  } catch (const std::exception&) {
    // The connection dies with the server.
  }
  CHECK(server.stop(0, 20s) == 128 + SIGSEGV);
  const std::string log = server.stderr_text();
  // 1024 KiB, or more in an ASan build (fiber_stacks.hpp).
  CHECK_MESSAGE(std::regex_search(log, std::regex(R"(sluice: fatal: fiber stack overflow in node deep/r \(its stack is )"
                                                  R"((1024|4096) KiB; raise --fiber-stack-kib)")),
                log);
  CHECK_MESSAGE(contains(log, "in plugin " + setup.crashing.string()), log);
}

TEST_CASE("--fiber-stack-kib gives every node's fiber a larger stack") {
  CrashSetup setup(FIXTURE_RECURSE, "libfixture_recurse.so");
  write_file(setup.dir.path / "graphs/deep.yaml",
             "name: deep\nnodes:\n  r: { component: fixture_recurse }\n  out: { component: rest_collect }\n"
             "pipeline: [r, out]\n");
  auto args = setup.args();
  args.insert(args.end(), {"--fiber-stack-kib", "16384"});
  ServerProcess server(setup.dir, args);
  // 8 MiB of frames: past the default stack, inside this one.
  const auto deep = http(server.port(), "POST", "/v1/graphs/deep/packets?wait=true", R"({"depth": 8000})", json_type);
  CHECK(deep.status == 200);
  CHECK(server.stop() == 0);
}
