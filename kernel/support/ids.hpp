// The ids the kernel makes up. A stream's id is all the access a client needs to read its
// status and results, so it is 128 random bits; a packet's id (the `id` meta of a packet that
// arrives without one, what sinks deduplicate on) must be unique and cheap, millions a second,
// not secret: a random per-process prefix and a counter.
#pragma once

#include <string>

namespace sluice {

// 32 hex digits from the kernel's CSPRNG (getrandom(2)).
std::string random_id();

// "1a2b3c4d-17": unique across processes in practice, in order within one.
std::string next_packet_id();

}  // namespace sluice
