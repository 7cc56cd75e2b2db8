#include "http_poll.hpp"

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include <sluice/json.hpp>
#include <sluice/text.hpp>

#include "tls_param.hpp"

namespace sluice::connectors {

namespace fs = std::filesystem;

namespace {

const std::string* header(const http::Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers)
    if (text::lower(key) == name) return &value;
  return nullptr;
}

// application/json, or a type of its family (application/problem+json), parameters aside.
bool is_json(const std::string& content_type) {
  const std::string type = text::media_type(content_type);
  return type == "application/json" || type.ends_with("+json");
}

// The response's headers by lower-case name; a repeated one joined with ", " (RFC 9110 5.3).
Object header_meta(const http::Headers& headers) {
  Object meta;
  for (const auto& [key, value] : headers) {
    const std::string name = text::lower(key);
    if (Value* seen = meta.find(name)) seen->as_string() += ", " + value;
    else meta.set(name, value);
  }
  return meta;
}

}  // namespace

ComponentDescriptor HttpPoll::descriptor() {
  return {.name = "http_poll",
          .version = "1.0.0",
          .summary = "GETs a URL on an interval, a packet per new body (a source)",
          .kind = ComponentKind::source,
          .outputs = {{"out", "the body: its JSON object's fields when the content type is JSON, else the bytes in "
                              "`data`; status, headers, url, mimetype, contentlength meta"}},
          .params = {{.name = "url",
                      .type = ParamType::string,
                      .description = "what to GET, http://host[:port]/path or https://…",
                      .required = true},
                     {.name = "interval_ms",
                      .type = ParamType::integer,
                      .description = "from one request's start to the next",
                      .default_value = 60000,
                      .minimum = 1},
                     {.name = "conditional",
                      .type = ParamType::boolean,
                      .description = "ask with If-None-Match / If-Modified-Since from the last body's ETag / "
                                     "Last-Modified: an unchanged resource answers 304 and sends nothing",
                      .default_value = true},
                     {.name = "headers",
                      .type = ParamType::object,
                      .description = "extra request headers, name → string value (e.g. Authorization: \"Bearer "
                                     "${env:API_TOKEN}\"); secret",
                      .secret = true},
                     {.name = "timeout_ms",
                      .type = ParamType::integer,
                      .description = "deadline for connecting, and for sending and answering one request",
                      .default_value = 10000,
                      .minimum = 1},
                     {.name = "max_backoff_ms",
                      .type = ParamType::integer,
                      .description = "after a failure the next try waits twice the interval, doubling on each "
                                     "further one up to this",
                      .default_value = 300000,
                      .minimum = 1},
                     tls_param_spec("the server (https:// URLs)")},
          .capabilities = {"fs_read", "net"},
          .example = {.description = "Fetches a status document every 30 s, a packet only when it changed",
                      .params = R"(url: http://127.0.0.1:8080/status.json
interval_ms: 30000)"}};
}

HttpPoll::HttpPoll(const Params& params)
    : url_text_(params.get_string("url")),
      conditional_(params.get_bool("conditional")),
      interval_(params.get_int("interval_ms")),
      max_backoff_(params.get_int("max_backoff_ms")) {
  http::Url url;
  try {
    url = http::Url::parse(url_text_);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("param 'url': ") + e.what());
  }
  http::TlsOptions tls;
  if (params.has("tls")) {
    if (!url.tls) throw std::invalid_argument("param 'tls' applies to https:// URLs only; 'url' is " + url.origin());
    tls = parse_tls_param(params.get("tls"));
  }
  if (params.has("headers")) {
    for (const auto& [name, value] : params.get("headers").as_object()) {
      if (!value.is_string())
        throw std::invalid_argument("param 'headers': '" + name + "' must be a string, got " + value.type_name());
      headers_.emplace_back(name, value.as_string());
    }
  }
  try {
    client_ = std::make_unique<http::Client>(url, std::move(tls), std::chrono::milliseconds(params.get_int("timeout_ms")));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("param 'tls': ") + e.what());
  }
}

HttpPoll::~HttpPoll() = default;

