// mqtt_source — subscribes to MQTT topic filters at QoS 1 in a persistent session and sends
// one packet per message. libmosquitto 2.0 has no manual acknowledgement: on its network
// thread (mosquitto_loop_start) the PUBACK it queues for a message leaves once the message
// callback has returned. So the callback writes the message to a spool in the node's state
// directory first, and the spool marks it done once its stream is through the graph; after a
// crash the spool's unfinished messages are sent again.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <sluice/component.hpp>

#include "mqtt_connection.hpp"

namespace sluice::mqtt {

struct SpooledMessage {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
};

// An append-only file of messages taken from the broker and of the ones whose streams are
// done. Each record is one write(2), so it is in the kernel before record() returns: a killed
// process loses nothing it recorded; with `sync` it is also on the disk (fdatasync). Rewritten
// with only the unfinished messages when it has grown past twice their size (and `compact_at`).
class MessageSpool {
 public:
  explicit MessageSpool(std::string file, bool sync, std::uintmax_t compact_at = 4 << 20);
  ~MessageSpool();
  MessageSpool(const MessageSpool&) = delete;
  MessageSpool& operator=(const MessageSpool&) = delete;

  // The messages a previous run recorded and did not finish, oldest first.
  std::vector<std::pair<std::uint64_t, SpooledMessage>> unfinished() const;
  std::uint64_t record(const SpooledMessage& message);  // its sequence number
  void finish(std::uint64_t seq);

 private:
  void append(const std::string& bytes);
  void rewrite();

  std::string file_;
  bool sync_;
  std::uintmax_t compact_at_;
  std::uintmax_t next_compaction_ = 0;  // file size that triggers the next rewrite
  int fd_ = -1;
  std::uintmax_t size_ = 0;
  std::uint64_t next_seq_ = 1;
  mutable std::mutex mutex_;  // finish() runs on worker threads
  std::map<std::uint64_t, SpooledMessage> open_;
};

class MqttSource : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit MqttSource(const Params& params);
  void produce(SourceContext& ctx) override;

 private:
  Packet to_packet(const SpooledMessage& message) const;
  // Sends one message as its own stream; false when the source is stopping.
  bool send(SourceContext& ctx, const SpooledMessage& message, std::uint64_t seq, bool redelivered);

  ConnectionSettings settings_;
  std::vector<std::string> topics_;
  bool parse_json_;
  bool sync_spool_;
  std::unique_ptr<MessageSpool> spool_;  // null without a state directory (`sluice run`)
};

}  // namespace sluice::mqtt
