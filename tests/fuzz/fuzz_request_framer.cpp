// RequestFramer on arbitrary bytes, fed in two reads split where the first byte says: every
// outcome is a request or a RequestError, never a crash, a hang or an unbounded buffer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingress/request_framer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t split = bytes.empty() ? 0 : data[0] % (bytes.size() + 1);
  sluice::RequestFramer framer({.max_head = 4096, .max_body = 1 << 16});
  try {
    for (std::string_view part : {bytes.substr(0, split), bytes.substr(split)}) {
      framer.feed(part);
      while (auto framed = framer.next()) {
        if (framed->request.body.size() > (1 << 16)) __builtin_trap();  // the limit holds
      }
    }
  } catch (const sluice::RequestError&) {
  }
  return 0;
}
