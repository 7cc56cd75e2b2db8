#include "mqtt_source.hpp"

#include <fcntl.h>
#include <mosquitto.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <sluice/json.hpp>

namespace sluice::mqtt {

namespace fs = std::filesystem;

namespace {

// "M seq qos retain topic_bytes payload_bytes\n" topic payload "\n", or "D seq\n".
std::string message_record(std::uint64_t seq, const SpooledMessage& m) {
  std::string record = "M " + std::to_string(seq) + ' ' + std::to_string(m.qos) + ' ' + (m.retain ? '1' : '0') + ' ' +
                       std::to_string(m.topic.size()) + ' ' + std::to_string(m.payload.size()) + '\n';
  record += m.topic;
  record += m.payload;
  record += '\n';
  return record;
}

int open_for_append(const std::string& file) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot open " + file + ": " + std::strerror(errno));
  return fd;
}

}  // namespace

MessageSpool::MessageSpool(std::string file, bool sync, std::uintmax_t compact_at)
    : file_(std::move(file)), sync_(sync), compact_at_(compact_at) {
  std::ifstream in(file_, std::ios::binary);
  std::stringstream whole;
  whole << in.rdbuf();
  const std::string text = whole.str();
  // A record cut short (the disk filled up) ends the spool: what follows it cannot be read.
  std::size_t at = 0;
  while (at < text.size()) {
    const auto eol = text.find('\n', at);
    if (eol == std::string::npos) break;
    std::istringstream header(text.substr(at, eol - at));
    char kind = 0;
    std::uint64_t seq = 0;
    header >> kind >> seq;
    if (!header) break;
    next_seq_ = std::max(next_seq_, seq + 1);
    if (kind == 'D') {
      open_.erase(seq);
      at = eol + 1;
      continue;
    }
    SpooledMessage m;
    int retain = 0;
    std::size_t topic_bytes = 0, payload_bytes = 0;
    header >> m.qos >> retain >> topic_bytes >> payload_bytes;
    if (kind != 'M' || !header || eol + 1 + topic_bytes + payload_bytes + 1 > text.size()) break;
    m.retain = retain != 0;
    m.topic = text.substr(eol + 1, topic_bytes);
    m.payload = text.substr(eol + 1 + topic_bytes, payload_bytes);
    open_[seq] = std::move(m);
    at = eol + 1 + topic_bytes + payload_bytes + 1;
  }
  rewrite();  // drops the finished ones and anything damaged
}

MessageSpool::~MessageSpool() {
  if (fd_ >= 0) ::close(fd_);
}

std::vector<std::pair<std::uint64_t, SpooledMessage>> MessageSpool::unfinished() const {
  std::lock_guard lock(mutex_);
  return {open_.begin(), open_.end()};
}

