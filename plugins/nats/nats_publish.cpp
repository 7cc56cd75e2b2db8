#include "nats_publish.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>

#include <sluice/io.hpp>
#include <sluice/json.hpp>

namespace sluice::nats {

namespace {

// JetStream errors a later attempt may get past: the stream's leader is being elected, or the
// system is briefly unavailable. (A status without a JetStream code — a timeout, no responders
// while a stream moves, a lost connection — is retried too.)
bool retryable(const jsPubAckErr& failure) { return failure.ErrCode == 0 || failure.ErrCode == JSClusterNotAvailErr; }

bool valid_token(const std::string& token) {
  return !token.empty() && token.find_first_of(" \t\r\n.*>") == std::string::npos;
}

}  // namespace

SubjectTemplate::SubjectTemplate(const std::string& text) : template_(text) {
  if (template_.empty()) throw std::invalid_argument("the subject is empty");
}

std::string SubjectTemplate::subject_for(const Packet& packet) const {
  return template_.render([&](const TextTemplate::Piece& field, std::string& subject) {
    const Value* value = packet.find_path(field.path);
    if (!value || value->is_null())
      throw std::runtime_error("subject \"" + text() + "\": the packet has no field '" + field.text + "'");
    const std::string token = value->is_string() ? value->as_string() : json::to_string(*value);
    if (!valid_token(token))
      throw std::runtime_error("subject \"" + text() + "\": field '" + field.text + "' is \"" + token +
                               "\", which cannot be part of a subject (no spaces, '.', '*' or '>')");
    subject += token;
  });
}

ComponentDescriptor NatsPublish::descriptor() {
  std::vector<ParamSpec> params = {
      {.name = "subject",
       .type = ParamType::string,
       .description = "subject to publish to, captured by a JetStream stream; {field.path} is replaced by "
                      "the packet's field (e.g. orders.{region}); {{ and }} are braces",
       .required = true},
      {.name = "format",
       .type = ParamType::string,
       .description = "fields: the packet's fields as the JSON body; envelope: {\"fields\",\"meta\",\"field_meta\"} "
                      "(nats_source with format: envelope reads it back whole)",
       .default_value = "fields",
       .allowed = {"fields", "envelope"}},
      {.name = "max_in_flight",
       .type = ParamType::integer,
       .description = "publishes waiting for their JetStream ack at most (per instance of the graph)",
       .default_value = 256,
       .minimum = 1,
       .maximum = 65536},
      {.name = "ack_timeout_ms",
       .type = ParamType::integer,
       .description = "how long to wait for JetStream's ack of a publish before it counts as failed",
       .default_value = 5000,
       .minimum = 1},
      {.name = "retries",
       .type = ParamType::integer,
       .description = "further attempts after a timeout, a lost connection or no stream leader (an error "
                      "JetStream gives for the message itself fails at once); the packet then goes to `error`",
       .default_value = 5,
       .minimum = 0,
       .maximum = 100},
      {.name = "backoff_ms",
       .type = ParamType::integer,
       .description = "wait before the first retry; doubles on each further one, up to 10 s",
       .default_value = 200,
       .minimum = 0}};
  for (auto& p : connection_params()) params.push_back(std::move(p));
  return {.name = "nats_publish",
          .version = "1.0.0",
          .summary = "Publishes each packet to NATS JetStream; its stream completes once JetStream acked it",
          .kind = ComponentKind::publisher,
          .params = std::move(params),
          .capabilities = {"fs_read", "net"},
          .example = {.description = "Publishes each order to JetStream on a subject per region; the stream completes once JetStream acknowledged it",
                      .params = R"(servers: ["nats://127.0.0.1:4222"]
subject: "orders.{region}")"}};
}

namespace {

SubjectTemplate subject_param(const std::string& text) {
  try {
    return SubjectTemplate(text);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("param 'subject': ") + e.what());
  }
}

}  // namespace

NatsPublish::NatsPublish(const Params& params)
    : subject_(subject_param(params.get_string("subject"))),
      envelope_(params.get_string("format") == "envelope"),
      max_in_flight_(static_cast<std::size_t>(params.get_int("max_in_flight"))),
      retries_(static_cast<int>(params.get_int("retries"))),
      backoff_(params.get_int("backoff_ms")),
      ack_timeout_(params.get_int("ack_timeout_ms")) {
  jsOptions options;
  jsOptions_Init(&options);
  options.PublishAsync.AckHandler = &NatsPublish::on_ack;
  options.PublishAsync.AckHandlerClosure = this;
  // Above what a window holds, with room for publishes that timed out and were taken back.
  options.PublishAsync.MaxPending = static_cast<int64_t>(max_in_flight_) * 2;
  connection_ = std::make_unique<Connection>(params, "sluice nats_publish", &options);
}

NatsPublish::~NatsPublish() = default;

void NatsPublish::on_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* failure, void* self) {
  auto& publisher = *static_cast<NatsPublish*>(self);
  {
    std::lock_guard lock(publisher.mutex_);
    const auto it = publisher.pending_.find(msg);
    if (it != publisher.pending_.end()) {
      Outcome& outcome = publisher.outcomes_[it->second];
      publisher.pending_.erase(it);
      if (ack) {
        outcome.acked = true;  // a Duplicate ack too: JetStream has the message from an earlier attempt
      } else if (failure) {
        outcome.error = failure->ErrText && *failure->ErrText ? failure->ErrText : natsStatus_GetText(failure->Err);
        outcome.final = !retryable(*failure);
      }
    }
  }
  natsMsg_Destroy(msg);
}

