// `sluice serve`: the REST server — registry, runtime, the graphs directory, HTTP ingress.
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "cli/commands.hpp"
#include "durability/durable_ingest.hpp"
#include "control/graph_service.hpp"
#include "ingress/http_server.hpp"
#include "ingress/origin_policy.hpp"
#include "ingress/rest_api.hpp"
#include "registry/crash_quarantine.hpp"
#include "registry/plugin_registry.hpp"
#include "runtime/runtime.hpp"
#include "support/log.hpp"

namespace sluice::cli {

namespace {

struct ServeSettings {
  std::string listen = "127.0.0.1:8080";
  std::string graphs_dir = "graphs";
  std::vector<std::string> plugin_dirs;
  std::size_t workers = 0;
  std::size_t fiber_stack_bytes = fiber_stacks::default_stack_bytes;
  std::size_t http_threads = 2;
  std::string token_file;
  std::vector<std::string> open_routes;
  std::size_t max_body = std::size_t{64} << 20;
  std::size_t stream_history_bytes = RuntimeOptions{}.finished_stream_bytes;
  std::size_t max_queued = RuntimeOptions{}.max_queued_packets;
  std::size_t max_queued_bytes = RuntimeOptions{}.max_queued_bytes;
  std::size_t dead_letter_bytes = RuntimeOptions{}.dead_letter_bytes;
  std::string editor_dir;
  HttpServerOptions http;  // the connection limits; listen address and body limit come from above
  std::string state_dir;  // "": var/ beside the graphs directory
  std::string durability = "wal";
  bool fsync = false;
  std::uint64_t max_wal_bytes = std::uint64_t{1} << 30;
  std::string data_dir;   // "": the state directory's data/
  std::vector<std::string> allow_paths;
  std::vector<std::string> allowed_hosts;
  std::vector<std::string> allow_origins;
  bool insecure = false;
  std::string log_level = "info";
  std::string log_format = "text";
  std::chrono::milliseconds drain_timeout{30000};
  std::chrono::milliseconds plugin_load_timeout = PluginRegistryOptions{}.probe_timeout;
};

namespace fs = std::filesystem;

// --state-dir, or var/ beside the graphs directory.
fs::path state_directory(const ServeSettings& settings) {
  if (!settings.state_dir.empty()) return settings.state_dir;
  fs::path graphs = fs::path(settings.graphs_dir).lexically_normal();
  if (!graphs.has_filename()) graphs = graphs.parent_path();  // "graphs/"
  return graphs.parent_path() / "var";
}

// The data root and the --allow-path directories, canonical (created when missing: the data
// root is the server's own); nullopt after printing why not.
std::optional<PathPolicy> file_policy(const ServeSettings& settings) {
  const fs::path data = settings.data_dir.empty() ? state_directory(settings) / "data" : fs::path(settings.data_dir);
  std::error_code ec;
  fs::create_directories(data, ec);
  PathPolicy policy;
  if (!ec) policy.base = fs::canonical(data, ec);
  if (ec) {
    std::cerr << "sluice serve: cannot create the data directory " << data.string() << ": " << ec.message() << '\n';
    return std::nullopt;
  }
  policy.roots.push_back(policy.base);
  for (const auto& dir : settings.allow_paths) {
    policy.roots.push_back(fs::canonical(dir, ec));
    if (ec) {
      std::cerr << "sluice serve: --allow-path " << dir << ": " << ec.message() << '\n';
      return std::nullopt;
    }
  }
  return policy;
}

// "host:port"; the host may be empty (→ 127.0.0.1) and the port 0 (any free port).
std::optional<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) return std::nullopt;
  std::string host(text.substr(0, colon));
  return std::pair(host.empty() ? std::string("127.0.0.1") : host, static_cast<std::uint16_t>(port));
}

// At start and after a change in the graphs directory (or SIGHUP): what was (re)deployed or
// removed, and the problems, in the log.
void log_graph_reload(const GraphService::DirectoryReport& report) {
  for (const auto& line : report.errors) log::error("{}", line);
  for (const auto& name : report.deployed) log::info("deployed graph '{}' from its file", name);
  for (const auto& name : report.removed) log::info("removed graph '{}' (its file is gone)", name);
}

