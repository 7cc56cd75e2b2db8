// What RestApi's handlers share (the router in rest_api.cpp, the routes of health_routes,
// metrics_exporter, editor_files, graph_routes and packet_routes): the call being answered,
// an entry of the route table, and the pieces of many replies. Private to the ingress.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <sluice/json.hpp>

#include "ingress/http_server.hpp"
#include "ingress/request_body.hpp"
#include "ingress/rest_api.hpp"

namespace sluice {

struct RestApi::Call {
  HttpRequest request;
  Responder responder;
  std::vector<std::string> params;  // the {} segments of the route, in order
  std::vector<TextSpan> field_texts = {};  // POST packets: each packet's line in request.body (NDJSON)

  const std::string& param(std::size_t i) const { return params.at(i); }
};

struct RestApi::Route {
  std::vector<std::string_view> pattern;  // "{}" matches any one segment
  std::string_view method;
  Access access;
  void (RestApi::*handler)(Call&);
  std::vector<std::string_view> query = {};  // the query parameters it takes; others are 400
};

HttpResponse json_response(int status, const Value& document);

// "/v1/graphs/g/" → {"v1", "graphs", "g"}.
std::vector<std::string> split_path(std::string_view path);

// An error with a Retry-After of `seconds`.
HttpResponse retry_later(int status, std::string_view message, const Object& details, int seconds);

// {"graph": graph}: the details of most refusals about one graph.
Object graph_details(const std::string& graph);

RequestError no_such_graph(const std::string& graph);

}  // namespace sluice
