// `sluice check` and `sluice dot`, run as the built binary (SLUICE_EXE) against a real plugin
// package (CHECK_PLUGIN, from check_plugin.cpp); both paths come from meson.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "graph_test_support.hpp"

namespace fs = std::filesystem;

namespace {

const std::string data_dir = SLUICE_GRAPH_TEST_DATA;

std::string shell_quoted(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// A scratch directory holding the plugin (alone, so nothing else in the build tree is scanned)
// and the plugin cache (so that the developer's is left alone).
class Scratch {
 public:
  Scratch() {
    std::string pattern = (fs::temp_directory_path() / "sluice-graph-check-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    root_ = pattern;
    fs::create_directory(plugins());
    fs::copy_file(CHECK_PLUGIN, plugins() / fs::path(CHECK_PLUGIN).filename());
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  fs::path plugins() const { return root_ / "plugins"; }
  fs::path cache() const { return root_ / "cache"; }
  fs::path stderr_file() const { return root_ / "stderr.txt"; }

 private:
  fs::path root_;
};

struct Run {
  int status = -1;
  std::string out, err;
};

// `sluice ARGS --plugins <scratch>`, away from the developer's SLUICE_PLUGIN_PATH.
Run run_sluice(const Scratch& scratch, const std::string& args) {
  const std::string command = "env -u SLUICE_PLUGIN_PATH XDG_CACHE_HOME=" +
                              shell_quoted(scratch.cache().string()) + " " +
                              shell_quoted(SLUICE_EXE) + " " + args + " 2>" +
                              shell_quoted(scratch.stderr_file().string());
  Run run;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) run.out.append(buffer, n);
  const int raw = ::pclose(pipe);
  run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  std::ifstream err(scratch.stderr_file());
  run.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
  return run;
}

std::string plugins_option(const Scratch& scratch) {
  return " --plugins " + shell_quoted(scratch.plugins().string());
}

}  // namespace

TEST_CASE("sluice check: every error like a compiler, in file order, then a summary; exit 1") {
  Scratch scratch;
  const std::string file = data_dir + "/check_bad.yaml";
  Run run = run_sluice(scratch, "check " + shell_quoted(file) + plugins_option(scratch));
  CHECK(run.status == 1);
  CHECK(run.out == "");
  CHECK(run.err ==
        file + ":3:23: error: node 'in': unknown component 'check_sorce' (did you mean "
               "'check_source'?)\n" +
            file + ":4:3: error: node 'out': missing required param 'path' (string: where the "
                   "packets would go)\n" +
            file + ":5:62: error: node 'extra': unknown param 'colour' (check_sink takes: path)\n" +
            file + ":8:5: error: edge 'out -> extra': node 'out' (check_sink) is a publisher and "
                   "has no output ports; only its 'error' port can be wired\n" +
            file + ":9:11: error: edge 'in -> nowhere': unknown node 'nowhere'\n" + file +
            ": 5 errors\n");
}

TEST_CASE("sluice check: a good file says ok with its size; several files are checked") {
  Scratch scratch;
  const std::string ok = data_dir + "/check_ok.yaml";
  Run run = run_sluice(scratch, "check " + shell_quoted(ok) + plugins_option(scratch));
  CHECK(run.err == "");
  CHECK(run.status == 0);
  CHECK(run.out == ok + ": ok (2 nodes, 1 edge)\n");

  const std::string missing = data_dir + "/no-such-graph.yaml";
  run = run_sluice(scratch, "check " + shell_quoted(ok) + " " + shell_quoted(missing) +
                            plugins_option(scratch));
  CHECK(run.status == 1);
  CHECK(run.out == ok + ": ok (2 nodes, 1 edge)\n");
  CHECK(run.err == missing + ": error: cannot read the graph file: No such file or directory\n" +
                       missing + ": 1 error\n");
}

TEST_CASE("sluice check constructs each component, as a deploy would, beside the graph's other errors") {
  Scratch scratch;
  const std::string file = data_dir + "/check_constructor.yaml";
  Run run = run_sluice(scratch, "check " + shell_quoted(file) + plugins_option(scratch));
  CHECK(run.status == 1);
  CHECK(run.out == "");
  // Each constructor's error at the param it names, and the edge's error too: one run.
  CHECK(run.err == file + ":4:49: error: node 'out': check_sink failed to start: param 'path' is empty\n" +
                       file + ":5:50: error: node 'also': check_sink failed to start: param 'path' is empty\n" +
                       file + ":6:38: error: edge 'in -> nowhere': unknown node 'nowhere'\n" + file + ": 3 errors\n");
}

TEST_CASE("sluice dot prints DOT, or the file's errors") {
  Scratch scratch;
  Run run = run_sluice(scratch, "dot " + shell_quoted(data_dir + "/check_ok.yaml"));
  CHECK(run.status == 0);
  CHECK(run.out == R"(digraph "check_ok" {
  rankdir=LR;
  node [shape=box, style=rounded];
  "in" [label="in\ncheck_source"];
  "out" [label="out\ncheck_sink"];
  "in" -> "out";
}
)");

  // An unclosed list: the parser stops at the end of the file, after the last line.
  const std::string file = data_dir + "/check_syntax_error.yaml";
  run = run_sluice(scratch, "dot " + shell_quoted(file));
  CHECK(run.status == 1);
  CHECK(run.out == "");
  CHECK(run.err == file + ":5:1: error: invalid YAML: end of sequence flow not found\n" + file +
                       ": 1 error\n");
}