// Plugin reloads arrive in the control loop's watch handler; redeploys run as the graph
// service's jobs on the control loop. The relay is cut before the service stops, so a late
// change never reaches a service that is gone.
struct ChangeRelay {
  std::mutex mutex;
  GraphService* graphs = nullptr;
};

bool configure_logging(const ServeSettings& settings) {
  try {
    log::configure(settings.log_level, settings.log_format == "json" ? log::Format::json : log::Format::text);
  } catch (const std::invalid_argument& e) {
    std::cerr << "sluice serve: --log-level: " << e.what() << '\n';
    return false;
  }
  return true;
}

// Who may reach the server and which files its graphs may touch, the settings checked.
struct ServeAccess {
  std::pair<std::string, std::uint16_t> listen;  // host, port
  AccessTokens tokens;
  PathPolicy paths;
};

// --token-file's tokens (none without it); nullopt after printing why not.
std::optional<AccessTokens> access_tokens(const ServeSettings& settings) {
  if (settings.token_file.empty()) {
    if (settings.open_routes.empty()) return AccessTokens{};
    std::cerr << "sluice serve: --open-route needs --token-file (without tokens every route is open)\n";
    return std::nullopt;
  }
  try {
    return AccessTokens::load(settings.token_file);
  } catch (const std::exception& e) {
    std::cerr << "sluice serve: " << e.what() << '\n';
    return std::nullopt;
  }
}

// nullopt after printing why the settings make no server.
std::optional<ServeAccess> checked_access(const ServeSettings& settings) {
  const auto listen = parse_listen(settings.listen);
  if (!listen) {
    std::cerr << "sluice serve: --listen " << settings.listen << " is not HOST:PORT (e.g. 127.0.0.1:8080)\n";
    return std::nullopt;
  }
  std::optional<AccessTokens> tokens = access_tokens(settings);
  if (!tokens) return std::nullopt;
  if (tokens->empty() && !settings.insecure && !is_loopback_host(listen->first)) {
    std::cerr << "sluice serve: --listen " << settings.listen
              << " is reachable from other machines, and without --token-file anyone who reaches it may "
                 "deploy graphs; give --token-file FILE, or --insecure to serve it so\n";
    return std::nullopt;
  }
  std::optional<PathPolicy> paths = file_policy(settings);
  if (!paths) return std::nullopt;
  return ServeAccess{*listen, std::move(*tokens), std::move(*paths)};
}

// SIGTERM, SIGINT and SIGHUP, blocked in the calling thread (and the threads it starts after).
sigset_t block_handled_signals() {
  sigset_t handled_signals;
  sigemptyset(&handled_signals);
  sigaddset(&handled_signals, SIGTERM);
  sigaddset(&handled_signals, SIGINT);
  sigaddset(&handled_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &handled_signals, nullptr);
  return handled_signals;
}

PluginRegistryOptions registry_options(const ServeSettings& settings) {
  PluginRegistryOptions options;
  options.probe_timeout = settings.plugin_load_timeout;
  options.log_changes = true;
  options.scan_at_start = false;  // Server::load_plugins(), once the port is open
  return options;
}

// The server's parts, declared in the order they start (and so destroyed in the reverse); its
// public members are the steps of serve(), in the order it takes them.
class Server {
 public:
  Server(const ServeSettings& settings, const ServeAccess& access)
      : settings_(settings),
        access_(access),
        registry_(plugin_search_path(settings.plugin_dirs), registry_options(settings)),
        state_dir_(state_directory(settings)),
        runtime_({.workers = settings.workers,
                  .max_queued_packets = settings.max_queued,
                  .max_queued_bytes = settings.max_queued_bytes,
                  .dead_letter_bytes = settings.dead_letter_bytes,
                  .finished_stream_bytes = settings.stream_history_bytes,
                  .fiber_stack_bytes = settings.fiber_stack_bytes,
                  .state_dir = state_dir_.string(),
                  .control_loop = &control_loop_}),
        graphs_(runtime_, registry_, settings.graphs_dir, access.paths, settings.durability == "wal", control_loop_) {}

