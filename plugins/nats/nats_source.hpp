// nats_source — a durable pull consumer on a JetStream stream: one packet per message, each
// message acked only once its stream is through the graph (so a crash leaves it unacked and
// JetStream redelivers it after ack_wait_ms, here or to another node on the same consumer).
// The messages of one pull are one stream, acked together once it is done.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <sluice/component.hpp>

#include "nats_connection.hpp"

namespace sluice::nats {

class NatsSource : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit NatsSource(const Params& params);
  ~NatsSource() override;
  void produce(SourceContext& ctx) override;

 private:
  // Binds to the durable consumer (creating it, and the stream with create_stream, when
  // missing); retries with backoff until it works or the source stops. Null when stopping.
  natsSubscription* subscribe(SourceContext& ctx);
  Packet to_packet(natsMsg* msg) const;
  void done(const std::vector<natsMsg*>& messages);  // acks them

  std::string stream_, durable_, subject_, format_;
  int batch_;
  std::size_t max_in_flight_;
  std::int64_t max_ack_pending_;
  std::int64_t ack_wait_ms_;
  bool create_stream_;
  int replicas_;
  std::unique_ptr<Connection> connection_;
  std::mutex mutex_;
  std::condition_variable acked_;
  std::size_t in_flight_ = 0;  // messages sent into the graph and not acked yet
};

}  // namespace sluice::nats
