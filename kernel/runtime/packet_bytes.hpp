// packet_bytes — what a packet takes in memory, near enough to bound queues, the dead-letter
// store and the stream history in bytes as well as in packets.
#pragma once

#include <cstddef>

#include <sluice/packet.hpp>

namespace sluice {

std::size_t packet_bytes(const Packet& packet);

}  // namespace sluice
