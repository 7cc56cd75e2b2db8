#include "control/graph_service.hpp"

#include <algorithm>

#include "control/graph_loading.hpp"
#include "registry/file_tree_watcher.hpp"
#include "support/files.hpp"
#include "support/log.hpp"
#include "support/strings.hpp"

namespace sluice {

namespace fs = std::filesystem;

bool is_graph_file_name(std::string_view name) {
  if (name.empty() || name.size() > 200 || name.front() == '.' || name.front() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

GraphService::GraphService(Runtime& runtime, const ComponentCatalog& catalog, fs::path directory,
                           PathPolicy paths, bool write_ahead_log, ControlLoop& loop)
    : runtime_(runtime),
      catalog_(catalog),
      directory_(std::move(directory)),
      paths_(std::move(paths)),
      write_ahead_log_(write_ahead_log),
      loop_(loop) {}

GraphService::~GraphService() { stop(); }

void GraphService::stop() {
  watcher_.reset();  // it posts reloads
  {
    // Every post() that got through did so before this: the wait below covers its job.
    std::lock_guard lock(post_mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  loop_.wait_for_jobs();
}

bool GraphService::post(std::function<void()> job) {
  std::lock_guard lock(post_mutex_);
  if (stopping_) return false;
  return loop_.post_job(std::move(job));
}

namespace {

// The graph files of `directory` (created if missing), in name order; nullopt, with the
// reason in `errors`, when it cannot be listed.
std::optional<std::vector<fs::path>> graph_files(const fs::path& directory, std::vector<std::string>& errors) {
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) {
    errors.push_back(directory.string() + ": error: cannot create the graphs directory: " + ec.message());
    return std::nullopt;
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    const auto extension = entry.path().extension();
    if (entry.is_regular_file() && (extension == ".yaml" || extension == ".yml")) files.push_back(entry.path());
  }
  if (ec) {
    errors.push_back(directory.string() + ": error: cannot list the directory: " + ec.message());
    return std::nullopt;
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

GraphService::DirectoryReport GraphService::deploy_directory() {
  DirectoryReport report;
  const std::optional<std::vector<fs::path>> files = graph_files(directory_, report.errors);
  // Without the listing, "not listed" does not mean "deleted": leave every graph running.
  if (!files) return report;

  std::map<std::string, fs::path> previous;
  {
    std::lock_guard lock(files_mutex_);
    previous = files_;
  }
  std::map<std::string, fs::path> listed;  // graph name → file, as the directory is now
  std::map<fs::path, std::string> rejected;
  // A version of a file is reported once, not again at every change elsewhere in the directory.
  auto reject = [&](const fs::path& file, const std::string& text, const std::vector<std::string>& lines) {
    const auto before = rejected_texts_.find(file);
    if (before == rejected_texts_.end() || before->second != text)
      report.errors.insert(report.errors.end(), lines.begin(), lines.end());
    rejected.emplace(file, text);
  };
  auto formatted = [](const std::vector<Diagnostic>& errors) {
    std::vector<std::string> lines;
    for (const auto& e : in_file_order(errors)) lines.push_back(format(e));
    return lines;
  };
  for (const auto& file : *files) {
    LoadedGraph graph = read_graph_file(file);
    const GraphSpec& spec = graph.spec;
    std::vector<Diagnostic>& errors = graph.errors;
    check_durability(spec, errors);
    if (!errors.empty()) {
      // The graph this file held before, if any, keeps running from its last good version.
      for (const auto& [name, known] : previous)
        if (known == file) listed.emplace(name, file);
      reject(file, spec.yaml_text, formatted(errors));
      continue;
    }
    if (const auto other = listed.find(spec.name); other != listed.end()) {
      reject(file, spec.yaml_text,
             {file.string() + ": error: graph " + json_quoted(spec.name) + " is already deployed from " +
              other->second.string() + "; this file is skipped"});
      continue;
    }
    listed.emplace(spec.name, file);
    const auto running = runtime_.graph(spec.name);
    if (running && running->spec.yaml_text == spec.yaml_text) continue;  // unchanged
    validate(graph, catalog_, Validation::plan, paths_);
    if (!graph.plan) {
      reject(file, spec.yaml_text, formatted(errors));
      continue;
    }
    try {
      runtime_.deploy(std::move(*graph.plan));
    } catch (const DeployError& e) {
      reject(file, spec.yaml_text,
             {file.string() + ": error: deploying graph " + json_quoted(spec.name) + " failed: " + e.what()});
      continue;
    }
    report.deployed.push_back(spec.name);
  }
  for (const auto& [name, file] : previous)
    if (!listed.contains(name) && runtime_.undeploy(name)) report.removed.push_back(name);
  rejected_texts_ = std::move(rejected);

  std::lock_guard lock(files_mutex_);
  files_ = std::move(listed);
  return report;
}

void GraphService::watch_directory(std::function<void(const DirectoryReport&)> on_reload) {
  watcher_ = std::make_unique<FileTreeWatcher>(
      loop_, std::vector<fs::path>{directory_}, 0, std::vector<std::string>{".yaml", ".yml"},
      [this, on_reload = std::move(on_reload)](const std::set<fs::path>&) {
        // A file still being written is read again when it is closed.
        post([this, on_reload] { on_reload(deploy_directory()); });
      });
}

void GraphService::check_durability(const GraphSpec& spec, std::vector<Diagnostic>& errors) const {
  if (spec.durability == Durability::wal && !write_ahead_log_)
    errors.push_back({spec.durability_where,
                      "'durability: wal' needs the write-ahead log, and this server runs with --durability none"});
}

fs::path GraphService::file_of(const std::string& name) const {
  std::lock_guard lock(files_mutex_);
  if (const auto it = files_.find(name); it != files_.end()) return it->second;
  return directory_ / (name + ".yaml");
}

GraphService::PutOutcome GraphService::put(const std::string& name, std::string_view text) {
  PutOutcome outcome;
  outcome.file = file_of(name);
  // Read under the graphs/<name>.yaml file name: a body without `name` takes it from there.
  LoadedGraph graph = read_graph_text(text, directory_ / (name + ".yaml"));
  if (graph.errors.empty() && graph.spec.name != name) {
    Diagnostic mismatch{graph.spec.where, "the graph is named " + json_quoted(graph.spec.name) +
                                              " but the URL names " + json_quoted(name) +
                                              " (leave 'name' out or make them equal)"};
    mismatch.where.line = std::max<std::size_t>(mismatch.where.line, 1);
    mismatch.where.column = std::max<std::size_t>(mismatch.where.column, 1);
    graph.errors.push_back(std::move(mismatch));
  }
  check_durability(graph.spec, graph.errors);
  // Every error in one answer: the spec's, and those of constructing each component.
  if (graph.errors.empty()) validate(graph, catalog_, Validation::construct, paths_);
  if (!graph.plan) throw GraphError(GraphError::Kind::invalid, name, "invalid graph", std::move(graph.errors));

  outcome.created = runtime_.graph(name) == nullptr;
  try {
    runtime_.deploy(std::move(*graph.plan));
  } catch (const DeployError& e) {
    throw GraphError(GraphError::Kind::deploy_failed, name, std::string("deploying the graph failed: ") + e.what());
  }
  try {
    replace_file(outcome.file, text);
  } catch (const std::exception& e) {
    throw GraphError(GraphError::Kind::not_saved, name,
                     std::string("the graph was deployed but not saved: ") + e.what());
  }
  std::lock_guard lock(files_mutex_);
  files_[name] = outcome.file;  // so that deleting the file removes the graph
  return outcome;
}

bool GraphService::remove(const std::string& name) {
  const fs::path file = file_of(name);
  if (!runtime_.undeploy(name)) return false;
  std::error_code ec;
  fs::remove(file, ec);
  if (ec)
    throw GraphError(GraphError::Kind::not_deleted, name,
                     "the graph was removed but its file could not be deleted: " + ec.message(), {}, file);
  std::lock_guard lock(files_mutex_);
  files_.erase(name);
  return true;
}

std::vector<std::string> GraphService::redeploy_using(const std::vector<std::string>& components) {
  std::vector<std::string> report;
  for (const auto& name : runtime_.graphs_using(components)) {
    const auto current = runtime_.graph(name);
    if (!current) continue;  // removed meanwhile
    std::vector<Diagnostic> errors;
    std::optional<GraphPlan> plan = plan_graph(current->spec, catalog_, errors, paths_);
    for (const auto& e : errors) report.push_back(format(e));
    if (!plan) {
      const PluginState state = plugin_state(*current);
      std::string gone;
      for (const auto& component : state.missing) gone += (gone.empty() ? "" : ", ") + json_quoted(component);
      report.push_back(state.degraded() ? "graph " + json_quoted(name) + " is degraded: no loaded plugin offers " +
                                              gone + " any more; it keeps running on the build it loaded until "
                                              "it is undeployed or the plugin is back"
                                        : "graph " + json_quoted(name) + " keeps running with the components it had");
      continue;
    }
    try {
      runtime_.deploy(std::move(*plan));
      report.push_back("redeployed graph " + json_quoted(name) + " with the reloaded plugin");
    } catch (const DeployError& e) {
      report.push_back("redeploying graph " + json_quoted(name) + " failed (it keeps running as it was): " +
                         e.what());
    }
  }
  return report;
}

GraphService::PluginState GraphService::plugin_state(const GraphPlan& plan) const {
  std::map<std::string_view, std::string_view> written;  // node id → component as written
  for (const auto& node : plan.spec.nodes) written.emplace(node.id, node.component);
  PluginState state;
  for (const auto& node : plan.nodes) {
    NodePlugin entry{node.id, std::string(written[node.id]), node.origin};
    if (!catalog_.find(entry.component)) {
      entry.missing = true;
      state.missing.push_back(entry.component);
    } else if (node.origin) {
      const auto now = catalog_.origin(entry.component);
      entry.outdated = !now || now->hash != node.origin->hash;
    }
    state.nodes.push_back(std::move(entry));
  }
  std::sort(state.missing.begin(), state.missing.end());
  state.missing.erase(std::unique(state.missing.begin(), state.missing.end()), state.missing.end());
  return state;
}

std::string graph_etag(const GraphPlan& plan) {
  // FNV-1a, 64 bits: stable across processes and builds, unlike std::hash.
  std::uint64_t hash = 14695981039346656037ull;
  for (const unsigned char c : plan.spec.yaml_text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char text[24];
  std::snprintf(text, sizeof text, "\"%016llx\"", static_cast<unsigned long long>(hash));
  return text;
}

}  // namespace sluice
