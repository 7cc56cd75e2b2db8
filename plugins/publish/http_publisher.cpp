#include <thread>

#include <sluice/io.hpp>
#include <sluice/json.hpp>

#include "http_publisher.hpp"

namespace sluice::publish {

namespace {

// Whether a failed attempt is worth repeating: the server may recover from these.
bool retryable(unsigned status) { return status >= 500 || status == 408 || status == 429; }

// Deploy-time errors name the param the problem is in.
http::Url parse_url_param(const std::string& text) {
  try {
    return http::Url::parse(text);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("param 'url': ") + e.what());
  }
}

}  // namespace

ComponentDescriptor Http::descriptor() {
  return {.name = "http",
          .version = "1.0.0",
          .summary = "Sends each packet as JSON to an HTTP endpoint, retrying failures with backoff",
          .kind = ComponentKind::publisher,
          .params = {{.name = "url",
                      .type = ParamType::string,
                      .description = "endpoint, http://host[:port]/path or https://…",
                      .required = true},
                     {.name = "method",
                      .type = ParamType::string,
                      .description = "HTTP method",
                      .default_value = "POST",
                      .allowed = {"POST", "PUT"}},
                     {.name = "format",
                      .type = ParamType::string,
                      .description = "fields: the packet's fields as the body; envelope: "
                                     "{\"fields\",\"meta\",\"field_meta\"}",
                      .default_value = "fields",
                      .allowed = {"fields", "envelope"}},
                     {.name = "headers",
                      .type = ParamType::object,
                      .description = "extra request headers, name → string value (e.g. "
                                     "Authorization: \"Bearer ${env:API_TOKEN}\"); secret",
                      .secret = true},
                     {.name = "timeout_ms",
                      .type = ParamType::integer,
                      .description = "deadline for connecting, and for sending and answering one "
                                     "request",
                      .default_value = 10000,
                      .minimum = 1},
                     {.name = "retries",
                      .type = ParamType::integer,
                      .description = "further attempts after a network error, timeout, 408, 429 "
                                     "or 5xx (other 4xx fail at once); the packet then fails",
                      .default_value = 3,
                      .minimum = 0,
                      .maximum = 20},
                     {.name = "backoff_ms",
                      .type = ParamType::integer,
                      .description = "wait before the first retry; doubles on each further one",
                      .default_value = 200,
                      .minimum = 0},
                     {.name = "tls_verify",
                      .type = ParamType::boolean,
                      .description = "https: verify the server's certificate and name (false accepts any: "
                                     "only for tests and trusted networks)",
                      .default_value = true},
                     {.name = "tls_ca_file",
                      .type = ParamType::string,
                      .description = "https: PEM bundle of the CAs to trust instead of the system's",
                      .file_path = true},
                     {.name = "tls_client_cert",
                      .type = ParamType::string,
                      .description = "https: PEM certificate (chain) to present to the server",
                      .file_path = true},
                     {.name = "tls_client_key",
                      .type = ParamType::string,
                      .description = "https: PEM private key of tls_client_cert",
                      .file_path = true},
                     {.name = "tls_server_name",
                      .type = ParamType::string,
                      .description = "https: the name to verify and send as SNI, when not the URL's host"}},
          .capabilities = {"net", "fs_read"},
          .example = {.description = "Posts each packet to a search index's ingest endpoint with a token from the environment",
                      .params = R"(url: http://127.0.0.1:9200/docs/_doc
headers: { Authorization: "Bearer ${env:INDEX_TOKEN}" }
retries: 5)"}};
}

Http::Http(const Params& params)
    : method_(params.get_string("method")),
      retries_(static_cast<int>(params.get_int("retries"))),
      backoff_(params.get_int("backoff_ms")),
      envelope_(params.get_string("format") == "envelope") {
  const http::Url url = parse_url_param(params.get_string("url"));
  http::TlsOptions tls{.verify = params.get_bool("tls_verify"),
                       .ca_file = params.get_string("tls_ca_file", ""),
                       .client_cert = params.get_string("tls_client_cert", ""),
                       .client_key = params.get_string("tls_client_key", ""),
                       .server_name = params.get_string("tls_server_name", "")};
  if (!url.tls && tls.given())
    throw std::invalid_argument("params 'tls_*' apply to https:// URLs only; 'url' is " + url.origin());
  client_ = std::make_unique<http::Client>(url, std::move(tls), std::chrono::milliseconds(params.get_int("timeout_ms")));
  headers_.emplace_back("Content-Type", "application/json");
  if (params.has("headers")) {
    for (const auto& [name, value] : params.get("headers").as_object()) {
      if (!value.is_string())
        throw std::invalid_argument("param 'headers': '" + name + "' must be a string, got " +
                                    value.type_name());
      headers_.emplace_back(name, value.as_string());
    }
  }
}

Http::~Http() = default;

void Http::send(const std::string& body) {
  const std::string where = method_ + " " + client_->url().origin() + client_->url().target;
  std::string last_error;
  auto delay = backoff_;
  for (int attempt = 0; attempt <= retries_; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(delay);
      delay *= 2;
    }
    try {
      const http::Response answer = client_->send(method_, client_->url().target, headers_, body);
      if (answer.status >= 200 && answer.status < 300) return;
      last_error = "HTTP " + std::to_string(answer.status);
      if (!retryable(answer.status)) break;
    } catch (const http::TransportError& e) {
      last_error = e.what();
      if (!e.retryable()) throw std::runtime_error("http: " + where + " failed: " + last_error);
    }
  }
  throw std::runtime_error("http: " + where + " failed: " + last_error + " (after " + std::to_string(retries_ + 1) +
                           " attempts at most)");
}

void Http::process(Packet& packet, Emitter&) {
  body_.clear();
  if (envelope_)
    json::write_envelope(packet, body_);
  else
    json::write_fields(packet, body_);
  // The whole exchange, retries and backoff included, runs off the worker's thread.
  io::run_blocking([&] { send(body_); });
}

}  // namespace sluice::publish
