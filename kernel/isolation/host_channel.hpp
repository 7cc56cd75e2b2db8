// HostChannel — the framed protocol between the kernel and a `sluice host` process, over one
// end of a Unix stream socket pair.
//
// A frame is a 4-byte little-endian length (of what follows), a 1-byte type, and its payload.
// The conversation mirrors RunContext: the host runs the component's run(), and every call
// that reaches outside the component is a frame; the kernel answers only `want`.
//
//   kernel                                   host
//   init {"params": {…}}              →
//                                     ←      ready | failed_to_start "why"
//                                     ←      want <deadline ns of steady_clock, or max>
//   packet <in port u32><envelope>    →      (or timeout, or closed)
//                                     ←      emit <port u32><envelope> | deliver <envelope> |
//                                            fail <message length u32><message><envelope> |
//                                            hold | release_held, any number of them
//                                     ←      want … (the packet is done) … and after closed:
//                                     ←      end (run() returned) | run_threw "why"
//
// steady_clock is CLOCK_MONOTONIC, one clock for every process of the machine, so deadlines
// cross the boundary as they are. Packets cross as JSON envelopes (json::write_envelope),
// which keep fields, meta and field meta.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice {

enum class HostFrame : std::uint8_t {
  init = 1,
  ready,
  failed_to_start,
  want,
  packet,
  timeout,
  closed,
  emit,
  deliver,
  fail,
  hold,
  release_held,
  end,
  run_threw,
};

struct Frame {
  HostFrame type = HostFrame::end;
  std::string payload;
};

// A frame longer than this is a broken peer, not a packet (the REST ingress takes bodies far
// smaller).
inline constexpr std::size_t max_frame_bytes = std::size_t{1} << 30;

class HostChannel {
 public:
  explicit HostChannel(int fd);  // owns `fd`
  ~HostChannel();
  HostChannel(const HostChannel&) = delete;
  HostChannel& operator=(const HostChannel&) = delete;

  // Writes one whole frame. False when the peer is gone (it crashed or closed its end).
  bool send(HostFrame type, std::string_view payload = {});

  // Takes the next complete frame already read, if there is one.
  bool take(Frame& frame);
  enum class ReadStatus { data, closed, timed_out, broken };
  // Reads what is there without waiting (data: something was read, or would block).
  ReadStatus read_available();
  // Waits until something arrives or `deadline` passes, and reads it. broken: the peer sent a
  // frame that cannot be one (too long, unknown type).
  ReadStatus read_until(std::chrono::steady_clock::time_point deadline);
  // read_until(deadline), then take(), until a frame is complete.
  ReadStatus next(Frame& frame, std::chrono::steady_clock::time_point deadline);

  int fd() const { return fd_; }

 private:
  int fd_;
  std::string buffer_;  // bytes read and not yet taken
  std::size_t taken_ = 0;
  bool broken_ = false;
};

// Payload pieces: a u32 or i64 in little-endian order, and reading them back (false when the
// payload is too short; `text` then keeps what was left).
void put_u32(std::string& out, std::uint32_t value);
void put_i64(std::string& out, std::int64_t value);
bool get_u32(std::string_view& text, std::uint32_t& value);
bool get_i64(std::string_view& text, std::int64_t& value);

}  // namespace sluice
