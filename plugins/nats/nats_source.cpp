#include "nats_source.hpp"

#include <algorithm>
#include <stdexcept>

#include <sluice/json.hpp>

namespace sluice::nats {

namespace {

constexpr std::int64_t nanoseconds_per_ms = 1000000;

// The message's headers as meta: name → value, or a list for a name given more than once.
Object header_meta(natsMsg* msg) {
  Object headers;
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &count) != NATS_OK) return headers;
  for (int k = 0; k < count; ++k) {
    const char** values = nullptr;
    int value_count = 0;
    if (natsMsgHeader_Values(msg, keys[k], &values, &value_count) != NATS_OK) continue;
    if (value_count == 1) {
      headers[keys[k]] = std::string(values[0]);
    } else {
      Array all;
      for (int v = 0; v < value_count; ++v) all.emplace_back(std::string(values[v]));
      headers[keys[k]] = std::move(all);
    }
    free(values);
  }
  free(keys);
  return headers;
}

}  // namespace

ComponentDescriptor NatsSource::descriptor() {
  std::vector<ParamSpec> params = {
      {.name = "stream", .type = ParamType::string, .description = "JetStream stream to consume", .required = true},
      {.name = "durable",
       .type = ParamType::string,
       .description = "durable consumer name, created when missing: every node (and every restart) with the "
                      "same name shares its messages and its acks",
       .required = true},
      {.name = "subject",
       .type = ParamType::string,
       .description = "subject filter of the consumer (wildcards allowed); absent: every subject of the stream"},
      {.name = "batch",
       .type = ParamType::integer,
       .description = "messages asked for per pull",
       .default_value = 100,
       .minimum = 1,
       .maximum = 10000},
      {.name = "max_in_flight",
       .type = ParamType::integer,
       .description = "messages in this node's graph not yet acked at most: the source pulls no more until "
                      "some are done, and the rest stays in the stream for the other nodes",
       .default_value = 1000,
       .minimum = 1,
       .maximum = 100000},
      {.name = "max_ack_pending",
       .type = ParamType::integer,
       .description = "messages delivered and not yet acked at most over every node of the consumer "
                      "(JetStream's max_ack_pending); at least max_in_flight, and room for each node's "
                      "max_in_flight keeps every node busy (the default: ten nodes at the default max_in_flight)",
       .default_value = 10000,
       .minimum = 1,
       .maximum = 1000000},
      {.name = "ack_wait_ms",
       .type = ParamType::integer,
       .description = "JetStream redelivers a message not acked within this time (to any node on the "
                      "consumer): longer than a packet takes through the graph",
       .default_value = 30000,
       .minimum = 100},
      {.name = "format",
       .type = ParamType::string,
       .description = "json: a JSON object body becomes the fields, any other JSON value the field `data`, "
                      "a body that is not JSON the raw bytes in `data` (base64 when not UTF-8) with meta `raw: true`; "
                      "raw: always the raw bytes in `data`; envelope: the body is {\"fields\",\"meta\",\"field_meta\"} (nats_publish "
                      "with format: envelope)",
       .default_value = "json",
       .allowed = {"json", "raw", "envelope"}},
      {.name = "create_stream",
       .type = ParamType::boolean,
       .description = "create the stream when it is missing, capturing `subject` (file storage)",
       .default_value = false},
      {.name = "replicas",
       .type = ParamType::integer,
       .description = "with create_stream: copies of the stream in the NATS cluster (3 survives a lost server)",
       .default_value = 1,
       .minimum = 1,
       .maximum = 5}};
  for (auto& p : connection_params()) params.push_back(std::move(p));
  return {.name = "nats_source",
          .version = "1.0.0",
          .summary = "Consumes a NATS JetStream stream (durable pull consumer); acks each message once it is done "
                     "(a source)",
          .kind = ComponentKind::source,
          .outputs = {{"out", "one packet per message; meta subject, headers, stream_seq, delivered, id"}},
          .params = std::move(params),
          .capabilities = {"fs_read", "net"},
          .example = {.description = "Consumes the orders of every region with a durable consumer that all nodes of a cluster share",
                      .params = R"(servers: ["nats://127.0.0.1:4222"]
stream: ORDERS
durable: sluice-orders
subject: "orders.>")"}};
}

NatsSource::NatsSource(const Params& params)
    : stream_(params.get_string("stream")),
      durable_(params.get_string("durable")),
      subject_(params.get_string("subject", "")),
      format_(params.get_string("format")),
      batch_(static_cast<int>(params.get_int("batch"))),
      max_in_flight_(static_cast<std::size_t>(params.get_int("max_in_flight"))),
      max_ack_pending_(params.get_int("max_ack_pending")),
      ack_wait_ms_(params.get_int("ack_wait_ms")),
      create_stream_(params.get_bool("create_stream")),
      replicas_(static_cast<int>(params.get_int("replicas"))) {
  if (durable_.find_first_of(". *>") != std::string::npos)
    throw std::invalid_argument("param 'durable': '" + durable_ + "' may not hold '.', ' ', '*' or '>'");
  if (max_ack_pending_ < static_cast<std::int64_t>(max_in_flight_))
    throw std::invalid_argument("param 'max_ack_pending' (" + std::to_string(max_ack_pending_) +
                                ") is below max_in_flight (" + std::to_string(max_in_flight_) +
                                "): the consumer would never deliver this node a full window");
  if (create_stream_ && subject_.empty())
    throw std::invalid_argument("param 'create_stream' needs param 'subject': the subjects the stream captures");
  connection_ = std::make_unique<Connection>(params, "sluice nats_source " + durable_);
}

NatsSource::~NatsSource() = default;

natsSubscription* NatsSource::subscribe(SourceContext& ctx) {
  std::string last_error;
  auto delay = std::chrono::milliseconds(100);
  for (;;) {
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus status = NATS_OK;
    if (create_stream_) {
      jsStreamInfo* info = nullptr;
      status = js_GetStreamInfo(&info, connection_->jetstream(), stream_.c_str(), nullptr, &code);
      jsStreamInfo_Destroy(info);
      if (status == NATS_NOT_FOUND || code == JSStreamNotFoundErr) {
        jsStreamConfig config;
        jsStreamConfig_Init(&config);
        config.Name = stream_.c_str();
        const char* subjects[] = {subject_.c_str()};
        config.Subjects = subjects;
        config.SubjectsLen = 1;
        config.Storage = js_FileStorage;
        config.Replicas = replicas_;
        status = js_AddStream(&info, connection_->jetstream(), &config, nullptr, &code);
        jsStreamInfo_Destroy(info);
      }
    }
    natsSubscription* subscription = nullptr;
    if (status == NATS_OK) {
      // The consumer made (or brought to these params) first, then bound to by name: the
      // subscription then needs no subject.
      jsConsumerConfig config;
      jsConsumerConfig_Init(&config);
      config.Durable = durable_.c_str();
      config.AckPolicy = js_AckExplicit;
      config.AckWait = ack_wait_ms_ * nanoseconds_per_ms;
      config.MaxAckPending = max_ack_pending_;
      if (!subject_.empty()) config.FilterSubject = subject_.c_str();
      jsConsumerInfo* info = nullptr;
      status = js_GetConsumerInfo(&info, connection_->jetstream(), stream_.c_str(), durable_.c_str(), nullptr, &code);
      jsConsumerInfo_Destroy(info);
      info = nullptr;
      if (status == NATS_OK)
        status = js_UpdateConsumer(&info, connection_->jetstream(), stream_.c_str(), &config, nullptr, &code);
      else if (status == NATS_NOT_FOUND || code == JSConsumerNotFoundErr)
        status = js_AddConsumer(&info, connection_->jetstream(), stream_.c_str(), &config, nullptr, &code);
      jsConsumerInfo_Destroy(info);
    }
    if (status == NATS_OK) {
      jsSubOptions options;
      jsSubOptions_Init(&options);
      options.Stream = stream_.c_str();
      options.Consumer = durable_.c_str();
      status = js_PullSubscribe(&subscription, connection_->jetstream(), nullptr, durable_.c_str(), nullptr, &options,
                                &code);
      if (status == NATS_OK) return subscription;
    }
    // Said once per new reason, not on every retry.
    const std::string error = status_text(status);
    if (error != last_error)
      ctx.log().warn("nats_source on " + connection_->server() + ": consumer '" + durable_ + "' of stream '" +
                     stream_ + "': " + error + " (retrying)");
    last_error = error;
    if (!ctx.sleep_until(ctx.now() + delay)) return nullptr;
    delay = std::min<std::chrono::milliseconds>(delay * 2, std::chrono::seconds(5));
  }
}

Packet NatsSource::to_packet(natsMsg* msg) const {
  const std::string_view body(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  Packet packet;
  bool raw = format_ == "raw";
  if (format_ == "envelope") {
    try {
      packet = json::parse_envelope(body);
    } catch (const std::exception&) {
      raw = true;
    }
  } else if (!raw) {
    try {
      Value document = json::parse(body);
      if (document.is_object())
        packet = Packet(std::move(document.as_object()));
      else
        packet.set("data", std::move(document));
    } catch (const json::ParseError&) {
      raw = true;
    }
  }
  if (raw) {
    packet = Packet();
    packet.set_bytes("data", std::string(body));  // base64 when it is not UTF-8
    packet.set_meta("raw", true);
  }
  packet.set_meta("subject", std::string(natsMsg_GetSubject(msg)));
  Object headers = header_meta(msg);
  std::string id;
  if (const Value* msg_id = headers.find("Nats-Msg-Id"); msg_id && msg_id->is_string()) id = msg_id->as_string();
  if (!headers.empty()) packet.set_meta("headers", std::move(headers));
  jsMsgMetaData* delivery = nullptr;
  if (natsMsg_GetMetaData(&delivery, msg) == NATS_OK) {
    packet.set_meta("stream_seq", static_cast<std::int64_t>(delivery->Sequence.Stream));
    packet.set_meta("delivered", static_cast<std::int64_t>(delivery->NumDelivered));
    if (id.empty()) id = stream_ + ":" + std::to_string(delivery->Sequence.Stream);
    jsMsgMetaData_Destroy(delivery);
  }
  // The publisher's id when it gave one (nats_publish sends the packet's): a sink can
  // deduplicate redeliveries by it.
  if (!id.empty()) packet.set_meta(meta::id, id);
  return packet;
}

void NatsSource::done(const std::vector<natsMsg*>& messages) {
  // Fire and forget: an ack lost with the connection only means one more delivery.
  for (natsMsg* msg : messages) {
    natsMsg_Ack(msg, nullptr);
    natsMsg_Destroy(msg);
  }
  std::lock_guard lock(mutex_);
  in_flight_ -= messages.size();
  acked_.notify_one();
}

void NatsSource::produce(SourceContext& ctx) {
  natsSubscription* subscription = subscribe(ctx);
  if (!subscription) return;
  std::string last_error;
  while (!ctx.stopping()) {
    int room;
    {
      // Pull only what the graph has room for: no message waits here beyond one batch.
      std::unique_lock lock(mutex_);
      acked_.wait_for(lock, std::chrono::milliseconds(100), [&] { return in_flight_ < max_in_flight_; });
      room = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(batch_), max_in_flight_ - in_flight_));
    }
    if (room == 0) continue;
    natsMsgList messages{};
    jsErrCode code = static_cast<jsErrCode>(0);
    const natsStatus status = natsSubscription_Fetch(&messages, subscription, room, 500, &code);
    if (status == NATS_TIMEOUT) continue;  // nothing new: ask again (and look at stopping())
    if (status != NATS_OK) {
      const std::string error = status_text(status);
      if (error != last_error)
        ctx.log().warn("nats_source on " + connection_->server() + ": pull from consumer '" + durable_ + "': " +
                       error + " (retrying)");
      last_error = error;
      natsMsgList_Destroy(&messages);
      if (!ctx.sleep_until(ctx.now() + std::chrono::milliseconds(200))) break;
      continue;
    }
    last_error.clear();
    if (messages.Count == 0) {
      natsMsgList_Destroy(&messages);
      continue;
    }
    // One stream per pull: its messages are acked together, once all their packets are done.
    auto pulled = std::make_shared<std::vector<natsMsg*>>();
    std::vector<Packet> packets;
    for (int m = 0; m < messages.Count; ++m) {
      pulled->push_back(messages.Msgs[m]);
      messages.Msgs[m] = nullptr;  // ours now: destroyed once acked
      packets.push_back(to_packet(pulled->back()));
    }
    {
      std::lock_guard lock(mutex_);
      in_flight_ += pulled->size();
    }
    if (!ctx.send(std::move(packets), [this, pulled](const StreamOutcome&) { done(*pulled); })) {
      // Stopping: what was not sent is handed back, for JetStream to deliver again at once.
      for (natsMsg* msg : *pulled) {
        natsMsg_Nak(msg, nullptr);
        natsMsg_Destroy(msg);
      }
      std::lock_guard lock(mutex_);
      in_flight_ -= pulled->size();
    }
    natsMsgList_Destroy(&messages);
  }
  natsSubscription_Destroy(subscription);
}

}  // namespace sluice::nats
