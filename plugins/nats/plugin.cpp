#include <sluice/plugin.hpp>

#include "nats_publish.hpp"
#include "nats_source.hpp"

using namespace sluice::nats;

SLUICE_PLUGIN("nats", "1.0.0", "NATS JetStream: nats_publish (acked publishes) and nats_source (a durable pull consumer)",
              sluice::describe<NatsPublish>(), sluice::describe<NatsSource>())
