#include "isolation/host_channel.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace sluice {

HostChannel::HostChannel(int fd) : fd_(fd) {}

HostChannel::~HostChannel() { ::close(fd_); }

bool HostChannel::send(HostFrame type, std::string_view payload) {
  std::string head;
  put_u32(head, static_cast<std::uint32_t>(payload.size() + 1));
  head.push_back(static_cast<char>(type));
  iovec parts[2] = {{head.data(), head.size()}, {const_cast<char*>(payload.data()), payload.size()}};
  msghdr message{};
  message.msg_iov = parts;
  message.msg_iovlen = 2;
  std::size_t left = head.size() + payload.size();
  while (left > 0) {
    // MSG_NOSIGNAL: a peer that died answers EPIPE, not a SIGPIPE for the whole process.
    const ssize_t sent = ::sendmsg(fd_, &message, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        pollfd ready{fd_, POLLOUT, 0};
        ::poll(&ready, 1, -1);
        continue;
      }
      return false;
    }
    left -= static_cast<std::size_t>(sent);
    auto done = static_cast<std::size_t>(sent);
    while (message.msg_iovlen > 0 && done >= message.msg_iov[0].iov_len) {
      done -= message.msg_iov[0].iov_len;
      ++message.msg_iov;
      --message.msg_iovlen;
    }
    if (message.msg_iovlen > 0) {
      message.msg_iov[0].iov_base = static_cast<char*>(message.msg_iov[0].iov_base) + done;
      message.msg_iov[0].iov_len -= done;
    }
  }
  return true;
}

bool HostChannel::take(Frame& frame) {
  std::string_view rest(buffer_.data() + taken_, buffer_.size() - taken_);
  std::uint32_t length = 0;
  if (!get_u32(rest, length) || rest.size() < length || length == 0) return false;
  frame.type = static_cast<HostFrame>(rest[0]);
  frame.payload.assign(rest.data() + 1, length - 1);
  taken_ += 4 + length;
  if (taken_ == buffer_.size()) {
    buffer_.clear();
    taken_ = 0;
  }
  return true;
}

HostChannel::ReadStatus HostChannel::read_available() {
  if (broken_) return ReadStatus::broken;
  if (taken_ > 0 && taken_ * 2 > buffer_.size()) {
    buffer_.erase(0, taken_);
    taken_ = 0;
  }
  // Room for what a frame in progress still needs, and at least 64 KiB.
  std::size_t want = 64 << 10;
  std::string_view rest(buffer_.data() + taken_, buffer_.size() - taken_);
  std::uint32_t length = 0;
  if (get_u32(rest, length)) {
    const auto type = rest.empty() ? std::uint8_t{1} : static_cast<std::uint8_t>(rest[0]);
    const bool known_type = type >= static_cast<std::uint8_t>(HostFrame::init) &&
                            type <= static_cast<std::uint8_t>(HostFrame::run_threw);
    if (length == 0 || length > max_frame_bytes || !known_type) {
      broken_ = true;
      return ReadStatus::broken;
    }
    if (length > rest.size()) want = std::max(want, length - rest.size());
  }
  const std::size_t old_size = buffer_.size();
  buffer_.resize(old_size + want);
  const ssize_t got = ::recv(fd_, buffer_.data() + old_size, want, MSG_DONTWAIT);
  buffer_.resize(old_size + (got > 0 ? static_cast<std::size_t>(got) : 0));
  if (got == 0) return ReadStatus::closed;
  if (got < 0 && errno != EAGAIN && errno != EINTR) return ReadStatus::closed;
  return ReadStatus::data;
}

HostChannel::ReadStatus HostChannel::read_until(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    int wait_ms = -1;
    if (deadline != std::chrono::steady_clock::time_point::max()) {
      if (now >= deadline) return ReadStatus::timed_out;
      wait_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count());
    }
    pollfd ready{fd_, POLLIN, 0};
    const int n = ::poll(&ready, 1, wait_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) continue;  // the deadline check above ends it
    return read_available();
  }
}

HostChannel::ReadStatus HostChannel::next(Frame& frame, std::chrono::steady_clock::time_point deadline) {
  while (!take(frame)) {
    const ReadStatus status = read_until(deadline);
    if (status != ReadStatus::data) return status;
  }
  return ReadStatus::data;
}

void put_u32(std::string& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

void put_i64(std::string& out, std::int64_t value) {
  const auto bits = static_cast<std::uint64_t>(value);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

bool get_u32(std::string_view& text, std::uint32_t& value) {
  if (text.size() < 4) return false;
  value = 0;
  for (int i = 0; i < 4; ++i) value |= std::uint32_t{static_cast<std::uint8_t>(text[i])} << (8 * i);
  text.remove_prefix(4);
  return true;
}

bool get_i64(std::string_view& text, std::int64_t& value) {
  if (text.size() < 8) return false;
  std::uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) bits |= std::uint64_t{static_cast<std::uint8_t>(text[i])} << (8 * i);
  value = static_cast<std::int64_t>(bits);
  text.remove_prefix(8);
  return true;
}

}  // namespace sluice
