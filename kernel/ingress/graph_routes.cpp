// The graphs and the plugins behind them: GET/PUT/DELETE /v1/graphs/{g}, GET /v1/graphs,
// GET /v1/graphs/{g}/stats, GET /v1/components, GET /v1/plugins.
#include <algorithm>

#include "ingress/rest_call.hpp"
#include "support/strings.hpp"

namespace sluice {

namespace {

std::string media_type(const HttpRequest& request) {
  return text::media_type(request.header("content-type").value_or(""));
}

// The plugin build a node runs: {package, version, file, hash}.
Value plugin_build_json(const ComponentOrigin& origin) {
  return Object{{"package", origin.package},
                {"version", origin.version},
                {"file", origin.file.string()},
                {"hash", origin.hash}};
}

// The control plane's refusals in HTTP terms: what the client sent is wrong (422), or the
// server could not keep what it did (500).
HttpResponse graph_error_response(const GraphError& e) {
  Object details{{"graph", e.graph()}};
  switch (e.kind()) {
    case GraphError::Kind::invalid: {
      Array problems;
      for (const auto& problem : e.problems()) {
        Object entry{{"line", problem.where.line}, {"column", problem.where.column}, {"message", problem.message}};
        if (!problem.node.empty()) entry.set("node", problem.node);
        if (!problem.param.empty()) entry.set("param", problem.param);
        problems.push_back(std::move(entry));
      }
      details.set("errors", std::move(problems));
      return HttpResponse::error(422, e.what(), details);
    }
    case GraphError::Kind::deploy_failed: return HttpResponse::error(422, e.what(), details);
    case GraphError::Kind::not_saved: details.set("deployed", true); break;
    case GraphError::Kind::not_deleted: details.set("file", e.file().string()); break;
  }
  return HttpResponse::error(500, e.what(), details);
}

// A PUT's If-Match (a list of ETags, or *) and If-None-Match: * against the version running
// now (`current`, null when none): 412 naming the current tag when they do not hold.
void check_preconditions(const std::string& graph, const std::shared_ptr<const GraphPlan>& current,
                         const std::optional<std::string>& if_match, const std::optional<std::string>& if_none_match) {
  const std::string etag = current ? graph_etag(*current) : "";
  const auto refuse = [&](const std::string& message) {
    throw RequestError(412, message, Object{{"graph", graph}, {"etag", current ? Value(etag) : Value()}});
  };
  if (if_none_match && trim(*if_none_match) == "*" && current)
    refuse("graph '" + graph + "' exists already (If-None-Match: *)");
  if (!if_match) return;
  bool matched = false;
  std::string_view tags = *if_match;
  while (!tags.empty() && !matched) {
    const auto comma = tags.find(',');
    const std::string_view tag = trim(tags.substr(0, comma));
    matched = current && (tag == "*" || tag == etag);
    tags = comma == std::string_view::npos ? std::string_view() : tags.substr(comma + 1);
  }
  if (!matched)
    refuse(current ? "graph '" + graph + "' was saved by someone else since the version " + std::string(trim(*if_match)) +
                         " (If-Match): it is " + etag + " now"
                   : "graph '" + graph + "' is not deployed (If-Match: " + std::string(trim(*if_match)) + ")");
}

bool is_yaml_type(std::string_view type) {
  return type == "application/yaml" || type == "application/x-yaml" || type == "text/yaml" ||
         type == "text/x-yaml";
}

// A graph's "state" in GET /v1/graphs, its stats and its status.
const char* state_name(const GraphService::PluginState& state) { return state.degraded() ? "degraded" : "running"; }

// GET /v1/graphs/{g}'s "status": which plugin build each node runs, and what is gone.
Value plugin_state_json(const GraphService::PluginState& state) {
  Object nodes;
  for (const auto& node : state.nodes) {
    Object entry{{"component", node.component}};
    if (node.runs) {
      Value build = plugin_build_json(*node.runs);
      for (auto& [key, value] : build.as_object()) entry.set(key, std::move(value));
    } else
      entry.set("built_in", true);
    entry.set("missing", node.missing);
    entry.set("outdated", node.outdated);
    nodes.set(node.node, std::move(entry));
  }
  return Object{{"state", state_name(state)},
                {"missing", Array(state.missing.begin(), state.missing.end())},
                {"nodes", std::move(nodes)}};
}

}  // namespace

void RestApi::components(Call& call) { call.responder.send(json_response(200, registry_.components_json())); }

void RestApi::plugins(Call& call) { call.responder.send(json_response(200, registry_.plugins_json())); }

void RestApi::list_graphs(Call& call) {
  Array list;
  for (const auto& name : runtime_.graph_names()) {
    const auto plan = runtime_.graph(name);
    if (!plan) continue;  // removed meanwhile
    Object entry{{"name", name}, {"nodes", plan->nodes.size()}};
    if (!plan->spec.description.empty()) entry.set("description", plan->spec.description);
    if (const auto stats = runtime_.stats(name)) entry.set("instances", stats->instances);
    entry.set("file", graphs_.file_of(name).string());
    entry.set("durability", logged(*plan) ? "wal" : "none");
    entry.set("version", plan->version);
    const GraphService::PluginState state = graphs_.plugin_state(*plan);
    entry.set("state", state_name(state));
    if (state.degraded()) entry.set("missing", Array(state.missing.begin(), state.missing.end()));
    list.push_back(std::move(entry));
  }
  call.responder.send(json_response(200, Value(Object{{"graphs", std::move(list)}})));
}

void RestApi::get_graph(Call& call) {
  const auto plan = runtime_.graph(call.param(0));
  if (!plan) throw no_such_graph(call.param(0));
  const GraphSpec shown = shown_spec(*plan);
  const std::string accept = lower(call.request.header("accept").value_or(""));
  HttpResponse response;
  if (accept.find("yaml") != std::string::npos) {
    response.headers.emplace_back("Content-Type", "application/yaml");
    // With secrets masked the text sent is not served; the masked JSON is YAML too.
    response.body = !shown.yaml_text.empty()
                        ? shown.yaml_text
                        : "# secret values are shown as \"***\"\n" + json::to_pretty_string(spec_document(shown)) + "\n";
  } else {
    // What the server knows besides the spec; a PUT of this document ignores it.
    Value document = spec_document(shown);
    Value status = plugin_state_json(graphs_.plugin_state(*plan));
    status.as_object().set("version", plan->version);
    document.as_object().set("status", std::move(status));
    response = HttpResponse::json(200, json::to_pretty_string(document));
  }
  // The same version has one tag in both forms: a PUT's If-Match names the version.
  response.with_header("ETag", graph_etag(*plan));
  call.responder.send(std::move(response));
}

void RestApi::put_graph(Call& call) {
  const std::string name = call.param(0);
  if (!is_graph_file_name(name))
    throw RequestError(400, "graph names are letters, digits, '_', '-' and '.', not starting with '.' or '-'",
                       graph_details(name));
  const std::string type = media_type(call.request);
  if (!type.empty() && type != "application/json" && !is_yaml_type(type) && type != "text/plain" &&
      type != "application/x-www-form-urlencoded")
    throw RequestError(415, "a graph is sent as YAML or JSON, not " + type,
                       Object{{"supported", Array{"application/yaml", "application/json"}}});
  const std::string encoding = lower(trim(call.request.header("content-encoding").value_or("")));
  if (encoding == "gzip" || encoding == "deflate")
    call.request.body = inflate_body(call.request.body, options_.max_body);
  else if (!encoding.empty() && encoding != "identity")
    throw RequestError(415, "unsupported Content-Encoding " + json_quoted(encoding),
                       Object{{"supported", Array{"gzip", "deflate", "identity"}}});

  const auto optional_header = [&](std::string_view header) {
    const auto value = call.request.header(header);
    return value ? std::optional<std::string>(*value) : std::nullopt;
  };
  auto responder = std::make_shared<Responder>(std::move(call.responder));
  const bool posted = graphs_.post([this, name, text = std::move(call.request.body), responder,
                                    if_match = optional_header("if-match"),
                                    if_none_match = optional_header("if-none-match")] {
    try {
      // Checked here, in the control job, where no other save can come in between.
      check_preconditions(name, runtime_.graph(name), if_match, if_none_match);
      const auto outcome = graphs_.put(name, text);
      const auto plan = runtime_.graph(name);
      Object document{{"graph", name}, {"deployed", true}, {"created", outcome.created},
                      {"file", outcome.file.string()}};
      if (plan) document.set("nodes", plan->nodes.size());
      HttpResponse response = json_response(outcome.created ? 201 : 200, Value(std::move(document)));
      if (outcome.created) response.with_header("Location", "/v1/graphs/" + name);
      if (plan) response.with_header("ETag", graph_etag(*plan));
      responder->send(std::move(response));
    } catch (const GraphError& e) {
      responder->send(graph_error_response(e));
    } catch (const RequestError& e) {
      responder->send(e.response());
    } catch (const std::exception& e) {
      responder->send(HttpResponse::error(500, std::string("deploy failed: ") + e.what(), graph_details(name)));
    }
  });
  if (!posted) responder->send(retry_later(503, "the server is shutting down", graph_details(name), 5));
}

void RestApi::delete_graph(Call& call) {
  const std::string name = call.param(0);
  if (!runtime_.graph(name)) throw no_such_graph(name);
  auto responder = std::make_shared<Responder>(std::move(call.responder));
  const bool posted = graphs_.post([this, name, responder] {
    try {
      if (!graphs_.remove(name)) {
        responder->send(no_such_graph(name).response());  // removed by a request before this one
        return;
      }
      HttpResponse response;
      response.status = 204;
      responder->send(std::move(response));
    } catch (const GraphError& e) {
      responder->send(graph_error_response(e));
    } catch (const std::exception& e) {
      responder->send(HttpResponse::error(500, std::string("removal failed: ") + e.what(), graph_details(name)));
    }
  });
  if (!posted) responder->send(retry_later(503, "the server is shutting down", graph_details(name), 5));
}

void RestApi::graph_stats(Call& call) {
  const auto stats = runtime_.stats(call.param(0));
  const auto plan = runtime_.graph(call.param(0));
  if (!stats || !plan) throw no_such_graph(call.param(0));
  const GraphService::PluginState state = graphs_.plugin_state(*plan);
  std::map<std::string_view, const GraphService::NodePlugin*> plugin_of;
  for (const auto& node : state.nodes) plugin_of.emplace(node.node, &node);
  Array nodes;
  for (const auto& node : stats->nodes) {
    Object dropped_by_port;
    for (const auto& [cause, n] : node.dropped_by_port) dropped_by_port.set(cause, n);
    nodes.push_back(Object{{"node", node.node},
                           {"component", node.component},
                           {"in", node.in},
                           {"out", node.out},
                           {"errors", node.errors},
                           {"dropped", node.dropped},
                           {"dropped_by_port", std::move(dropped_by_port)},
                           {"queue_depth", node.queue_depth},
                           {"queue_bytes", node.queue_bytes},
                           {"busy_seconds", static_cast<double>(node.busy_ns) / 1e9},
                           {"isolation", node.isolated ? "process" : "in_process"},
                           {"stalled", node.stalled}});
    if (node.isolated) {
      Array pids;
      for (int pid : node.host_pids) pids.emplace_back(pid);
      Object host{{"pids", std::move(pids)},
                  {"failures", node.host_failures},
                  {"state", node.crash_looping ? "crash_looping" : "running"}};
      if (!node.host_last_failure.empty()) host.set("last_failure", node.host_last_failure);
      nodes.back().as_object().set("host", std::move(host));
    }
    if (const auto plugin = plugin_of.find(node.node); plugin != plugin_of.end()) {
      if (plugin->second->runs) nodes.back().as_object().set("plugin", plugin_build_json(*plugin->second->runs));
      nodes.back().as_object().set("missing", plugin->second->missing);
    }
  }
  Object document{{"graph", stats->graph},
                  {"state", state_name(state)},
                  {"instances", stats->instances},
                  {"queued", stats->queued},
                  {"queued_bytes", stats->queued_bytes},
                  {"dead_letters", stats->dead_letters},
                  {"dead_letters_dropped", stats->dead_letters_dropped},
                  {"nodes", std::move(nodes)}};
  call.responder.send(json_response(200, Value(std::move(document))));
}

}  // namespace sluice