void HttpPoll::save_validators(const Validators& validators, std::uint64_t body) {
  std::lock_guard lock(mutex_);
  // Bodies may be done out of order: an older one's validators would ask for it again.
  if (validators_file_.empty() || body < saved_body_) return;
  saved_body_ = body;
  const fs::path written = validators_file_.string() + ".new";
  std::ofstream(written, std::ios::trunc) << validators.etag << '\n' << validators.last_modified << '\n';
  std::error_code failed;
  fs::rename(written, validators_file_, failed);
}

void HttpPoll::send_error(SourceContext& ctx, const std::string& message, std::string body) {
  if (message == last_error_) return;  // the same failure again: told once until it changes
  last_error_ = message;
  Packet packet;
  packet.set_meta(meta::error, ctx.node_path() + ": GET " + url_text_ + ": " + message);
  packet.set_meta("url", url_text_);
  if (!body.empty()) packet.set_bytes("data", std::move(body));
  std::vector<Packet> one;
  one.push_back(std::move(packet));
  ctx.send(std::move(one));
}

bool HttpPoll::poll_once(SourceContext& ctx) {
  http::Headers headers = headers_;
  if (conditional_ && !asking_.etag.empty()) headers.emplace_back("If-None-Match", asking_.etag);
  if (conditional_ && !asking_.last_modified.empty()) headers.emplace_back("If-Modified-Since", asking_.last_modified);
  http::Response answer;
  try {
    answer = client_->send("GET", client_->url().target, headers, "");
  } catch (const http::TransportError& e) {
    send_error(ctx, e.what(), "");
    return false;
  }
  if (answer.status == 304) {
    last_error_.clear();
    return true;
  }
  if (answer.status / 100 != 2) {
    send_error(ctx, "HTTP " + std::to_string(answer.status) + " " + answer.reason, std::move(answer.body));
    return false;
  }
  last_error_.clear();
  const std::string* content_type = header(answer.headers, "content-type");
  Packet packet;
  if (content_type && is_json(*content_type)) {
    try {
      Value document = json::parse(answer.body);
      if (document.is_object()) packet = Packet(std::move(document.as_object()));
      else packet.set("data", std::move(document));
    } catch (const std::exception& e) {
      packet.set_meta(meta::error, ctx.node_path() + ": GET " + url_text_ + ": the body is not the JSON its " +
                                       "content type says: " + e.what());
      packet.set_bytes("data", answer.body);
    }
  } else {
    packet.set_bytes("data", answer.body);
  }
  packet.set_meta("status", static_cast<std::int64_t>(answer.status));
  packet.set_meta("headers", header_meta(answer.headers));
  packet.set_meta("url", url_text_);
  if (content_type) packet.set_meta(meta::mimetype, *content_type);
  packet.set_meta(meta::contentlength, static_cast<std::int64_t>(answer.body.size()));
  Validators got;
  if (const std::string* etag = header(answer.headers, "etag")) got.etag = *etag;
  if (const std::string* modified = header(answer.headers, "last-modified")) got.last_modified = *modified;
  asking_ = got;  // asked with at once; kept across restarts only once the body is through
  std::vector<Packet> one;
  one.push_back(std::move(packet));
  ctx.send(std::move(one), [this, got, body = ++bodies_sent_](const StreamOutcome&) { save_validators(got, body); });
  return true;
}

void HttpPoll::produce(SourceContext& ctx) {
  if (!ctx.state_dir().empty()) {
    validators_file_ = fs::path(ctx.state_dir()) / "validators";
    std::ifstream saved(validators_file_);
    std::getline(saved, asking_.etag);
    std::getline(saved, asking_.last_modified);
  }
  std::chrono::milliseconds backoff{0};  // 0: the last request went well
  for (auto next = ctx.now(); ctx.sleep_until(next);) {
    if (poll_once(ctx)) backoff = {};
    else backoff = std::min(max_backoff_, backoff.count() ? backoff * 2 : interval_ * 2);
    next += backoff.count() ? backoff : interval_;
  }
}

}  // namespace sluice::connectors
