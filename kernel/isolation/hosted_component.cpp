#include "isolation/hosted_component.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/fiber/operations.hpp>
#include <limits>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <vector>

#include <sluice/io.hpp>
#include <sluice/json.hpp>

#include "support/log.hpp"

namespace sluice {

namespace {

constexpr std::chrono::milliseconds first_backoff{100}, longest_backoff{10000};
constexpr std::chrono::microseconds answer_spin{200};

std::string milliseconds_text(std::chrono::milliseconds duration) {
  return std::to_string(duration.count()) + " ms";
}

}  // namespace

HostedComponent::HostedComponent(HostedNode node, std::shared_ptr<HostState> state)
    : node_(std::move(node)), state_(std::move(state)) {}

HostedComponent::~HostedComponent() {
  channel_.reset();  // the host reads the end of the conversation and exits
  // One that does not (it is stuck in the component) is killed by child_'s destructor.
  if (child_) child_->wait_for(std::min(node_.timeout, std::chrono::milliseconds(2000)));
}

std::unique_ptr<HostedComponent> HostedComponent::start(HostedNode node, std::shared_ptr<HostState> state,
                                                        std::string& error) {
  std::unique_ptr<HostedComponent> hosted(new HostedComponent(std::move(node), std::move(state)));
  if (!hosted->launch(error)) return nullptr;
  return hosted;
}

bool HostedComponent::launch(std::string& error) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    error = std::system_category().message(errno);
    return false;
  }
  try {
    child_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{node_.program.string(), "host", "--image", node_.origin.image.string(),
                                 "--component", node_.origin.component, "--node", node_.node_path,
                                 node_.origin.file.string()},
        std::vector<std::pair<int, int>>{{pair[1], 3}});
  } catch (const std::system_error& e) {
    ::close(pair[0]);
    ::close(pair[1]);
    error = std::string("its host process could not be started: ") + e.what();
    return false;
  }
  ::close(pair[1]);
  channel_ = std::make_unique<HostChannel>(pair[0]);
  Frame frame;
  auto status = HostChannel::ReadStatus::closed;
  if (channel_->send(HostFrame::init, json::to_string(Value(Object{{"params", node_.params}}))))
    status = channel_->next(frame, Clock::now() + node_.timeout);
  if (status == HostChannel::ReadStatus::data && frame.type == HostFrame::ready) {
    state_->started(child_->pid());
    return true;
  }
  if (status == HostChannel::ReadStatus::data && frame.type == HostFrame::failed_to_start) {
    error = frame.payload;
    end_host(false);
  } else if (status == HostChannel::ReadStatus::timed_out) {
    error = "its host process did not start the component within " + milliseconds_text(node_.timeout) +
            " and was killed";
    end_host(true);
  } else {
    error = "its host process " + end_host(true) + " while starting the component";
  }
  return false;
}

std::string HostedComponent::end_host(bool kill) {
  channel_.reset();
  if (!child_) return "was gone";
  if (kill) child_->kill();
  const std::string how = describe_exit(child_->wait());
  child_.reset();
  return how;
}

HostChannel::ReadStatus HostedComponent::next_frame(Frame& frame, Clock::time_point deadline) {
  // A host usually answers within microseconds: look again for a short while, yielding to
  // the worker's other fibers, before the wait goes to the I/O pool (a round trip of threads
  // that would cost more than the answer).
  const auto stop_looking = std::min(deadline, Clock::now() + answer_spin);
  for (;;) {
    if (channel_->take(frame)) return HostChannel::ReadStatus::data;
    if (const auto status = channel_->read_available(); status != HostChannel::ReadStatus::data) return status;
    if (channel_->take(frame)) return HostChannel::ReadStatus::data;
    if (Clock::now() >= stop_looking) break;
    boost::this_fiber::yield();
  }
  auto status = HostChannel::ReadStatus::closed;
  io::run_blocking([&] { status = channel_->next(frame, deadline); });
  return status;
}

void HostedComponent::restart() {
  for (;;) {
    backoff_ = backoff_.count() == 0 ? first_backoff : std::min(backoff_ * 2, longest_backoff);
    boost::this_fiber::sleep_for(backoff_);
    std::string error;
    bool started = false;
    io::run_blocking([&] { started = launch(error); });
    if (started) return;
    log::error("{}: {} ({}) could not be started again: {}", node_.node_path, node_.origin.component,
               node_.origin.file.string(), error);
    state_->failed(error);
  }
}

// What run() knows of the host's work.
struct HostedComponent::HostWork {
  std::optional<Packet> in_hand;  // what the host is working on: lost with it if it fails
  bool passed_on = false;         // in_hand was emitted or failed by the component already
  std::vector<Packet> held;       // what the component holds (hold()) and has not released
  bool closed = false;            // the inputs are closed: the host flushes and ends

