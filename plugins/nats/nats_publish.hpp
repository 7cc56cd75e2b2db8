// nats_publish — publishes each packet as JSON to a JetStream subject and completes its stream
// only once JetStream has stored it (its publish ack); deduplicated by the packet's `id`.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <sluice/component.hpp>
#include <sluice/text_template.hpp>

#include "nats_connection.hpp"

namespace sluice::nats {

// A subject with {field.path} placeholders filled from each packet ({{ and }} are braces).
class SubjectTemplate {
 public:
  // Throws std::invalid_argument naming the offset of a brace that closes nothing.
  explicit SubjectTemplate(const std::string& text);
  // Throws std::runtime_error when a field is missing or its value cannot be a subject token.
  std::string subject_for(const Packet& packet) const;
  const std::string& text() const { return template_.text(); }

 private:
  TextTemplate template_;  // its placeholders are field paths
};

class NatsPublish : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit NatsPublish(const Params& params);
  ~NatsPublish() override;
  void run(RunContext& ctx) override;

 private:
  // What became of one packet of a window.
  struct Outcome {
    bool acked = false;
    bool final = false;  // failed for good: retrying cannot help
    std::string error;   // the last failure
  };
  // Publishes the window (async, at most max_in_flight), waits for the acks, republishes what
  // failed with backoff; failed packets go to the error port, the rest complete.
  void publish_window(RunContext& ctx, std::vector<Packet>& window);
  void publish_attempt(const std::vector<std::size_t>& todo, const std::vector<std::string>& subjects,
                       const std::vector<std::string>& bodies, const std::vector<std::string>& ids);
  static void on_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* failure, void* self);

  SubjectTemplate subject_;
  bool envelope_;
  std::size_t max_in_flight_;
  int retries_;
  std::chrono::milliseconds backoff_, ack_timeout_;
  std::unique_ptr<Connection> connection_;
  std::mutex mutex_;  // pending_ and outcomes_: acks arrive on a libnats thread
  std::map<natsMsg*, std::size_t> pending_;  // published, not answered: index in the window
  std::vector<Outcome> outcomes_;
};

}  // namespace sluice::nats