  // With --durability wal; false after logging why it cannot be opened.
  bool open_write_ahead_log() {
    if (settings_.durability != "wal") return true;
    // For power-loss tests (docs/durability.md): not a setting anyone tunes.
    const char* sync_journal = std::getenv("SLUICE_WAL_SYNC_JOURNAL");
    try {
      ingest_ = std::make_unique<DurableIngest>(
          runtime_,
          WriteAheadLogOptions{.dir = state_dir_ / "wal",
                               .max_bytes = settings_.max_wal_bytes,
                               .sync = settings_.fsync ? SyncPolicy::every_append : SyncPolicy::periodic,
                               .sync_journal = sync_journal ? sync_journal : ""},
          state_dir_ / "lost");
    } catch (const std::exception& e) {
      log::error("--state-dir {}: {}", state_dir_.string(), e.what());
      return false;
    }
    return true;
  }

  // The REST API on the HTTP port, still "starting"; false after logging why the port did not open.
  bool open_port() {
    editor_dir_ = settings_.editor_dir.empty() ? bundled_editor_dir() : settings_.editor_dir;
    RestApi& api = api_.emplace(
        runtime_, registry_, graphs_, control_loop_,
        RestApiOptions{.max_body = settings_.max_body,
                       .max_packets = settings_.max_queued,
                       .tokens = access_.tokens,
                       .open_routes = settings_.open_routes,
                       .editor_dir = editor_dir_,
                       .ingest = ingest_.get(),
                       .origins = {.listen_host = access_.listen.first,
                                   .allowed_hosts = settings_.allowed_hosts,
                                   .allowed_origins = settings_.allow_origins}});
    api.set_starting(true);
    HttpServer& http_server = http_server_.emplace(
        http_server_options(),
        [&api](HttpRequest&& request, Responder&& responder) {
          api.handle(std::move(request), std::move(responder));
        },
        [&api](int status) { api.count_response(status); });
    try {
      http_server.start();
    } catch (const std::exception& e) {
      log::error("{}", e.what());
      return false;
    }
    url_ = "http://" + access_.listen.first + ":" + std::to_string(http_server.port());
    std::cout << "sluice serve: port open at " << url_
              << "; loading the plugins and the graphs (/readyz answers 503 until they are)" << std::endl;
    return true;
  }

  void load_plugins() {
    registry_.rescan();
    try {
      registry_.watch(control_loop_);
    } catch (const std::system_error& e) {
      log::warn("plugin directories are not watched ({}); new plugins need a restart", e.what());
    }
    warn_if_no_components(registry_, "serve");
  }

  // The graphs directory's files, deployed now and whenever they change.
  GraphService::DirectoryReport deploy_graphs() {
    GraphService::DirectoryReport report = graphs_.deploy_directory();
    log_graph_reload(report);
    try {
      graphs_.watch_directory(log_graph_reload);
    } catch (const std::system_error& e) {
      log::warn("the graphs directory is not watched ({}); send SIGHUP after editing a graph file", e.what());
    }
    return report;
  }

  // A plugin that changes redeploys the graphs that use it.
  void relay_plugin_changes() {
    relay_ = std::make_shared<ChangeRelay>();
    relay_->graphs = &graphs_;
    registry_.on_change([relay = relay_](const std::vector<std::string>& changed) {
      std::lock_guard lock(relay->mutex);
      if (!relay->graphs) return;
      GraphService& service = *relay->graphs;
      service.post([&service, changed] {
        for (const auto& line : service.redeploy_using(changed)) log::info("{}", line);
      });
    });
  }

  // /readyz and the graph routes stop answering "starting".
  void mark_started() { api_->set_starting(false); }

  // Where the server listens and what it serves, with a request to try.
  void print_listening(const GraphService::DirectoryReport& report) {
    std::cout << "sluice serve: listening on " << url_ << " — " << report.deployed.size() << " graph"
              << (report.deployed.size() == 1 ? "" : "s") << " from " << settings_.graphs_dir << ", "
              << registry_.names().size() << " components, " << runtime_.worker_count() << " workers\n";
    std::cout << "sluice serve: graphs read and write files in " << access_.paths.base.string() << '\n';
    if (report.deployed.empty())
      std::cout << "try: curl " << url_ << "/v1/components\n";
    else
      std::cout << "try: curl -H 'Content-Type: application/json' -d '{\"hello\": \"world\"}' '" << url_
                << "/v1/graphs/" << report.deployed.front() << "/packets?wait=true'\n";
    if (!editor_dir_.empty()) std::cout << "editor: " << url_ << "/ (from " << editor_dir_ << ")\n";
    std::cout.flush();
  }