  // Does on `ctx` what the component did on its RunContext in the host (emit, deliver, fail, hold,
  // release_held); false when `frame` is none of those, or malformed.
  bool relay(const Frame& frame, RunContext& ctx) {
    std::string_view payload = frame.payload;
    switch (frame.type) {
      case HostFrame::emit: {
        std::uint32_t port = 0;
        if (!get_u32(payload, port)) return false;
        ctx.emit(port, json::parse_envelope(payload));
        passed_on = true;
        return true;
      }
      case HostFrame::deliver:
        ctx.deliver(json::parse_envelope(payload));
        return true;
      case HostFrame::fail: {
        std::uint32_t length = 0;
        if (!get_u32(payload, length) || payload.size() < length) return false;
        const std::string message(payload.substr(0, length));
        ctx.fail(json::parse_envelope(payload.substr(length)), message);
        passed_on = true;
        return true;
      }
      case HostFrame::hold:
        ctx.hold();
        if (in_hand) held.push_back(std::move(*in_hand));
        in_hand.reset();
        return true;
      case HostFrame::release_held:
        ctx.release_held();
        held.clear();
        return true;
      default:
        return false;
    }
  }
};

void HostedComponent::run(RunContext& ctx) {
  if (!channel_) restart();  // run() threw in the host, and the node runs us again
  HostWork work;
  // The host has control (it works on a packet, starts, or flushes) until it asks for input;
  // silence longer than the node's timeout means it hangs.
  auto deadline = Clock::now() + node_.timeout;
  for (;;) {
    Frame frame;
    const auto status = next_frame(frame, deadline);
    if (status == HostChannel::ReadStatus::data) {
      deadline = Clock::now() + node_.timeout;
      switch (frame.type) {
        case HostFrame::want:
          answer_want(frame.payload, ctx, work);
          deadline = Clock::now() + node_.timeout;
          continue;
        case HostFrame::end:
          end_host(false);
          return;
        case HostFrame::run_threw:
          end_host(true);
          throw std::runtime_error(frame.payload);
        default:
          if (work.relay(frame, ctx)) continue;
          break;  // not a frame the host may send
      }
    }
    fail_host(status, ctx, work);
    if (work.closed) return;  // nothing left to give it; what it held back for its flush is lost
    restart();
    deadline = Clock::now() + node_.timeout;
  }
}

void HostedComponent::answer_want(std::string_view payload, RunContext& ctx, HostWork& work) {
  if (work.in_hand) {
    state_->packet_done();
    backoff_ = std::chrono::milliseconds(0);
  }
  work.in_hand.reset();
  work.passed_on = false;
  std::int64_t until = 0;
  get_i64(payload, until);
  const auto wait_until = until == std::numeric_limits<std::int64_t>::max()
                              ? Clock::time_point::max()
                              : Clock::time_point(std::chrono::nanoseconds(until));
  Received received;
  const ReceiveStatus got = ctx.receive(received, wait_until);
  // A send to a host that is gone fails; the next read shows it as gone, and says how.
  if (got == ReceiveStatus::packet) {
    std::string message;
    put_u32(message, static_cast<std::uint32_t>(received.in_port));
    json::write_envelope(received.packet, message);
    work.in_hand = std::move(received.packet);
    channel_->send(HostFrame::packet, message);
  } else if (got == ReceiveStatus::timeout) {
    channel_->send(HostFrame::timeout);
  } else {
    work.closed = true;
    channel_->send(HostFrame::closed);
  }
}

void HostedComponent::fail_host(HostChannel::ReadStatus status, RunContext& ctx, HostWork& work) {
  // The host crashed, hung, or broke the protocol. A host that closed its end is dead or
  // dying: killing it changes nothing of the status it ends with.
  std::string cause;
  if (status == HostChannel::ReadStatus::timed_out) {
    end_host(true);
    cause = "went silent for " + milliseconds_text(node_.timeout) + " (the node's timeout) and was killed";
  } else if (status == HostChannel::ReadStatus::closed) {
    cause = end_host(true);
  } else {
    end_host(true);
    cause = "broke the host protocol and was killed";
  }
  const std::string reason =
      "the host process of " + node_.origin.component + " (" + node_.origin.file.string() + ") " + cause;
  log::error("{}: {}{}", node_.node_path, reason, work.closed ? "" : "; it is started again");
  state_->failed(reason);
  if (work.in_hand && !work.passed_on)
    ctx.fail(std::move(*work.in_hand), reason + " while it had this packet");
  work.in_hand.reset();
  for (Packet& packet : work.held) ctx.fail(std::move(packet), reason + " while it held this packet");
  if (!work.held.empty()) ctx.release_held();
  work.held.clear();
}

}  // namespace sluice
