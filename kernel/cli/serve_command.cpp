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

// Plugin reloads arrive on the registry's watcher thread; redeploys run on the graph
// service's control thread. The relay is cut before the service stops, so a late change
// never reaches a service that is gone.
struct ChangeRelay {
  std::mutex mutex;
  GraphService* graphs = nullptr;
};

int serve(const ServeSettings& settings) {
  try {
    log::configure(settings.log_level, settings.log_format == "json" ? log::Format::json : log::Format::text);
  } catch (const std::invalid_argument& e) {
    std::cerr << "sluice serve: --log-level: " << e.what() << '\n';
    return 2;
  }
  const auto listen = parse_listen(settings.listen);
  if (!listen) {
    std::cerr << "sluice serve: --listen " << settings.listen << " is not HOST:PORT (e.g. 127.0.0.1:8080)\n";
    return 2;
  }
  AccessTokens tokens;
  if (!settings.token_file.empty()) {
    try {
      tokens = AccessTokens::load(settings.token_file);
    } catch (const std::exception& e) {
      std::cerr << "sluice serve: " << e.what() << '\n';
      return 2;
    }
  } else if (!settings.open_routes.empty()) {
    std::cerr << "sluice serve: --open-route needs --token-file (without tokens every route is open)\n";
    return 2;
  }
  if (tokens.empty() && !settings.insecure && !is_loopback_host(listen->first)) {
    std::cerr << "sluice serve: --listen " << settings.listen
              << " is reachable from other machines, and without --token-file anyone who reaches it may "
                 "deploy graphs; give --token-file FILE, or --insecure to serve it so\n";
    return 2;
  }
  const auto paths = file_policy(settings);
  if (!paths) return 2;

  // SIGTERM/SIGINT (stop) and SIGHUP (reload) are taken by sigwait() below, so they must be
  // blocked in every thread: block them before the first thread starts (threads inherit the mask).
  sigset_t handled_signals;
  sigemptyset(&handled_signals);
  sigaddset(&handled_signals, SIGTERM);
  sigaddset(&handled_signals, SIGINT);
  sigaddset(&handled_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &handled_signals, nullptr);

  // Before any plugin is loaded: a plugin that crashes the server is kept out at the next start.
  crash_quarantine::install(PluginImageCache::default_dir());
  // The port opens first (/healthz answers, /readyz says "starting"); the plugins are scanned
  // and the graph files deployed after, so that a slow plugin delays readiness, not the port.
  PluginRegistryOptions registry_options;
  registry_options.probe_timeout = settings.plugin_load_timeout;
  registry_options.log_changes = true;
  registry_options.scan_at_start = false;
  PluginRegistry registry(plugin_search_path(settings.plugin_dirs), registry_options);

  const fs::path state_dir = state_directory(settings);
  Runtime runtime({.workers = settings.workers,
                   .max_queued_packets = settings.max_queued,
                   .max_queued_bytes = settings.max_queued_bytes,
                   .dead_letter_bytes = settings.dead_letter_bytes,
                   .finished_stream_bytes = settings.stream_history_bytes,
                   .fiber_stack_bytes = settings.fiber_stack_bytes,
                   .state_dir = state_dir.string()});
  GraphService graphs(runtime, registry, settings.graphs_dir, *paths, settings.durability == "wal");

  std::unique_ptr<DurableIngest> ingest;
  if (settings.durability == "wal") {
    // For power-loss tests (docs/durability.md): not a setting anyone tunes.
    const char* sync_journal = std::getenv("SLUICE_WAL_SYNC_JOURNAL");
    try {
      ingest = std::make_unique<DurableIngest>(
          runtime,
          WriteAheadLogOptions{.dir = state_dir / "wal",
                               .max_bytes = settings.max_wal_bytes,
                               .sync = settings.fsync ? SyncPolicy::every_append : SyncPolicy::periodic,
                               .sync_journal = sync_journal ? sync_journal : ""},
          state_dir / "lost");
    } catch (const std::exception& e) {
      log::error("--state-dir {}: {}", state_dir.string(), e.what());
      return 1;
    }
  }

  const std::string editor_dir = settings.editor_dir.empty() ? bundled_editor_dir() : settings.editor_dir;
  RestApi api(runtime, registry, graphs,
              {.max_body = settings.max_body, .max_packets = settings.max_queued, .tokens = tokens, .open_routes = settings.open_routes,
               .editor_dir = editor_dir,
               .ingest = ingest.get(),
               .origins = {.listen_host = listen->first,
                           .allowed_hosts = settings.allowed_hosts,
                           .allowed_origins = settings.allow_origins}});
  api.set_starting(true);
  HttpServerOptions http = settings.http;
  http.host = listen->first;
  http.port = listen->second;
  http.threads = settings.http_threads;
  http.max_body = settings.max_body;
  HttpServer server(http,
                    [&api](HttpRequest&& request, Responder&& responder) {
                      api.handle(std::move(request), std::move(responder));
                    },
                    [&api](int status) { api.count_response(status); });
  try {
    server.start();
  } catch (const std::exception& e) {
    log::error("{}", e.what());
    return 1;
  }
  const std::string url = "http://" + listen->first + ":" + std::to_string(server.port());
  std::cout << "sluice serve: port open at " << url << "; loading the plugins and the graphs (/readyz answers 503 "
            << "until they are)" << std::endl;

  registry.rescan();
  try {
    registry.watch();
  } catch (const std::system_error& e) {
    log::warn("plugin directories are not watched ({}); new plugins need a restart", e.what());
  }
  warn_if_no_components(registry, "serve");

  const auto report = graphs.deploy_directory();
  log_graph_reload(report);
  try {
    graphs.watch_directory(log_graph_reload);
  } catch (const std::system_error& e) {
    log::warn("the graphs directory is not watched ({}); send SIGHUP after editing a graph file", e.what());
  }

  auto relay = std::make_shared<ChangeRelay>();
  relay->graphs = &graphs;
  registry.on_change([relay](const std::vector<std::string>& changed) {
    std::lock_guard lock(relay->mutex);
    if (!relay->graphs) return;
    GraphService& service = *relay->graphs;
    service.post([&service, changed] {
      for (const auto& line : service.redeploy_using(changed)) log::info("{}", line);
    });
  });
  api.set_starting(false);

  std::cout << "sluice serve: listening on " << url << " — " << report.deployed.size() << " graph"
            << (report.deployed.size() == 1 ? "" : "s") << " from " << settings.graphs_dir << ", "
            << registry.names().size() << " components, " << runtime.worker_count() << " workers\n";
  std::cout << "sluice serve: graphs read and write files in " << paths->base.string() << '\n';
  if (report.deployed.empty())
    std::cout << "try: curl " << url << "/v1/components\n";
  else
    std::cout << "try: curl -H 'Content-Type: application/json' -d '{\"hello\": \"world\"}' '" << url
              << "/v1/graphs/" << report.deployed.front() << "/packets?wait=true'\n";
  if (!editor_dir.empty()) std::cout << "editor: " << url << "/ (from " << editor_dir << ")\n";
  std::cout.flush();
  if (ingest) {
    // New submissions answer 503 and /readyz is false until this is done.
    const RecoveryReport recovery = ingest->recover();
    for (const auto& line : recovery.lines) log::warn("write-ahead log: {}", line);
    std::cout << "sluice serve: write-ahead log in " << (state_dir / "wal").string() << ": replayed "
              << recovery.replayed << " submissions (" << recovery.replayed_packets << " packets), "
              << recovery.lost << " lost, " << recovery.torn << " torn and " << recovery.corrupt
              << " corrupt records" << (settings.fsync ? "; answers wait for fdatasync" : "") << std::endl;
  }

  int signal_number = 0;
  while (sigwait(&handled_signals, &signal_number) == 0 && signal_number == SIGHUP) {
    log::info("SIGHUP: rescanning the plugins, rereading {}", settings.graphs_dir);
    registry.rescan();
    graphs.post([&graphs] { log_graph_reload(graphs.deploy_directory()); });
  }
  std::cout << "sluice serve: " << (signal_number == SIGINT ? "SIGINT" : "SIGTERM")
            << ": stopping (new data answers 503; draining the graphs)" << std::endl;
  api.stop_admitting();
  {
    std::lock_guard lock(relay->mutex);
    relay->graphs = nullptr;
  }
  graphs.stop();       // deploys already asked for finish; later ones answer 503
  // The drain has a deadline: what is not done by then stays in the write-ahead log and is
  // replayed by the next start, as after a crash (which the log survives).
  std::promise<void> drained;
  std::thread drain_deadline([&, done = drained.get_future()] {
    if (done.wait_for(settings.drain_timeout) == std::future_status::ready) return;
    const bool kept = ingest && ingest->sync();
    log::warn("the graphs did not drain within --drain-timeout {} ms: exiting; {}", settings.drain_timeout.count(),
              kept ? "what is not done stays in the write-ahead log for the next start"
                   : "what is not done is lost (no write-ahead log: --durability none)");
    std::cout.flush();
    std::_Exit(0);
  });
  runtime.shutdown();  // drains: waiting callers get their results over the still-open server
  drained.set_value();
  drain_deadline.join();
  api.end_taps();      // the taps, closed by the shutdown, say so
  server.stop();
  ingest.reset();  // before the api goes: answers waiting for the log's last sync go through it
  std::cout << "sluice serve: stopped" << std::endl;
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto settings = std::make_shared<ServeSettings>();
  CLI::App* command = app.add_subcommand("serve", "run the REST server: deploy the graphs directory, take data over HTTP");
  command->add_option("--listen", settings->listen, "HOST:PORT to listen on; port 0 picks a free port")
      ->capture_default_str();
  command->add_option("--graphs", settings->graphs_dir,
                      "directory of graph files: deployed at start and when they change (or on SIGHUP); PUT persists here")
      ->capture_default_str();
  add_plugin_dirs_option(*command, settings->plugin_dirs);
  command->add_option("--workers", settings->workers, "worker threads (0: one per core)")->capture_default_str();
  add_fiber_stack_option(*command, settings->fiber_stack_bytes);
  command->add_option("--http-threads", settings->http_threads, "HTTP I/O threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  command->add_option("--token-file", settings->token_file,
                      "bearer tokens, one per line with its role (read, data, admin; none: admin), the token itself "
                      "or sha256:HEX of it; every route then needs a token whose role covers it")
      ->check(CLI::ExistingFile);
  command->add_option("--open-route", settings->open_routes,
                      "a probe route that stays open without a token, for scrapers and health checks (repeatable)")
      ->check(CLI::IsMember({"healthz", "readyz", "metrics"}));
  command->add_option("--max-body", settings->max_body, "largest request body, e.g. 1048576, 64MiB")
      ->transform(byte_size)
      ->capture_default_str();
  command->add_option("--stream-history-bytes", settings->stream_history_bytes,
                      "packets (results, failed packets) finished streams keep for GET /v1/streams/{id}; beyond "
                      "it the oldest keep only their counts and error messages")
      ->transform(byte_size)
      ->capture_default_str();
  command->add_option("--max-queued", settings->max_queued,
                      "packets a graph may hold not yet taken in; beyond it POST answers 429")
      ->check(at_least_one)
      ->capture_default_str();
  command->add_option("--max-queued-bytes", settings->max_queued_bytes,
                      "memory the packets a graph instance holds not yet taken in may take, e.g. 64MiB; beyond it "
                      "POST answers 429 (edges have their own bound: capacity_bytes in the graph)")
      ->transform(byte_size)
      ->check(at_least_one)
      ->capture_default_str();
  command->add_option("--dead-letter-bytes", settings->dead_letter_bytes,
                      "memory a graph's dead letters may take; beyond it (or 10000 letters) the oldest are dropped")
      ->transform(byte_size)
      ->capture_default_str();
  command->add_option("--max-connections", settings->http.max_connections,
                      "open connections beyond this are answered 503 (an idle one gives way first)")
      ->check(at_least_one)
      ->capture_default_str();
  const auto duration_option = [&](const char* name, std::chrono::milliseconds& target, const char* help) {
    command->add_option_function<std::string>(name, [&target, name](const std::string& text) {
      const auto parsed = parse_duration(text);
      if (!parsed || parsed->count() == 0)
        throw CLI::ValidationError(name, text + " is not a duration such as 30s, 500ms or 5m");
      target = *parsed;
    }, help);
  };
  duration_option("--header-timeout", settings->http.header_timeout,
                  "time a client has to send a request's head, from its first byte (408 beyond; default 30s)");
  duration_option("--drain-timeout", settings->drain_timeout,
                  "on SIGTERM, the longest wait for the graphs to drain; then the server exits, what is not done "
                  "left in the write-ahead log for the next start (default 30s)");
  duration_option("--plugin-load-timeout", settings->plugin_load_timeout,
                  "longest a new plugin file may take to load in its probe process before it is rejected "
                  "(default 10s)");
  duration_option("--idle-timeout", settings->http.idle_timeout,
                  "longest silence of a client: between requests, or inside a body (default 5m)");
  command->add_option("--editor", settings->editor_dir,
                      "directory of the editor's static files, served at / (default: the editor built or installed with "
                      "this binary)")
      ->check(CLI::ExistingDirectory);
  command->add_option("--state-dir", settings->state_dir,
                      "the server's own files: the write-ahead log (wal/), lost submissions (lost/), the data root (data/); "
                      "default: var/ beside the graphs directory");
  command->add_option("--durability", settings->durability,
                      "wal: a submission is answered once it is in the write-ahead log and replayed "
                      "after a crash; none: in memory only")
      ->check(CLI::IsMember({"none", "wal"}))
      ->capture_default_str();
  command->add_flag("--fsync", settings->fsync,
                    "answer only once the log is fdatasynced (survives power loss; concurrent "
                    "submissions share a sync); default: written to the kernel, synced every second");
  command->add_option("--max-wal-bytes", settings->max_wal_bytes,
                      "bytes the write-ahead log may hold, e.g. 1GiB; beyond it POST answers 503")
      ->transform(byte_size)
      ->capture_default_str();
  command->add_option("--data-dir", settings->data_dir,
                      "where graphs' file params (jsonl_file path, …) resolve and must stay (default: "
                      "the state directory's data/)");
  command->add_option("--allow-path", settings->allow_paths,
                      "a further directory graphs' file params may name (repeatable)")
      ->check(CLI::ExistingDirectory);
  command->add_option("--allowed-host", settings->allowed_hosts,
                      "a Host header name to answer besides loopback names and the listen address, e.g. the "
                      "name a load balancer is reached by (repeatable)");
  command->add_option("--allow-origin", settings->allow_origins,
                      "a web origin (scheme://host[:port]) whose pages may call the API: CORS (repeatable)");
  command->add_flag("--insecure", settings->insecure,
                    "serve a non-loopback --listen address without --token-file");
  command->add_option("--log-level", settings->log_level,
                      "the least severe log lines written to stderr: trace, debug, info, warn, error, off")
      ->capture_default_str();
  command->add_option("--log-format", settings->log_format,
                      "text: a UTC timestamp, the level and the message per line; json: one JSON object per line")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  command->callback([settings] { set_exit_code(serve(*settings)); });
}

}  // namespace sluice::cli