  // Replays the submissions the write-ahead log holds (with --durability wal).
  void recover_write_ahead_log() {
    if (!ingest_) return;
    // New submissions answer 503 and /readyz is false until this is done.
    const RecoveryReport recovery = ingest_->recover();
    for (const auto& line : recovery.lines) log::warn("write-ahead log: {}", line);
    std::cout << "sluice serve: write-ahead log in " << (state_dir_ / "wal").string() << ": replayed "
              << recovery.replayed << " submissions (" << recovery.replayed_packets << " packets"
              << (recovery.replayed_into_changed ? ", " + std::to_string(recovery.replayed_into_changed) + " into a changed graph" : "")
              << "), "
              << recovery.lost << " lost, " << recovery.torn << " torn and " << recovery.corrupt
              << " corrupt records" << (settings_.fsync ? "; answers wait for fdatasync" : "") << std::endl;
  }

  // Reloads on each SIGHUP; returns the signal that stops the server.
  int wait_for_stop(const sigset_t& handled_signals) {
    int signal_number = 0;
    while (sigwait(&handled_signals, &signal_number) == 0 && signal_number == SIGHUP) {
      log::info("SIGHUP: rescanning the plugins, rereading {}", settings_.graphs_dir);
      registry_.rescan();
      graphs_.post([&graphs = graphs_] { log_graph_reload(graphs.deploy_directory()); });
    }
    return signal_number;
  }

  void shut_down(int signal_number) {
    std::cout << "sluice serve: " << (signal_number == SIGINT ? "SIGINT" : "SIGTERM")
              << ": stopping (new data answers 503; draining the graphs)" << std::endl;
    api_->stop_admitting();
    {
      std::lock_guard lock(relay_->mutex);
      relay_->graphs = nullptr;
    }
    graphs_.stop();  // deploys already asked for finish; later ones answer 503
    drain_within_deadline();
    api_->end_taps();  // the taps, closed by the shutdown, say so
    http_server_->stop();
    ingest_.reset();  // before the api goes: answers waiting for the log's last sync go through it
    std::cout << "sluice serve: stopped" << std::endl;
  }

 private:
  HttpServerOptions http_server_options() const {
    HttpServerOptions http = settings_.http;
    http.host = access_.listen.first;
    http.port = access_.listen.second;
    http.threads = settings_.http_threads;
    http.max_body = settings_.max_body;
    return http;
  }

  // The drain has a deadline: what is not done by then stays in the write-ahead log and is
  // replayed by the next start, as after a crash (which the log survives).
  void drain_within_deadline() {
    std::promise<void> drained;
    std::thread drain_deadline([this, done = drained.get_future()] {
      if (done.wait_for(settings_.drain_timeout) == std::future_status::ready) return;
      const bool kept = ingest_ && ingest_->sync();
      log::warn("the graphs did not drain within --drain-timeout {} ms: exiting; {}",
                settings_.drain_timeout.count(),
                kept ? "what is not done stays in the write-ahead log for the next start"
                     : "what is not done is lost (no write-ahead log: --durability none)");
      std::cout.flush();
      std::_Exit(0);
    });
    runtime_.shutdown();  // drains: waiting callers get their results over the still-open server
    drained.set_value();
    drain_deadline.join();
  }

  const ServeSettings& settings_;
  const ServeAccess& access_;
  ControlLoop control_loop_;  // deploys, ?wait=true timeouts, the taps' pump, the stall watchdog, file watches
  PluginRegistry registry_;
  const fs::path state_dir_;
  Runtime runtime_;
  GraphService graphs_;
  std::unique_ptr<DurableIngest> ingest_;  // with --durability wal
  std::string editor_dir_;
  std::optional<RestApi> api_;               // from open_port()
  std::optional<HttpServer> http_server_;    // from open_port()
  std::string url_;
  std::shared_ptr<ChangeRelay> relay_;
};

