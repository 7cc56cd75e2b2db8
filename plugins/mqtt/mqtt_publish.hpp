// mqtt_publish — publishes each packet to an MQTT broker: its JSON body or one raw field, to a
// fixed topic or one filled in from fields, at QoS 0, 1 or 2, optionally retained. At QoS 1
// and 2 a packet's stream completes only once the broker has acknowledged the publish.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <sluice/component.hpp>
#include <sluice/text_template.hpp>

#include "mqtt_connection.hpp"

namespace sluice::mqtt {

// A topic such as `sensors/{site}/{device.id}`: the braces name field paths of the packet
// ({{ and }} are braces).
class TopicTemplate {
 public:
  explicit TopicTemplate(const std::string& text);  // throws std::invalid_argument
  // The topic for a packet; throws std::runtime_error naming a field that is missing.
  std::string expand(const Packet& packet) const;

 private:
  TextTemplate template_;
};

class MqttPublish : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit MqttPublish(const Params& params);
  void run(RunContext& ctx) override;

 private:
  // Publishes one packet (false: it failed for good, `error` says why).
  bool publish(const Packet& packet, std::string& error);
  // Waits until the broker has acknowledged every publish sent so far.
  void wait_acknowledged();

  TopicTemplate topic_;
  FieldPath field_;  // no text: the packet's JSON body
  int qos_;
  bool retain_;
  std::size_t max_in_flight_;
  std::unique_ptr<MqttConnection> connection_;
  std::mutex mutex_;
  std::condition_variable acknowledged_;
  std::set<int> unacknowledged_;  // message ids published and not yet acknowledged
  std::set<int> acknowledged_early_;  // acknowledged before mosquitto_publish returned the id
};

}  // namespace sluice::mqtt