void NatsPublish::publish_attempt(const std::vector<std::size_t>& todo, const std::vector<std::string>& subjects,
                                  const std::vector<std::string>& bodies, const std::vector<std::string>& ids) {
  jsCtx* js = connection_->jetstream();
  for (const std::size_t i : todo) {
    natsMsg* msg = nullptr;
    natsStatus status = natsMsg_Create(&msg, subjects[i].c_str(), nullptr, bodies[i].data(),
                                       static_cast<int>(bodies[i].size()));
    // The packet's id: JetStream stores a message id once within its duplicate window, so a
    // republished packet (a retry here, a replay after a crash) is not stored twice.
    if (status == NATS_OK && !ids[i].empty()) status = natsMsgHeader_Set(msg, "Nats-Msg-Id", ids[i].c_str());
    // Registered before it is sent: its ack may come back before js_PublishMsgAsync returns.
    std::lock_guard lock(mutex_);
    if (status == NATS_OK) {
      pending_[msg] = i;
      status = js_PublishMsgAsync(js, &msg, nullptr);
    }
    if (status != NATS_OK) {
      pending_.erase(msg);
      natsMsg_Destroy(msg);
      outcomes_[i].error = status_text(status);
    }
  }
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = ack_timeout_.count();
  if (js_PublishAsyncComplete(js, &wait) == NATS_OK) return;
  // Still unanswered after ack_timeout: taken back, to be published again.
  natsMsgList unanswered{};
  if (js_PublishAsyncGetPendingList(&unanswered, js) != NATS_OK) return;
  {
    std::lock_guard lock(mutex_);
    for (int m = 0; m < unanswered.Count; ++m) {
      const auto it = pending_.find(unanswered.Msgs[m]);
      if (it == pending_.end()) continue;
      outcomes_[it->second].error = "no ack from JetStream within " + std::to_string(ack_timeout_.count()) + " ms";
      pending_.erase(it);
    }
  }
  natsMsgList_Destroy(&unanswered);
}

void NatsPublish::publish_window(RunContext& ctx, std::vector<Packet>& window) {
  if (window.empty()) return;
  std::vector<std::string> subjects(window.size()), bodies(window.size()), ids(window.size());
  {
    std::lock_guard lock(mutex_);
    outcomes_.assign(window.size(), {});
  }
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < window.size(); ++i) {
    try {
      subjects[i] = subject_.subject_for(window[i]);
    } catch (const std::exception& e) {
      outcomes_[i] = {.final = true, .error = e.what()};
      continue;
    }
    if (envelope_)
      json::write_envelope(window[i], bodies[i]);
    else
      json::write_fields(window[i], bodies[i]);
    if (const Value* id = window[i].get_meta(meta::id); id && id->is_string()) ids[i] = id->as_string();
    todo.push_back(i);
  }
  auto delay = backoff_;
  for (int attempt = 0; attempt <= retries_ && !todo.empty(); ++attempt) {
    if (attempt > 0) {
      io::run_blocking([&] { std::this_thread::sleep_for(delay); });
      delay = std::min<std::chrono::milliseconds>(delay * 2, std::chrono::seconds(10));
    }
    io::run_blocking([&] { publish_attempt(todo, subjects, bodies, ids); });
    std::lock_guard lock(mutex_);
    std::erase_if(todo, [&](std::size_t i) { return outcomes_[i].acked || outcomes_[i].final; });
  }
  // The acks are in: what JetStream stored completes, the rest fails naming the server.
  for (std::size_t i = 0; i < window.size(); ++i) {
    std::lock_guard lock(mutex_);
    const Outcome& outcome = outcomes_[i];
    if (outcome.acked) continue;
    const std::string where = subjects[i].empty() ? "" : " subject '" + subjects[i] + "'";
    ctx.fail(std::move(window[i]), ctx.node_path() + ": nats_publish to " + connection_->server() + where +
                                       ": " + outcome.error +
                                       (outcome.final ? "" : " (after " + std::to_string(retries_ + 1) + (retries_ ? " attempts)" : " attempt)")));
  }
  window.clear();
  ctx.release_held();
}

void NatsPublish::run(RunContext& ctx) {
  std::vector<Packet> window;
  Received received;
  for (;;) {
    // While packets wait for their acks, take whatever else is already queued into the same
    // window; publish it as soon as the queue is empty or the window is full.
    const ReceiveStatus status = ctx.receive(received, window.empty() ? Clock::time_point::max() : ctx.now());
    if (status == ReceiveStatus::closed) break;
    if (status == ReceiveStatus::timeout) {
      publish_window(ctx, window);
      continue;
    }
    window.push_back(std::move(received.packet));
    ctx.hold();  // its stream completes only once JetStream acked it
    if (window.size() >= max_in_flight_) publish_window(ctx, window);
  }
  publish_window(ctx, window);
}

}  // namespace sluice::nats
