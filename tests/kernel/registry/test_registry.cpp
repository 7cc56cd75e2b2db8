// PluginRegistry against real plugin files: scanning and every rejection, hot drop-in,
// replace and remove, search-order resolution of duplicate names, the JSON documents, and the
// `sluice plugins` command. Fixture paths (FIXTURE_*) and SLUICE_EXE come from meson.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <string>
#include <vector>

#include <sluice/json.hpp>
#include <sluice/plugin.hpp>

#include "registry/plugin_package.hpp"
#include "registry/plugin_registry.hpp"
#include "support/control_loop.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using sluice::ControlLoop;
using sluice::PluginRegistry;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "sluice-registry-test-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const fs::path& name) const { return path_ / name; }

 private:
  fs::path path_;
};

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_bytes(const fs::path& path, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// Overwrites in place (open with O_TRUNC, write, close), like `cp new.so old.so`.
void copy_over(const fs::path& from, const fs::path& to) {
  fs::create_directories(to.parent_path());
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

// Polls `condition` until it holds or `timeout` passes; never a fixed sleep.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

const sluice::PluginRejection* rejection_for(const std::vector<sluice::PluginRejection>& rejected,
                                             const fs::path& path) {
  for (const auto& rejection : rejected)
    if (rejection.path == path) return &rejection;
  return nullptr;
}

std::string version_of(const PluginRegistry& registry, std::string_view component) {
  const auto descriptor = registry.find(component);
  return descriptor ? descriptor->version : std::string();
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// Collects what a component emits, by port name.
class CollectingEmitter : public sluice::Emitter {
 public:
  explicit CollectingEmitter(const sluice::ComponentDescriptor& descriptor)
      : descriptor_(descriptor) {}
  void emit(std::size_t out_port, sluice::Packet&& packet) override {
    emitted.emplace_back(descriptor_.outputs.at(out_port).name, std::move(packet));
  }
  std::size_t out_port_index(std::string_view name) const override {
    for (std::size_t i = 0; i < descriptor_.outputs.size(); ++i)
      if (descriptor_.outputs[i].name == name) return i;
    throw std::invalid_argument("no out port " + std::string(name));
  }
  void deliver(sluice::Packet&& packet) override { delivered.push_back(std::move(packet)); }
  const std::string& node_path() const override { return node_path_; }
  std::vector<std::pair<std::string, sluice::Packet>> emitted;
  std::vector<sluice::Packet> delivered;

 private:
  const sluice::ComponentDescriptor& descriptor_;
  const std::string node_path_ = "test/" + descriptor_.name;
};

// Runs fixture_upper's code, which lives in the plugin's library: crashes if it was unloaded.
std::string upper_case_with(const sluice::ComponentDescriptor& upper, std::string text) {
  std::string error;
  auto component = upper.create(sluice::Params(sluice::Object{{"field", "title"}}), error);
  REQUIRE_MESSAGE(component, error);
  sluice::Packet packet;
  packet.set("title", std::move(text));
  CollectingEmitter emit(upper);
  component->process(packet, emit);
  REQUIRE(emit.emitted.size() == 1);
  return emit.emitted[0].second.get("title")->as_string();
}

// Records what on_change reports, for checks from the test thread.
struct ChangeLog {
  std::mutex mutex;
  std::vector<std::vector<std::string>> changes;

  PluginRegistry::ChangeListener listener() {
    return [this](const std::vector<std::string>& changed) {
      const std::lock_guard lock(mutex);
      changes.push_back(changed);
    };
  }
  std::vector<std::vector<std::string>> seen() {
    const std::lock_guard lock(mutex);
    return changes;
  }
};

// This test program is not the sluice binary: the probes run the real one.
sluice::PluginRegistryOptions options_with_cache(const TempDir& scratch) {
  return {.cache_dir = scratch / "cache", .probe_program = SLUICE_EXE};
}

// A directory with the good package and one file for each reason to reject one.
struct FixtureDir {
  TempDir dir;
  fs::path good = dir / "libfixture_good.so";
  fs::path not_elf = dir / "libnot_elf.so";
  fs::path no_export = dir / "libno_export.so";
  fs::path abi_mismatch = dir / "libabi_mismatch.so";
  fs::path unresolved = dir / "libunresolved.so";
  fs::path duplicate = dir / "libzz_duplicate.so";  // sorts after libfixture_good.so
  fs::path invalid = dir / "nested" / "deeper" / "libinvalid.so";
  fs::path throws = dir / "libthrows.so";
  fs::path crash = dir / "libcrash.so";

  FixtureDir() {
    copy_over(FIXTURE_GOOD_V1, good);
    write_bytes(not_elf, "this is a text file, not a shared library\n");
    copy_over(FIXTURE_NO_EXPORT, no_export);
    copy_over(FIXTURE_ABI_MISMATCH, abi_mismatch);
    copy_over(FIXTURE_UNRESOLVED, unresolved);
    copy_over(FIXTURE_DUPLICATE, duplicate);
    copy_over(FIXTURE_INVALID, invalid);
    copy_over(FIXTURE_THROWS, throws);
    copy_over(FIXTURE_CRASH, crash);
  }
};

std::string run_command(const std::string& command, int& status) {
  std::FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
  const int raw = ::pclose(pipe);
  status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return output;
}

std::string shell_quoted(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

TEST_CASE("a scan lists the good package and rejects every bad file with its reason") {
  FixtureDir fixtures;
  TempDir scratch;
  const PluginRegistry registry({fixtures.dir.path()}, options_with_cache(scratch));

  const auto packages = registry.packages();
  REQUIRE(packages.size() == 2);
  CHECK(packages[0].name == "fixture_good");
  CHECK(packages[0].version == "1.0.0");
  CHECK(packages[0].path == fixtures.good);
  CHECK(packages[0].components == std::vector<std::string>{"fixture_upper", "fixture_route"});
  CHECK(packages[1].name == "fixture_duplicate");
  CHECK(registry.names() == std::vector<std::string>{"fixture_own_name", "fixture_route", "fixture_upper"});

  const auto route = registry.find("fixture_route");
  REQUIRE(route);
  CHECK(route->kind == sluice::ComponentKind::operator_);
  CHECK(route->inputs.size() == 1);  // the default `in`, filled in by apply_port_defaults
  CHECK(route->outputs.size() == 2);
  CHECK(registry.find("no_such_component") == nullptr);
  // A repeated name costs the later package that name only; both builds stay reachable.
  CHECK(registry.find("fixture_own_name"));
  CHECK(registry.find("fixture_upper")->summary != "Same name as fixture_good's component");
  REQUIRE(registry.find("fixture_duplicate/fixture_upper"));
  CHECK(registry.find("fixture_duplicate/fixture_upper")->summary == "Same name as fixture_good's component");
  CHECK(registry.find("fixture_good/fixture_upper") == registry.find("fixture_upper"));
  CHECK(registry.find("fixture_good/fixture_own_name") == nullptr);
  const auto clashes = registry.clashes();
  REQUIRE(clashes.size() == 1);
  CHECK(clashes[0].path == fixtures.duplicate);
  CHECK(clashes[0].component == "fixture_upper");
  CHECK(clashes[0].provided_by == fixtures.good);
  CHECK_MESSAGE(contains(clashes[0].explanation(), "name it as 'fixture_duplicate/fixture_upper'"),
                clashes[0].explanation());

  const auto rejected = registry.rejected();
  CHECK(rejected.size() == 7);
  auto check_rejected = [&](const fs::path& path, std::initializer_list<std::string> parts) {
    const auto* rejection = rejection_for(rejected, path);
    REQUIRE_MESSAGE(rejection, "no rejection for " << path);
    for (auto part : parts) CHECK_MESSAGE(contains(rejection->reason, part), rejection->reason);
  };
  check_rejected(fixtures.not_elf, {"no ELF header"});
  check_rejected(fixtures.no_export, {"not a sluice plugin", "sluice_plugin"});
  check_rejected(fixtures.abi_mismatch,
                 {"ABI version 9999", "SDK ABI version " + std::to_string(sluice::sdk_abi_version)});
  // The loader's text names the user's file, not the private copy that was opened.
  check_rejected(fixtures.unresolved, {"undefined symbol: sluice_fixture_undefined_function",
                                       fixtures.unresolved.string()});
  check_rejected(fixtures.invalid, {"invalid descriptor", "default must be at most 10"});
  check_rejected(fixtures.throws, {"components() failed", "descriptor refuses to describe"});
  check_rejected(fixtures.crash, {"crashed while loading (signal 11)"});
  for (const auto& rejection : rejected)
    CHECK_MESSAGE(!contains(rejection.reason, (scratch / "cache").string()), rejection.reason);
}

TEST_CASE("a stripped plugin is found by its dynamic symbol table") {
  TempDir dir, scratch;
  copy_over(FIXTURE_GOOD_STRIPPED, dir / "libgood.so");
  const PluginRegistry registry({dir.path()}, options_with_cache(scratch));
  CHECK(registry.rejected().empty());
  CHECK(registry.names() == std::vector<std::string>{"fixture_route", "fixture_upper"});
}

TEST_CASE("the kernel maps private copies, never the files in the plugin directory") {
  FixtureDir fixtures;
  TempDir scratch;
  const PluginRegistry registry({fixtures.dir.path()}, options_with_cache(scratch));
  REQUIRE(registry.find("fixture_upper"));
  const std::string maps = read_bytes("/proc/self/maps");
  CHECK(contains(maps, (scratch / "cache").string()));
  CHECK_FALSE(contains(maps, fixtures.dir.path().string()));
}

TEST_CASE("a descriptor keeps its library loaded after the registry is gone") {
  FixtureDir fixtures;
  TempDir scratch;
  std::shared_ptr<const sluice::ComponentDescriptor> upper;
  {
    const PluginRegistry registry({fixtures.dir.path()}, options_with_cache(scratch));
    upper = registry.find("fixture_upper");
  }
  REQUIRE(upper);
  CHECK(upper_case_with(*upper, "quiet") == "QUIET");
}

TEST_CASE("a package that hangs while loading is stopped by the probe's time limit") {
  TempDir dir, scratch;
  copy_over(FIXTURE_HANG, dir / "libhang.so");
  const PluginRegistry registry({dir.path()}, {.cache_dir = scratch / "cache", .probe_timeout = 300ms, .probe_program = SLUICE_EXE});
  const auto rejected = registry.rejected();
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].path == dir / "libhang.so");
  CHECK_MESSAGE(contains(rejected[0].reason, "did not finish loading within 300 ms"),
                rejected[0].reason);
}

TEST_CASE("a plugin built with another std::string ABI is refused by its fingerprint, before it is loaded") {
  TempDir dir, scratch;
  copy_over(FIXTURE_OLD_STRING_ABI, dir / "libold.so");
  const PluginRegistry registry({dir.path()}, options_with_cache(scratch));
  const auto rejected = registry.rejected();
  REQUIRE(rejected.size() == 1);
  for (std::string_view part : {"built with another toolchain than this kernel", "_GLIBCXX_USE_CXX11_ABI=0 (kernel: 1)",
                                "sizeof(std::string) 8 (kernel: 32)", "docs/first-component.md"})
    CHECK_MESSAGE(contains(rejected[0].reason, part), rejected[0].reason);
  CHECK_FALSE(contains(rejected[0].reason, "undefined symbol"));
}

TEST_CASE("probes run at once: four hanging packages cost one probe timeout, not four") {
  TempDir dir, scratch;
  for (const char* name : {"liba.so", "libb.so", "libc.so", "libd.so"}) copy_over(FIXTURE_HANG, dir / name);
  copy_over(FIXTURE_GOOD_V1, dir / "libgood.so");
  const auto start = std::chrono::steady_clock::now();
  // Long enough that the sound package's probe, started beside four others on a loaded CI
  // machine, finishes in time.
  const PluginRegistry registry({dir.path()}, {.cache_dir = scratch / "cache", .probe_timeout = 5000ms,
                                               .probe_program = SLUICE_EXE});
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(registry.rejected().size() == 4);
  for (const auto& rejection : registry.rejected()) MESSAGE(rejection.path.string() << ": " << rejection.reason);
  CHECK(registry.find("fixture_upper"));
  // One after another they would take 20 s at least.
  CHECK_MESSAGE(took < 15000ms, std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
}

TEST_CASE("a probe asked after its deadline still reports what its child finished in time") {
  // Probes run at once and are asked in turn: after a hanging one used up the shared time, the
  // next is asked past its own deadline, and a package that loaded long before was rejected
  // as hanging.
  TempDir scratch;
  const sluice::ImageLease image = sluice::PluginImageCache(scratch / "cache").store(read_bytes(FIXTURE_GOOD_V1));
  const auto asked_at = std::chrono::steady_clock::now() + 2000ms;
  sluice::PluginProbe probe(SLUICE_EXE, FIXTURE_GOOD_V1, image.path(), 1000ms);
  // The condition is the time itself: the verdict is asked a second after the deadline.
  while (std::chrono::steady_clock::now() < asked_at) std::this_thread::sleep_for(10ms);
  const auto verdict = probe.verdict();
  CHECK_MESSAGE(!verdict, verdict.value_or(""));
}

TEST_CASE("the probe is a multi-threaded process, like the server: a package that crashes only there is rejected") {
  TempDir dir, scratch;
  copy_over(FIXTURE_CRASH_IF_THREADED, dir / "libthreaded.so");
  // This process has threads too when it loads the packages that passed.
  std::atomic<bool> done{false};
  std::thread other([&] {
    while (!done) std::this_thread::sleep_for(1ms);
  });
  const PluginRegistry registry({dir.path()}, options_with_cache(scratch));
  done = true;
  other.join();
  const auto rejected = registry.rejected();
  REQUIRE(rejected.size() == 1);
  CHECK_MESSAGE(contains(rejected[0].reason, "crashed while loading (signal 11)"), rejected[0].reason);
  CHECK(registry.find("fixture_threaded_crash") == nullptr);
}

TEST_CASE("an unsafe cache directory is refused, and files are retried once it is fixed") {
  TempDir dir, scratch;
  copy_over(FIXTURE_GOOD_V1, dir / "libgood.so");
  const fs::path cache = scratch / "cache";
  fs::create_directory(cache);
  fs::permissions(cache, fs::perms::all);  // 0777: anyone could plant code there
  PluginRegistry registry({dir.path()}, {.cache_dir = cache, .probe_program = SLUICE_EXE});
  const auto rejected = registry.rejected();
  REQUIRE(rejected.size() == 1);
  CHECK_MESSAGE(contains(rejected[0].reason, "refusing the plugin cache directory " + cache.string()),
                rejected[0].reason);

  fs::permissions(cache, fs::perms::owner_all);
  registry.rescan();  // the file did not change, but the failure was not the file's
  CHECK(registry.find("fixture_upper"));
  CHECK(registry.rejected().empty());
}

TEST_CASE("watched directories: drop in, replace in place, rename into place, remove") {
  TempDir dir, scratch;
  ControlLoop loop;  // reads the watches; outlives the registry
  PluginRegistry registry({dir.path()}, options_with_cache(scratch));
  ChangeLog log;
  registry.on_change(log.listener());
  registry.watch(loop);
  CHECK(registry.names().empty());
  const fs::path plugin = dir / "sub" / "libgood.so";  // a subdirectory made after watch()

  // Drop in.
  auto generation = registry.generation();
  const auto dropped_at = std::chrono::steady_clock::now();
  copy_over(FIXTURE_GOOD_V1, plugin);
  REQUIRE(eventually([&] { return registry.find("fixture_upper") != nullptr; }));
  CHECK(std::chrono::steady_clock::now() - dropped_at < 1s);
  CHECK(registry.generation() > generation);
  REQUIRE(eventually([&] { return !log.seen().empty(); }));
  CHECK(log.seen().back() == std::vector<std::string>{"fixture_route", "fixture_upper"});
  const auto v1_upper = registry.find("fixture_upper");
  CHECK(v1_upper->version == "1.0.0");

  // Replace by copying over the loaded file: reloaded from a new private copy. (How many
  // change events a copy makes depends on timing; what counts is that one more came.)
  generation = registry.generation();
  const auto changes_before = log.seen().size();
  copy_over(FIXTURE_GOOD_V2, plugin);
  REQUIRE(eventually([&] { return version_of(registry, "fixture_upper") == "2.0.0"; }));
  CHECK(registry.generation() > generation);
  CHECK(registry.packages().at(0).version == "2.0.0");
  REQUIRE(eventually([&] { return log.seen().size() > changes_before; }));
  CHECK(log.seen().back() == std::vector<std::string>{"fixture_route", "fixture_upper"});
  // Whoever still holds the old build keeps using it.
  CHECK(v1_upper->version == "1.0.0");
  CHECK(upper_case_with(*v1_upper, "old") == "OLD");

  // Replace by writing elsewhere and renaming into place (IN_MOVED_TO).
  copy_over(FIXTURE_GOOD_V1, dir / "sub" / "libgood.so.partial");
  fs::rename(dir / "sub" / "libgood.so.partial", plugin);
  REQUIRE(eventually([&] { return version_of(registry, "fixture_upper") == "1.0.0"; }));

  // Remove: unregistered; a held descriptor still works.
  const auto held = registry.find("fixture_upper");
  generation = registry.generation();
  const auto changes_before_remove = log.seen().size();
  fs::remove(plugin);
  REQUIRE(eventually([&] { return registry.find("fixture_upper") == nullptr; }));
  CHECK(registry.generation() > generation);
  CHECK(registry.packages().empty());
  CHECK(registry.rejected().empty());
  REQUIRE(eventually([&] { return log.seen().size() > changes_before_remove; }));
  CHECK(log.seen().back() == std::vector<std::string>{"fixture_route", "fixture_upper"});
  CHECK(upper_case_with(*held, "still here") == "STILL HERE");
}

TEST_CASE("a half-copied file is retried when the copy completes") {
  TempDir dir, scratch;
  ControlLoop loop;  // reads the watches; outlives the registry
  PluginRegistry registry({dir.path()}, options_with_cache(scratch));
  registry.watch(loop);
  const std::string bytes = read_bytes(FIXTURE_GOOD_V1);
  const fs::path plugin = dir / "libgood.so";

  write_bytes(plugin, std::string_view(bytes).substr(0, bytes.size() / 2));
  REQUIRE(eventually([&] { return rejection_for(registry.rejected(), plugin) != nullptr; }));
  CHECK(registry.find("fixture_upper") == nullptr);

  write_bytes(plugin, bytes);
  REQUIRE(eventually([&] { return registry.find("fixture_upper") != nullptr; }));
  CHECK(registry.rejected().empty());
}

TEST_CASE("a component name belongs to the first file in search order, also when hot-loaded") {
  TempDir first, second, scratch;
  ControlLoop loop;  // reads the watches; outlives the registry
  PluginRegistry registry({first.path(), second.path()}, options_with_cache(scratch));
  ChangeLog log;
  registry.on_change(log.listener());
  registry.watch(loop);

  // Alone, the duplicate package is fine.
  copy_over(FIXTURE_DUPLICATE, second / "libduplicate.so");
  REQUIRE(eventually([&] { return registry.find("fixture_own_name") != nullptr; }));

  // The good package comes earlier in the search path: it takes fixture_upper, and the
  // duplicate package keeps only its own name — the state a restart would produce.
  const auto duplicate_upper = registry.find("fixture_upper");
  copy_over(FIXTURE_GOOD_V1, first / "libgood.so");
  REQUIRE(eventually([&] { return registry.find("fixture_route") != nullptr; }));
  CHECK(registry.find("fixture_own_name") != nullptr);
  CHECK(registry.find("fixture_upper") != duplicate_upper);
  CHECK(registry.find("fixture_duplicate/fixture_upper") == duplicate_upper);
  CHECK(registry.names() == std::vector<std::string>{"fixture_own_name", "fixture_route", "fixture_upper"});
  CHECK(registry.rejected().empty());
  REQUIRE(registry.clashes().size() == 1);
  CHECK(registry.clashes()[0].provided_by == first / "libgood.so");
  // One change names the two whose meaning changed (how many events a copy makes depends on
  // timing).
  const std::vector<std::string> changed{"fixture_route", "fixture_upper"};
  REQUIRE(eventually([&] {
    const auto seen = log.seen();
    return std::find(seen.begin(), seen.end(), changed) != seen.end();
  }));

  // Without the good package the duplicate one has its name back.
  fs::remove(first / "libgood.so");
  REQUIRE(eventually([&] { return registry.find("fixture_upper") == duplicate_upper; }));
  CHECK(registry.clashes().empty());
  CHECK(registry.rejected().empty());
}

TEST_CASE("the search path: --plugins, then SLUICE_PLUGIN_PATH, then the default") {
  TempDir base;
  const std::string env = (base / "env_a").string() + "::" + (base / "cli").string() + "/:" +
                          (base / "env_b").string();
  REQUIRE(::setenv("SLUICE_PLUGIN_PATH", env.c_str(), 1) == 0);
  const auto path = PluginRegistry::search_path({(base / "cli").string(), (base / "cli2").string()},
                                                base / "bundled");
  ::unsetenv("SLUICE_PLUGIN_PATH");
  CHECK(path == std::vector<fs::path>{base / "cli", base / "cli2", base / "env_a", base / "env_b",
                                      base / "bundled"});
  CHECK(PluginRegistry::search_path({}, PluginRegistry::installed_dir()) ==
        std::vector<fs::path>{fs::path(SLUICE_DEFAULT_PLUGIN_DIR)});
}

TEST_CASE("components_json and plugins_json are the REST documents") {
  FixtureDir fixtures;
  TempDir scratch;
  const PluginRegistry registry({fixtures.dir.path()}, options_with_cache(scratch));

  const sluice::Value components = registry.components_json();
  REQUIRE(components.is_array());
  REQUIRE(components.as_array().size() == 3);
  CHECK(components[0].get("name")->as_string() == "fixture_own_name");
  CHECK(components[0].get("package")->as_string() == "fixture_duplicate");
  const sluice::Value& route = components[1];
  CHECK(route.get("name")->as_string() == "fixture_route");
  CHECK(route.get("package")->as_string() == "fixture_good");
  CHECK(route.get("kind")->as_string() == "operator");
  CHECK(*route.find_path("outputs[1].name") == sluice::Value("big"));
  CHECK(*route.find_path("params[0].default") == sluice::Value(10));
  CHECK(components[2].get("name")->as_string() == "fixture_upper");
  CHECK(components[2].get("package")->as_string() == "fixture_good");
  // What the JSON writer and parser make of it is the same document.
  CHECK(sluice::json::parse(sluice::json::to_string(components)) == components);

  const sluice::Value plugins = registry.plugins_json();
  CHECK(*plugins.find_path("directories[0].path") == sluice::Value(fixtures.dir.path().string()));
  CHECK(*plugins.find_path("directories[0].exists") == sluice::Value(true));
  REQUIRE(plugins.get("packages")->as_array().size() == 2);
  const sluice::Value& package = (*plugins.get("packages"))[0];
  CHECK(package.get("name")->as_string() == "fixture_good");
  CHECK(package.get("version")->as_string() == "1.0.0");
  CHECK(package.get("description")->as_string() == "Two sound components for registry tests");
  CHECK(package.get("path")->as_string() == fixtures.good.string());
  CHECK(*package.get("components") == sluice::Value(sluice::Array{"fixture_upper", "fixture_route"}));
  const auto& rejected = plugins.get("rejected")->as_array();
  CHECK(rejected.size() == 7);
  REQUIRE(plugins.get("clashes")->as_array().size() == 1);
  CHECK(*plugins.find_path("clashes[0].component") == sluice::Value("fixture_upper"));
  CHECK(*plugins.find_path("clashes[0].package") == sluice::Value("fixture_duplicate"));
  CHECK(*plugins.find_path("clashes[0].provided_by") == sluice::Value(fixtures.good.string()));
  bool crash_listed = false;
  for (const auto& entry : rejected)
    if (entry.get("path")->as_string() == fixtures.crash.string())
      crash_listed = contains(entry.get("reason")->as_string(), "crashed while loading");
  CHECK(crash_listed);
}

TEST_CASE("sluice plugins: JSON, the human listing, and describe") {
  FixtureDir fixtures;
  TempDir scratch;
  // Keep the command away from the developer's SLUICE_PLUGIN_PATH and plugin cache.
  const std::string prefix = "env -u SLUICE_PLUGIN_PATH XDG_CACHE_HOME=" +
                             shell_quoted(scratch.path().string()) + " " +
                             shell_quoted(SLUICE_EXE) + " plugins --plugins " +
                             shell_quoted(fixtures.dir.path().string());
  int status = -1;

  const std::string json_text = run_command(prefix + " --json", status);
  CHECK(status == 0);
  sluice::Value document;
  REQUIRE_NOTHROW(document = sluice::json::parse(json_text));
  CHECK(*document.find_path("packages[0].name") == sluice::Value("fixture_good"));
  CHECK(document.get("rejected")->as_array().size() == 7);
  CHECK(document.get("clashes")->as_array().size() == 1);
  // The bundled plugins of the build tree follow the --plugins directory.
  std::vector<std::string> fixture_components;
  for (const auto& component : document.get("components")->as_array())
    if (component.get("package")->as_string() == "fixture_good")
      fixture_components.push_back(component.get("name")->as_string());
  CHECK(fixture_components == std::vector<std::string>{"fixture_route", "fixture_upper"});

  const std::string listing = run_command(prefix, status);
  CHECK(status == 0);
  for (std::string_view part :
       {"fixture_good 1.0.0", "fixture_upper (transformer 1.0.0)", "fixture_route (operator 1.0.0)",
        "threshold (integer, default 10, 0..1000)", "Rejected:", "crashed while loading", "Clashes:",
        "name it as 'fixture_duplicate/fixture_upper'", "Same name as fixture_good's component"})
    CHECK_MESSAGE(contains(listing, part), part);
  CHECK(contains(listing, fixtures.crash.string()));

  const std::string described = run_command(prefix + " describe fixture_route", status);
  CHECK(status == 0);
  for (std::string_view part : {"fixture_route — Sends packets", "package:  fixture_good 1.0.0",
                                "big — packets at or above the threshold", "one of \"n\", \"count\""})
    CHECK_MESSAGE(contains(described, part), part);

  const std::string unknown = run_command(prefix + " describe fixture_uper 2>&1", status);
  CHECK(status == 1);
  CHECK_MESSAGE(contains(unknown, "did you mean 'fixture_upper'?"), unknown);
}

namespace {

// The images (`<hash>.so`) in a cache directory.
std::vector<std::string> cached_images(const fs::path& cache) {
  std::vector<std::string> images;
  for (const auto& entry : fs::directory_iterator(cache))
    if (entry.path().extension() == ".so" && entry.path().filename().string().front() != '.')
      images.push_back(entry.path().filename().string());
  std::sort(images.begin(), images.end());
  return images;
}

void write_file(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

}  // namespace

TEST_CASE("the image cache keeps what a package or a graph holds, and prunes the rest") {
  TempDir dir, scratch;
  const fs::path plugin = dir / "libgood.so";
  copy_over(FIXTURE_GOOD_V1, plugin);
  PluginRegistry registry({dir.path()}, options_with_cache(scratch));
  const fs::path cache = scratch / "cache";
  const auto v1_image = cached_images(cache);
  REQUIRE(v1_image.size() == 1);

  // A graph still runs v1 (it holds the descriptor) while the file is replaced by v2.
  auto v1_upper = registry.find("fixture_upper");
  copy_over(FIXTURE_GOOD_V2, plugin);
  registry.rescan();
  REQUIRE(registry.find("fixture_upper")->version == "2.0.0");
  CHECK(cached_images(cache).size() == 2);
  // The graph redeployed: v1's copy goes at the next scan.
  v1_upper.reset();
  registry.rescan();
  const auto v2_image = cached_images(cache);
  REQUIRE(v2_image.size() == 1);
  CHECK(v2_image != v1_image);

  // Removed: nothing holds v2 any more.
  fs::remove(plugin);
  registry.rescan();
  CHECK(cached_images(cache).empty());
}

TEST_CASE("prune leaves a leased image, other files and a fresh temporary alone") {
  TempDir scratch;
  const sluice::PluginImageCache cache(scratch / "cache");
  std::optional<sluice::ImageLease> lease = cache.store(read_bytes(FIXTURE_GOOD_V1));
  const fs::path unleased = cache.store(read_bytes(FIXTURE_GOOD_V2)).path();  // the lease ends here
  write_file(cache.dir() / "notes.txt", "not an image");
  write_file(cache.dir() / ".abc.so.1.0.tmp", "a copy being written");
  write_file(cache.dir() / ".def.so.2.0.tmp", "left by a writer that died");
  const auto two_hours_ago = fs::file_time_type::clock::now() - std::chrono::hours(2);
  fs::last_write_time(cache.dir() / ".def.so.2.0.tmp", two_hours_ago);

  const auto pruned = cache.prune();
  CHECK(pruned.files == 2);
  CHECK_FALSE(fs::exists(unleased));
  CHECK_FALSE(fs::exists(cache.dir() / ".def.so.2.0.tmp"));
  CHECK(fs::exists(lease->path()));
  CHECK(fs::exists(cache.dir() / "notes.txt"));
  CHECK(fs::exists(cache.dir() / ".abc.so.1.0.tmp"));

  // Stored again after a prune: a new copy, leased.
  lease.reset();
  CHECK(cache.prune().files == 1);
  const sluice::ImageLease again = cache.store(read_bytes(FIXTURE_GOOD_V1));
  CHECK(fs::exists(again.path()));
  CHECK(cache.prune().files == 0);
}

TEST_CASE("a plugin reached by a symbolic link is reloaded when its target is rebuilt, in place or renamed over") {
  TempDir dir, builds, scratch;
  const fs::path target = builds / "out" / "libgood-current.so";  // outside every plugin directory
  copy_over(FIXTURE_GOOD_V1, target);
  fs::create_symlink(target, dir / "libgood.so");
  ControlLoop loop;  // reads the watches; outlives the registry
  PluginRegistry registry({dir.path()}, options_with_cache(scratch));
  registry.watch(loop);
  REQUIRE(registry.find("fixture_upper"));
  CHECK(registry.find("fixture_upper")->version == "1.0.0");

  // Written in place, as a linker does.
  copy_over(FIXTURE_GOOD_V2, target);
  // (A scan that reads the file between the writer's truncation and its first write rejects
  // it until the writer closes it.)
  const auto version_now = [&] {
    const auto upper = registry.find("fixture_upper");
    return upper ? upper->version : "(none)";
  };
  CHECK(eventually([&] { return version_now() == "2.0.0"; }));
  // Renamed over, as an installer does.
  copy_over(FIXTURE_GOOD_V1, builds / "out" / ".libgood-current.so.new");
  fs::rename(builds / "out" / ".libgood-current.so.new", target);
  CHECK(eventually([&] { return version_now() == "1.0.0"; }));
  // A link made after watch() is followed too.
  const fs::path second_target = builds / "other" / "libgood-2.so";
  copy_over(FIXTURE_GOOD_V2, second_target);
  fs::create_symlink(second_target, dir / "libgood2.so");
  REQUIRE(eventually([&] { return registry.find("fixture_route") && registry.packages().size() == 2; }));
  copy_over(FIXTURE_GOOD_V1, second_target);
  CHECK(eventually([&] {
    for (const auto& package : registry.packages())
      if (package.path == dir / "libgood2.so") return package.version == "1.0.0";
    return false;
  }));
}

TEST_CASE("symbolic link loops, dangling links and directories named *.so are reported") {
  TempDir dir, scratch;
  fs::create_symlink(dir / "libb.so", dir / "liba.so");
  fs::create_symlink(dir / "liba.so", dir / "libb.so");
  fs::create_symlink(dir / "libnothing-here.so", dir / "libgone.so");
  fs::create_directory(dir / "libdir.so");
  copy_over(FIXTURE_GOOD_V1, dir / "libgood.so");
  const PluginRegistry registry({dir.path()}, options_with_cache(scratch));
  CHECK(registry.find("fixture_upper"));
  std::map<std::string, std::string> reasons;
  for (const auto& rejection : registry.rejected()) reasons[rejection.path.filename().string()] = rejection.reason;
  REQUIRE(reasons.size() == 4);
  CHECK_MESSAGE(contains(reasons["liba.so"], "is a loop of symbolic links"), reasons["liba.so"]);
  CHECK_MESSAGE(contains(reasons["libb.so"], "is a loop of symbolic links"), reasons["libb.so"]);
  CHECK(reasons["libgone.so"] == "is a symbolic link to " + (dir / "libnothing-here.so").string() + ", which does not exist");
  CHECK(reasons["libdir.so"] == "is a directory, not a plugin file");
}