int serve(const ServeSettings& settings) {
  if (!configure_logging(settings)) return 2;
  const std::optional<ServeAccess> access = checked_access(settings);
  if (!access) return 2;
  // SIGTERM/SIGINT (stop) and SIGHUP (reload) are taken by sigwait() (Server::wait_for_stop()), so
  // they must be blocked in every thread: block them before the first thread starts (threads
  // inherit the mask).
  const sigset_t handled_signals = block_handled_signals();
  // Before any plugin is loaded: a plugin that crashes the server is kept out at the next start.
  crash_quarantine::install(PluginImageCache::default_dir());
  // The port opens first (/healthz answers, /readyz says "starting"); the plugins are scanned
  // and the graph files deployed after, so that a slow plugin delays readiness, not the port.
  Server server(settings, *access);
  if (!server.open_write_ahead_log() || !server.open_port()) return 1;
  server.load_plugins();
  const GraphService::DirectoryReport report = server.deploy_graphs();
  server.relay_plugin_changes();
  server.mark_started();
  server.print_listening(report);
  server.recover_write_ahead_log();
  server.shut_down(server.wait_for_stop(handled_signals));
  return 0;
}

// --listen, --graphs, --plugins, the threads.
void add_serving_options(CLI::App& command, ServeSettings& settings) {
  command.add_option("--listen", settings.listen, "HOST:PORT to listen on; port 0 picks a free port")
      ->capture_default_str();
  command.add_option("--graphs", settings.graphs_dir,
                     "directory of graph files: deployed at start and when they change (or on SIGHUP); PUT persists here")
      ->capture_default_str();
  add_plugin_dirs_option(command, settings.plugin_dirs);
  command.add_option("--workers", settings.workers, "worker threads (0: one per core)")->capture_default_str();
  add_fiber_stack_option(command, settings.fiber_stack_bytes);
  command.add_option("--http-threads", settings.http_threads, "HTTP I/O threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
}

void add_token_options(CLI::App& command, ServeSettings& settings) {
  command.add_option("--token-file", settings.token_file,
                     "bearer tokens, one per line with its role (read, data, admin; none: admin), the token itself "
                     "or sha256:HEX of it; every route then needs a token whose role covers it")
      ->check(CLI::ExistingFile);
  command.add_option("--open-route", settings.open_routes,
                     "a probe route that stays open without a token, for scrapers and health checks (repeatable)")
      ->check(CLI::IsMember({"healthz", "readyz", "metrics"}));
}

// Sizes and counts beyond which requests are refused or history dropped.
void add_limit_options(CLI::App& command, ServeSettings& settings) {
  command.add_option("--max-body", settings.max_body, "largest request body, e.g. 1048576, 64MiB")
      ->transform(byte_size)
      ->capture_default_str();
  command.add_option("--stream-history-bytes", settings.stream_history_bytes,
                     "packets (results, failed packets) finished streams keep for GET /v1/streams/{id}; beyond "
                     "it the oldest keep only their counts and error messages")
      ->transform(byte_size)
      ->capture_default_str();
  command.add_option("--max-queued", settings.max_queued,
                     "packets a graph may hold not yet taken in; beyond it POST answers 429")
      ->check(at_least_one)
      ->capture_default_str();
  command.add_option("--max-queued-bytes", settings.max_queued_bytes,
                     "memory the packets a graph instance holds not yet taken in may take, e.g. 64MiB; beyond it "
                     "POST answers 429 (edges have their own bound: capacity_bytes in the graph)")
      ->transform(byte_size)
      ->check(at_least_one)
      ->capture_default_str();
  command.add_option("--dead-letter-bytes", settings.dead_letter_bytes,
                     "memory a graph's dead letters may take; beyond it (or 10000 letters) the oldest are dropped")
      ->transform(byte_size)
      ->capture_default_str();
  command.add_option("--max-connections", settings.http.max_connections,
                     "open connections beyond this are answered 503 (an idle one gives way first)")
      ->check(at_least_one)
      ->capture_default_str();
}

// An option such as 30s, 500ms or 5m (not 0).
void add_duration_option(CLI::App& command, const char* name, std::chrono::milliseconds& target,
                         const char* help) {
  command.add_option_function<std::string>(name, [&target, name](const std::string& text) {
    const auto parsed = parse_duration(text);
    if (!parsed || parsed->count() == 0)
      throw CLI::ValidationError(name, text + " is not a duration such as 30s, 500ms or 5m");
    target = *parsed;
  }, help);
}

void add_timeout_options(CLI::App& command, ServeSettings& settings) {
  add_duration_option(command, "--header-timeout", settings.http.header_timeout,
                      "time a client has to send a request's head, from its first byte (408 beyond; default 30s)");
  add_duration_option(command, "--drain-timeout", settings.drain_timeout,
                      "on SIGTERM, the longest wait for the graphs to drain; then the server exits, what is not done "
                      "left in the write-ahead log for the next start (default 30s)");
  add_duration_option(command, "--plugin-load-timeout", settings.plugin_load_timeout,
                      "longest a new plugin file may take to load in its probe process before it is rejected "
                      "(default 10s)");
  add_duration_option(command, "--idle-timeout", settings.http.idle_timeout,
                      "longest silence of a client: between requests, or inside a body (default 5m)");
}

// The editor's files, the state directory and its write-ahead log, the files graphs may use.
void add_file_options(CLI::App& command, ServeSettings& settings) {
  command.add_option("--editor", settings.editor_dir,
                     "directory of the editor's static files, served at / (default: the editor built or installed with "
                     "this binary)")
      ->check(CLI::ExistingDirectory);
  command.add_option("--state-dir", settings.state_dir,
                     "the server's own files: the write-ahead log (wal/), lost submissions (lost/), the data root (data/); "
                     "default: var/ beside the graphs directory");
  command.add_option("--durability", settings.durability,
                     "wal: a submission is answered once it is in the write-ahead log and replayed "
                     "after a crash; none: in memory only")
      ->check(CLI::IsMember({"none", "wal"}))
      ->capture_default_str();
  command.add_flag("--fsync", settings.fsync,
                   "answer only once the log is fdatasynced (survives power loss; concurrent "
                   "submissions share a sync); default: written to the kernel, synced every second");
  command.add_option("--max-wal-bytes", settings.max_wal_bytes,
                     "bytes the write-ahead log may hold, e.g. 1GiB; beyond it POST answers 503")
      ->transform(byte_size)
      ->capture_default_str();
  command.add_option("--data-dir", settings.data_dir,
                     "where graphs' file params (jsonl_file path, …) resolve and must stay (default: "
                     "the state directory's data/)");
  command.add_option("--allow-path", settings.allow_paths,
                     "a further directory graphs' file params may name (repeatable)")
      ->check(CLI::ExistingDirectory);
}

// The Host headers and web origins answered, and --insecure.
void add_origin_options(CLI::App& command, ServeSettings& settings) {
  command.add_option("--allowed-host", settings.allowed_hosts,
                     "a Host header name to answer besides loopback names and the listen address, e.g. the "
                     "name a load balancer is reached by (repeatable)");
  command.add_option("--allow-origin", settings.allow_origins,
                     "a web origin (scheme://host[:port]) whose pages may call the API: CORS (repeatable)");
  command.add_flag("--insecure", settings.insecure,
                   "serve a non-loopback --listen address without --token-file");
}

void add_log_options(CLI::App& command, ServeSettings& settings) {
  command.add_option("--log-level", settings.log_level,
                     "the least severe log lines written to stderr: trace, debug, info, warn, error, off")
      ->capture_default_str();
  command.add_option("--log-format", settings.log_format,
                     "text: a UTC timestamp, the level and the message per line; json: one JSON object per line")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
}

}  // namespace

// The options are added in the order --help lists them.
void add_serve_command(CLI::App& app) {
  auto settings = std::make_shared<ServeSettings>();
  CLI::App* command = app.add_subcommand("serve", "run the REST server: deploy the graphs directory, take data over HTTP");
  add_serving_options(*command, *settings);
  add_token_options(*command, *settings);
  add_limit_options(*command, *settings);
  add_timeout_options(*command, *settings);
  add_file_options(*command, *settings);
  add_origin_options(*command, *settings);
  add_log_options(*command, *settings);
  command->callback([settings] { set_exit_code(serve(*settings)); });
}

}  // namespace sluice::cli