void MessageSpool::append(const std::string& bytes) {
  for (std::size_t written = 0; written < bytes.size();) {
    const ssize_t n = ::write(fd_, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error("cannot write " + file_ + ": " + std::strerror(errno));
    written += static_cast<std::size_t>(n);
  }
  size_ += bytes.size();
  if (sync_ && ::fdatasync(fd_) != 0) throw std::runtime_error("cannot sync " + file_ + ": " + std::strerror(errno));
}

void MessageSpool::rewrite() {
  const std::string temporary = file_ + ".new";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    for (const auto& [seq, m] : open_) out << message_record(seq, m);
    if (!out.flush()) throw std::runtime_error("cannot write " + temporary);
  }
  fs::rename(temporary, file_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = open_for_append(file_);
  size_ = fs::file_size(file_);
  // Twice what is left: rewriting costs the unfinished messages, so at most as many bytes
  // again as were appended since the last rewrite.
  next_compaction_ = std::max(compact_at_, 2 * size_);
}

std::uint64_t MessageSpool::record(const SpooledMessage& message) {
  std::lock_guard lock(mutex_);
  const std::uint64_t seq = next_seq_++;
  append(message_record(seq, message));
  open_[seq] = message;
  return seq;
}

void MessageSpool::finish(std::uint64_t seq) {
  std::lock_guard lock(mutex_);
  open_.erase(seq);
  append("D " + std::to_string(seq) + '\n');
  if (size_ > next_compaction_) rewrite();
}

ComponentDescriptor MqttSource::descriptor() {
  std::vector<ParamSpec> params = {
      {.name = "topics",
       .type = ParamType::string_list,
       .description = "topic filters to subscribe to at QoS 1 (+ and # wildcards)",
       .required = true},
      {.name = "format",
       .type = ParamType::string,
       .description = "json: a payload that is JSON becomes the packet's fields (a non-object in `data`), "
                      "anything else is sent raw; raw: the payload's bytes in `data`",
       .default_value = "json",
       .allowed = {"json", "raw"}},
      {.name = "fsync",
       .type = ParamType::boolean,
       .description = "sync the spool to disk before a message is acknowledged to the broker: then a power "
                      "loss loses nothing either (slower); false: a crash of sluice loses nothing",
       .default_value = false}};
  for (ParamSpec& p : connection_params("MQTT client id, fixed: the broker keeps the session (subscriptions, "
                                        "messages not yet acknowledged) under it while sluice is away")) {
    if (p.name == "client_id") p.required = true;
    params.push_back(std::move(p));
  }
  return {.name = "mqtt_source",
          .version = "1.0.0",
          .summary = "Subscribes to MQTT topics (QoS 1, persistent session): one packet per message (a source)",
          .kind = ComponentKind::source,
          .outputs = {{"out", "one packet per message; topic, qos and retain meta"}},
          .params = std::move(params),
          .capabilities = {"fs_read", "net"},
          .example = {.description = "Subscribes to every sensor's readings; the broker keeps what arrives while sluice is away",
                      .params = R"(topics: ["sensors/+/reading"]
client_id: sluice-sensors
host: 127.0.0.1
port: 1883)"}};
}

MqttSource::MqttSource(const Params& params)
    : settings_(connection_settings(params)),
      topics_(params.get_string_list("topics")),
      parse_json_(params.get_string("format") == "json"),
      sync_spool_(params.get_bool("fsync")) {
  settings_.clean_session = false;
  if (topics_.empty()) throw std::invalid_argument("param 'topics': give at least one topic filter");
  for (const auto& filter : topics_)
    if (mosquitto_sub_topic_check(filter.c_str()) != MOSQ_ERR_SUCCESS)
      throw std::invalid_argument("param 'topics': \"" + filter + "\" is no topic filter");
}

Packet MqttSource::to_packet(const SpooledMessage& m) const {
  Packet packet;
  bool parsed = false;
  if (parse_json_) {
    try {
      Value document = json::parse(m.payload);
      if (document.is_object())
        packet = json::to_packet(std::move(document));
      else
        packet.set("data", std::move(document));
      parsed = true;
    } catch (const std::exception&) {
      // not JSON: sent raw below
    }
  }
  if (!parsed) packet.set_bytes("data", m.payload);
  packet.set_meta("topic", m.topic);
  packet.set_meta("qos", static_cast<std::int64_t>(m.qos));
  packet.set_meta("retain", m.retain);
  return packet;
}

bool MqttSource::send(SourceContext& ctx, const SpooledMessage& message, std::uint64_t seq, bool redelivered) {
  std::vector<Packet> one;
  one.push_back(to_packet(message));
  if (redelivered) one.front().set_meta("redelivered", true);
  StreamDoneCallback done;
  if (spool_) done = [spool = spool_.get(), seq](const StreamOutcome&) { spool->finish(seq); };
  return ctx.send(std::move(one), std::move(done));
}

void MqttSource::produce(SourceContext& ctx) {
  if (!ctx.state_dir().empty()) {
    fs::create_directories(ctx.state_dir());
    spool_ = std::make_unique<MessageSpool>((fs::path(ctx.state_dir()) / "spool").string(), sync_spool_);
    // What a previous run took from the broker (and the broker forgot) but did not finish.
    for (const auto& [seq, message] : spool_->unfinished())
      if (!send(ctx, message, seq, true)) return;
  }
  MqttConnection connection(settings_);
  connection.on_connected([this](mosquitto* client, bool session_present) {
    // A session the broker kept has its subscriptions; subscribing again would make it send
    // the retained messages once more.
    if (session_present) return;
    std::vector<char*> filters;
    for (auto& filter : topics_) filters.push_back(filter.data());
    mosquitto_subscribe_multiple(client, nullptr, static_cast<int>(filters.size()), filters.data(), 1, 0, nullptr);
  });
  // On the network thread, before the PUBACK leaves: the spool has the message first. A send()
  // that waits for the graph also stops reading the socket, so the broker holds the rest back
  // (its max_inflight_messages, then its queue).
  connection.on_message([&](const mosquitto_message& m) {
    SpooledMessage message{std::string(m.topic),
                           std::string(static_cast<const char*>(m.payload), static_cast<std::size_t>(m.payloadlen)),
                           m.qos, m.retain};
    const std::uint64_t seq = spool_ ? spool_->record(message) : 0;
    send(ctx, message, seq, false);  // stopping: the spool sends it after the restart
  });
  connection.start(ctx.node_path());
  while (ctx.sleep_until(ctx.now() + std::chrono::milliseconds(200))) {
  }
}

}  // namespace sluice::mqtt
