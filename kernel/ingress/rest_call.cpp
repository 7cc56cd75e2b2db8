#include "ingress/rest_call.hpp"



namespace sluice {

HttpResponse json_response(int status, const Value& document) {
  return HttpResponse::json(status, json::to_string(document));
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return segments;
  for (;;) {
    const auto slash = path.find('/');
    segments.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

HttpResponse retry_later(int status, std::string_view message, const Object& details, int seconds) {
  return HttpResponse::error(status, message, details).with_header("Retry-After", std::to_string(seconds));
}

Object graph_details(const std::string& graph) { return {{"graph", graph}}; }

RequestError no_such_graph(const std::string& graph) {
  return RequestError(404, "no such graph", graph_details(graph));
}

}  // namespace sluice
