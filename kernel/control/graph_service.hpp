// GraphService — the graphs a server runs and the directory that keeps them: deploys every
// graph file at start and again when the files change (watch_directory(), SIGHUP), deploys and
// persists PUT graphs, removes DELETEd ones, and redeploys the graphs whose components a
// plugin reload replaced.
//
//   GraphService graphs(runtime, registry, "graphs", paths, true, control_loop);
//   for (auto& line : graphs.deploy_directory().errors) std::cerr << line << '\n';
//   graphs.watch_directory([](const DirectoryReport& r) { log(r); });
//   graphs.post([&] { auto outcome = graphs.put("enrich", yaml_text); ... });
//
// Deploying constructs components (a model may load) and removing drains a graph: both can
// take long, so they run as jobs of the control loop, one at a time, through post(); the
// HTTP threads stay free and deploys never race each other. put(), remove(),
// redeploy_using() and deploy_directory() must be called from such a job (the first
// deploy_directory() may run before any post()).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "graph/graph_spec.hpp"
#include "registry/component_catalog.hpp"
#include "runtime/runtime.hpp"
#include "support/control_loop.hpp"

namespace sluice {

class FileTreeWatcher;

// What the control plane refuses or could not finish, in its own terms; the ingress answers
// each kind with its HTTP status.
class GraphError : public std::runtime_error {
 public:
  enum class Kind {
    invalid,        // the graph does not validate: problems() says where
    deploy_failed,  // it validates, but constructing its components failed
    not_saved,      // it was deployed and runs, but its file could not be written
    not_deleted,    // it was removed, but its file (file()) could not be deleted
  };
  GraphError(Kind kind, std::string graph, const std::string& message, std::vector<Diagnostic> problems = {},
             std::filesystem::path file = {})
      : std::runtime_error(message),
        kind_(kind),
        graph_(std::move(graph)),
        problems_(std::move(problems)),
        file_(std::move(file)) {}
  Kind kind() const { return kind_; }
  const std::string& graph() const { return graph_; }
  const std::vector<Diagnostic>& problems() const { return problems_; }
  const std::filesystem::path& file() const { return file_; }

 private:
  Kind kind_;
  std::string graph_;
  std::vector<Diagnostic> problems_;
  std::filesystem::path file_;
};

class GraphService {
 public:
  // Graphs' file paths and secret references resolve under `paths` (the data root).
  // `write_ahead_log`: the server logs submissions (a graph may then ask for `durability: wal`).
  // Its jobs run on `loop`.
  GraphService(Runtime& runtime, const ComponentCatalog& catalog, std::filesystem::path directory,
               PathPolicy paths, bool write_ahead_log, ControlLoop& loop);
  ~GraphService();  // stop()
  GraphService(const GraphService&) = delete;
  GraphService& operator=(const GraphService&) = delete;

  struct DirectoryReport {
    std::vector<std::string> deployed;  // graph names, (re)deployed from their files
    std::vector<std::string> removed;   // graph names whose file is gone
    std::vector<std::string> errors;    // "file:line:col: error: message", one per problem
  };
  // Brings the running graphs in line with the *.yaml / *.yml files of the directory (sorted
  // by name): a new or changed file is deployed, a graph whose file is gone is removed, an
  // unchanged file is left alone. A file with errors is reported (each version of it once) and
  // skipped; the graph it held before keeps running. A missing directory is created (PUT
  // persists into it).
  DirectoryReport deploy_directory();

  // Runs deploy_directory() as a job whenever a graph file of the directory is
  // created, written, renamed or deleted (inotify), and hands each report to `on_reload`
  // there. Throws std::system_error when inotify is unavailable.
  void watch_directory(std::function<void(const DirectoryReport&)> on_reload);

  // Runs `job` on the control loop, after the jobs posted before it. False (and `job` is
  // dropped) once stop() was called.
  bool post(std::function<void()> job);
  // Stops watching the directory and taking jobs, and waits for the jobs already posted.
  // Idempotent; not from a job.
  void stop();

  struct PutOutcome {
    bool created = false;  // no graph of that name ran before
    std::filesystem::path file;
  };
  // Validates `text` (YAML, or JSON, which YAML reads too) as the graph `name`, deploys it and
  // writes it to its file atomically. Throws GraphError: `invalid` with every problem,
  // `deploy_failed` with the deploy's message, `not_saved` when the file cannot be written
  // (the graph then runs, but would be lost on restart).
  PutOutcome put(const std::string& name, std::string_view text);
  // Drains and removes the graph and deletes its file; false when there was no such graph.
  // Throws GraphError `not_deleted` when the file stays.
  bool remove(const std::string& name);
  // Re-plans the running graphs that use any of `components` against the catalog as it is now
  // and redeploys them (drain, then swap). Returns one line per graph redeployed and per
  // problem (the old instances keep running then), for the server's log.
  std::vector<std::string> redeploy_using(const std::vector<std::string>& components);

  // How a running graph stands against the plugins loaded now. A graph whose component's
  // plugin file is gone is degraded: it keeps running on the build it loaded until it is
  // undeployed or the plugin comes back (which redeploys it).
  struct NodePlugin {
    std::string node;
    std::string component;                 // as the graph names it
    std::optional<ComponentOrigin> runs;   // the build it runs; nullopt: built into this program
    bool missing = false;                  // no loaded plugin offers the component any more
    bool outdated = false;                 // another build offers it now (its redeploy failed)
  };
  struct PluginState {
    std::vector<NodePlugin> nodes;  // in the plan's order
    std::vector<std::string> missing;  // the components gone, sorted, each once
    bool degraded() const { return !missing.empty(); }
  };
  PluginState plugin_state(const GraphPlan& plan) const;

  const std::filesystem::path& directory() const { return directory_; }
  // The file a graph is kept in (its own file when it came from the directory).
  std::filesystem::path file_of(const std::string& name) const;

 private:
  // `durability: wal` promises what a server without a write-ahead log cannot keep.
  void check_durability(const GraphSpec& spec, std::vector<Diagnostic>& errors) const;

  Runtime& runtime_;
  const ComponentCatalog& catalog_;
  std::filesystem::path directory_;
  PathPolicy paths_;
  bool write_ahead_log_;

  mutable std::mutex files_mutex_;
  // graph name → the file it was deployed from or saved to
  std::map<std::string, std::filesystem::path> files_;
  // file → the text whose errors deploy_directory() reported last (jobs only)
  std::map<std::filesystem::path, std::string> rejected_texts_;

  ControlLoop& loop_;
  std::mutex post_mutex_;
  bool stopping_ = false;
  // Reset first in stop(): it posts jobs.
  std::unique_ptr<FileTreeWatcher> watcher_;
};

// The ETag of a deployed version: a hash of the text it was deployed from, quoted
// ("\"9f3a…\""), the same after a restart. GET /v1/graphs/{g} sends it; PUT with If-Match
// compares it.
std::string graph_etag(const GraphPlan& plan);

// A graph name that can safely name a file in the graphs directory.
bool is_graph_file_name(std::string_view name);

}  // namespace sluice
