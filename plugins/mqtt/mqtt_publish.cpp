#include "mqtt_publish.hpp"

#include <mosquitto.h>

#include <stdexcept>

#include <sluice/io.hpp>
#include <sluice/json.hpp>

namespace sluice::mqtt {

TopicTemplate::TopicTemplate(const std::string& text) : template_(text) {
  bool fixed = true;
  for (const auto& piece : template_.pieces()) fixed = fixed && !piece.placeholder;
  if (fixed && mosquitto_pub_topic_check(text.c_str()) != MOSQ_ERR_SUCCESS)
    throw std::invalid_argument("\"" + text + "\" is no topic to publish to (empty, or with + or #)");
}

std::string TopicTemplate::expand(const Packet& packet) const {
  std::string topic = template_.render([&](const TextTemplate::Piece& field, std::string& out) {
    const Value* value = packet.find_path(field.path);
    if (!value || value->is_null()) throw std::runtime_error("the topic needs field '" + field.text + "', which is missing");
    out += value->is_string() ? value->as_string() : json::to_string(*value);
  });
  if (mosquitto_pub_topic_check(topic.c_str()) != MOSQ_ERR_SUCCESS)
    throw std::runtime_error("\"" + topic + "\" is no topic to publish to (empty, or with + or #)");
  return topic;
}

ComponentDescriptor MqttPublish::descriptor() {
  std::vector<ParamSpec> params = {
      {.name = "topic",
       .type = ParamType::string,
       .description = "topic to publish to; {path} is replaced by that field's value, e.g. sensors/{site}/{device.id} ({{ and }} for a brace)",
       .required = true},
      {.name = "field",
       .type = ParamType::string,
       .description = "publish this field's value as it is (a string's bytes, other values as JSON); absent: the "
                      "packet's fields as a JSON object"},
      {.name = "qos",
       .type = ParamType::integer,
       .description = "0: at most once; 1: at least once; 2: exactly once to the broker. At 1 and 2 a packet is done "
                      "only when the broker has acknowledged it",
       .default_value = 1,
       .allowed = {0, 1, 2}},
      {.name = "retain", .type = ParamType::boolean, .description = "the broker keeps the last message of the topic for new subscribers", .default_value = false},
      {.name = "max_in_flight",
       .type = ParamType::integer,
       .description = "publishes sent and not yet acknowledged at most; then the node waits for the broker",
       .default_value = 100,
       .minimum = 1,
       .maximum = 65535}};
  for (ParamSpec& p : connection_params("MQTT client id (absent: the broker picks one)")) params.push_back(std::move(p));
  return {.name = "mqtt_publish",
          .version = "1.0.0",
          .summary = "Publishes each packet to an MQTT broker (QoS 0/1/2, retain, topics from fields)",
          .kind = ComponentKind::publisher,
          .params = std::move(params),
          .capabilities = {"fs_read", "net"},
          .example = {.description = "Publishes each reading to a topic per site and device, acknowledged by the broker (QoS 1)",
                      .params = R"(topic: "sensors/{site}/{device.id}"
host: 127.0.0.1
port: 1883)"}};
}

MqttPublish::MqttPublish(const Params& params)
    : topic_([&] {
        try {
          return TopicTemplate(params.get_string("topic"));
        } catch (const std::invalid_argument& e) {
          throw std::invalid_argument(std::string("param 'topic': ") + e.what());
        }
      }()),
      field_(params.get_string("field", "")),
      qos_(static_cast<int>(params.get_int("qos"))),
      retain_(params.get_bool("retain")),
      max_in_flight_(static_cast<std::size_t>(params.get_int("max_in_flight"))) {
  connection_ = std::make_unique<MqttConnection>(connection_settings(params));
  // libmosquitto's own window: beyond it, it queues (and resends after a reconnect) itself.
  mosquitto_max_inflight_messages_set(connection_->handle(), static_cast<unsigned>(max_in_flight_));
  connection_->on_published([this](int mid) {
    {
      std::lock_guard lock(mutex_);
      if (!unacknowledged_.erase(mid)) acknowledged_early_.insert(mid);
    }
    acknowledged_.notify_all();
  });
}

bool MqttPublish::publish(const Packet& packet, std::string& error) {
  std::string topic, body;
  try {
    topic = topic_.expand(packet);
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
  if (field_.text().empty()) {
    body = json::to_string(packet);
  } else {
    const Value* value = packet.find_path(field_);
    if (!value) {
      error = "field '" + field_.text() + "' (param 'field') is missing";
      return false;
    }
    std::string decoded;  // a field of bytes that are not UTF-8 is base64 (Packet::set_bytes)
    if (value->is_string() && packet.has_meta(field_.text(), meta::encoding))
      body = std::string(packet.bytes(field_.text(), decoded));
    else
      body = value->is_string() ? value->as_string() : json::to_string(*value);
  }
  for (;;) {
    if (!connection_->connected())
      io::run_blocking([&] { connection_->wait_connected(Clock::time_point::max()); });
    int mid = 0;
    const int rc = mosquitto_publish(connection_->handle(), &mid, topic.c_str(), static_cast<int>(body.size()),
                                     body.data(), qos_, retain_);
    // At QoS 1 and 2 libmosquitto has queued the message even when the connection dropped
    // just now: it sends it after reconnecting, and acknowledges it then.
    if (rc == MOSQ_ERR_SUCCESS || (rc == MOSQ_ERR_NO_CONN && qos_ > 0 && mid != 0)) {
      std::lock_guard lock(mutex_);
      if (!acknowledged_early_.erase(mid)) unacknowledged_.insert(mid);
      return true;
    }
    if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST) continue;  // QoS 0: wait for the broker
    error = connection_->where() + "publish to \"" + topic + "\" failed: " + error_text(rc);
    return false;
  }
}

void MqttPublish::wait_acknowledged() {
  std::unique_lock lock(mutex_);
  if (unacknowledged_.empty()) return;
  lock.unlock();
  io::run_blocking([&] {
    std::unique_lock waiting(mutex_);
    acknowledged_.wait(waiting, [&] { return unacknowledged_.empty(); });
  });
}

void MqttPublish::run(RunContext& ctx) {
  connection_->start(ctx.node_path());
  // Packets are held (their streams stay open) from their publish until the broker has
  // acknowledged them; then they are released together. Taking what is queued without
  // waiting keeps up to max_in_flight publishes on the wire at once.
  std::size_t held = 0;
  auto settle = [&] {
    wait_acknowledged();
    ctx.release_held();
    held = 0;
  };
  Received received;
  for (;;) {
    const ReceiveStatus status = ctx.receive(received, held ? ctx.now() : Clock::time_point::max());
    if (status == ReceiveStatus::closed) break;
    if (status == ReceiveStatus::timeout) {
      settle();
      continue;
    }
    std::string error;
    if (!publish(received.packet, error)) {
      ctx.fail(std::move(received.packet), error);
      continue;
    }
    ctx.hold();
    if (++held >= max_in_flight_) settle();
  }
  settle();
}

}  // namespace sluice::mqtt
