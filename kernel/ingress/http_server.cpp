#include "ingress/http_server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <iostream>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <pistache/listener.h>
#include <pistache/mailbox.h>
#include <pistache/peer.h>
#include <pistache/string_logger.h>
#include <pistache/tcp.h>
#include <pistache/transport.h>

#include <sluice/json.hpp>

#include "ingress/request_framer.hpp"
#include "support/log.hpp"

namespace sluice {

using namespace Pistache;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The status line and the header lines, without the empty line that ends the head.
void append_head(std::string& out, int status, const Headers& headers) {
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason_phrase(status);
  out += "\r\n";
  for (const auto& [name, value] : headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
}

std::string_view connection_line(bool keep_alive) {
  return keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
}

std::string serialize(const HttpResponse& response, bool head, bool keep_alive) {
  // 1xx, 204 and 304 responses never carry a body (RFC 9110 §6.4.1).
  const bool bodiless = response.status < 200 || response.status == 204 || response.status == 304;
  std::string out;
  out.reserve(256 + (head || bodiless ? 0 : response.body.size()));
  append_head(out, response.status, response.headers);
  if (!bodiless) {
    // For HEAD: the length the GET response has (RFC 9110 §9.3.2), without the bytes.
    out += "Content-Length: ";
    out += std::to_string(response.body.size());
    out += "\r\n";
  }
  out += connection_line(keep_alive);
  if (!head && !bodiless) out += response.body;
  return out;
}

// One chunk of a chunked body (RFC 9112 §7.1); empty `data` would be the last chunk.
std::string chunk_of(std::string_view data) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string size;
  for (std::size_t n = data.size(); n > 0; n /= 16) size.insert(size.begin(), hex[n % 16]);
  std::string out;
  out.reserve(size.size() + data.size() + 4);
  out += size;
  out += "\r\n";
  out += data;
  out += "\r\n";
  return out;
}

constexpr std::string_view last_chunk = "0\r\n\r\n";

std::string error_body(std::string_view message, const Object& details) {
  Object body{{"error", message}};
  body.reserve(details.size() + 1);
  for (const auto& [key, value] : details) body.set(key, value);
  return json::to_string(Value(std::move(body)));
}

std::string seconds_text(std::chrono::milliseconds duration) {
  const auto ms = duration.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

constexpr std::string_view continue_response = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::size_t read_size = 16 * 1024;
// While a request is with the handler, or answers pile up unread, this much of the following
// input is buffered; then reading stops and TCP holds the client back.
constexpr std::size_t max_held_bytes = 256 * 1024;
// After the last response: how long the client may still send before the socket is closed.
constexpr std::chrono::milliseconds linger_time{2000};
// How often deadlines are checked: the precision of the header and idle timeouts.
constexpr std::chrono::milliseconds timer_tick{50};
// Descriptors kept free beside the connections (log files, plugins, the reactor's own): the
// default --max-connections is kept this far below the limit at start ...
constexpr std::size_t descriptor_reserve = 64;
// ... and a connection given a descriptor this close to the limit now (which an operator may
// have lowered since) counts as one at the maximum.
constexpr std::size_t descriptor_margin = 8;

std::int64_t now_ticks() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

std::int64_t ticks_after(std::chrono::milliseconds duration) {
  return now_ticks() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(duration).count();
}

// The soft limit of open file descriptors, first raised to the hard limit.
std::size_t raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? std::size_t{1} << 20 : static_cast<std::size_t>(limit.rlim_cur);
}

// The soft limit now: an operator (prlimit) may lower it while the server runs.
std::size_t descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return std::size_t{1} << 20;
  return static_cast<std::size_t>(limit.rlim_cur);
}

class ConnectionTransport;

}  // namespace

// What the listener, the I/O threads and every connection share. It lives as long as any
// connection does (a Responder may outlive the server).
struct ServerCore {
  ServerCore(HttpServerOptions options_in, RequestHandler handler_in, ResponseObserver observer_in)
      : options(std::move(options_in)), handler(std::move(handler_in)), observer(std::move(observer_in)) {}

  // Runs `task` on the connection's I/O thread, unless the server has stopped.
  void post(const std::shared_ptr<ServerConnection>& connection, std::function<void(ServerConnection&)> task);
  // Registers a new connection; false when it is one beyond the limit (after asking the
  // connection that has waited longest for a request to give way, if there is one). Near the
  // descriptor limit, idle ones give way until twice descriptor_margin is free again.
  bool admit(const std::shared_ptr<ServerConnection>& connection, int fd);
  void forget(const ServerConnection* connection);
  // Asks up to `count` of the connections that have waited longest for a next request to
  // close; how many it asked (0 when none waits).
  std::size_t evict_longest_idle(std::size_t count);
  // The timer thread: hands every deadline that has passed to its connection's thread.
  void run_timers();
  // Calls the handler; an exception it lets out is answered 500, if it still can be.
  void handle(HttpRequest&& request, Responder&& responder) const;
  // Hands a request to a body thread.
  void handle_elsewhere(HttpRequest&& request, Responder&& responder);
  // A body thread: handles queued requests until stop(), which drops those still queued.
  void run_bodies();

  const HttpServerOptions options;
  const RequestHandler handler;
  const ResponseObserver observer;
  std::size_t max_connections = 0;  // options.max_connections, below the descriptor limit

  std::mutex mutex;  // guards what follows; taken to post to an I/O thread from any thread
  std::atomic<bool> open{true};  // false once stop() began: nothing is posted any more
  std::unordered_map<const ServerConnection*, std::weak_ptr<ServerConnection>> connections;
  std::condition_variable timers_stop;
  // Requests with a large body, for the body threads (guarded by `mutex`).
  std::deque<std::pair<HttpRequest, Responder>> large_requests;
  std::condition_variable large_request_queued;
  // Tasks posted to an I/O thread and writes handed to Pistache, not yet done: stop() lets
  // them finish (for a bounded time) so that the last bytes sent before it — a tap's `end`
  // event, a drained request's answer — reach the client.
  std::atomic<std::size_t> output_in_flight{0};
  // Idle connections asked to close whose thread has not got to it yet: their descriptors
  // are as good as free (admit counts them so as not to evict for the same need again).
  std::atomic<std::size_t> evictions_pending{0};
  // The connections kept open at most while the descriptor limit is `ceiling_for_limit` (see
  // admit; guarded by `mutex`).
  std::size_t descriptor_ceiling = std::numeric_limits<std::size_t>::max();
  std::size_t ceiling_for_limit = 0;
};

// One client connection. Everything but the atomics and post() runs on its I/O thread (the
// Pistache transport the peer belongs to).
class ServerConnection : public std::enable_shared_from_this<ServerConnection> {
 public:
  ServerConnection(std::shared_ptr<ServerCore> core, ConnectionTransport& transport, std::shared_ptr<Tcp::Peer> peer)
      : core_(std::move(core)),
        transport_(transport),
        peer_(std::move(peer)),
        io_thread_(std::this_thread::get_id()),
        framer_({.max_head = core_->options.max_head, .max_body = core_->options.max_body}) {}

  int fd() const { return peer_->fd(); }
  const std::shared_ptr<Tcp::Peer>& peer() const { return peer_; }
  ConnectionTransport& transport() { return transport_; }
  const ResponseObserver& observer() const { return core_->observer; }

  // Starts serving; `admitted` false: answers 503 and ends.
  void start(bool admitted);
  // Reads what the socket holds (until it would block, or the input is held back).
  void read();
  void on_input(std::string_view bytes);
  void close();
  // Closes the connection if it still waits for a request and no byte of one is waiting
  // unread (a client that just connected and sent its request is not idle).
  void close_if_idle();
  void timer_expired(std::int64_t deadline);

  // Any thread: runs `task` on the connection's I/O thread (at once when the handler answers
  // from within dispatch()).
  void run(std::function<void(ServerConnection&)> task);
  // I/O thread: the answer to the request with the handler (its last bytes, for a stream).
  void answered(std::string bytes, bool keep_alive);
  // I/O thread: bytes of the response in progress (a stream's head, a chunk).
  void send_part(std::string bytes, bool stream_bytes);

  // Any thread.
  std::int64_t idle_since() const { return idle_since_.load(std::memory_order_relaxed); }
  std::int64_t deadline() const { return deadline_.load(std::memory_order_relaxed); }
  bool gone() const { return gone_.load(std::memory_order_relaxed) || !core_->open; }
  // Counts `size` more stream bytes not yet written; false when that would pass `limit`.
  bool reserve_stream_bytes(std::size_t size, std::size_t limit);

 private:
  enum class Wait { nothing, next_request, head, body, send, linger };

  void input_ended();
  // Hands the next complete request to the handler when the previous one is answered.
  void pump();
  void pump_once();
  void dispatch(FramedRequest&& framed);
  // Answers an error from this layer; the connection ends after it.
  void refuse(const RequestError& error);
  void queue_write(std::string bytes, bool stream_bytes = false);
  void written(std::size_t size, bool stream_bytes);
  void end_output();
  void arm_timer();
  void timed_out();
  bool held() const { return in_flight_ || unsent_bytes_ > max_held_bytes; }

  std::shared_ptr<ServerCore> core_;
  ConnectionTransport& transport_;
  std::shared_ptr<Tcp::Peer> peer_;
  const std::thread::id io_thread_;
  RequestFramer framer_;
  std::size_t unsent_bytes_ = 0;  // queued on the transport, not written yet
  std::size_t writes_pending_ = 0;
  bool reading_ = false;
  bool pumping_ = false;
  bool pump_again_ = false;
  bool in_flight_ = false;    // a request is with the handler (or its response streams)
  bool streaming_ = false;    // ... and its response is a stream
  bool input_ended_ = false;  // the client half-closed (sent FIN)
  bool finishing_ = false;    // the last response is queued; no request is read any more
  bool closed_ = false;
  Wait timer_wait_ = Wait::nothing;
  std::int64_t armed_deadline_ = 0;
  std::atomic<std::int64_t> deadline_{0};
  std::atomic<std::int64_t> idle_since_{0};
  std::atomic<bool> gone_{false};
  std::atomic<std::size_t> stream_buffered_{0};
};

namespace {

// The Tcp::Handler of one I/O thread: connections arrive and their bytes are fed here.
class HttpHandler final : public Tcp::Handler {
 public:
  PROTOTYPE_OF(Tcp::Handler, HttpHandler)

  // The connections live in the transport this handler belongs to (its I/O thread's).
  void onConnection(const std::shared_ptr<Tcp::Peer>& peer) override;
  void onInput(const char* buffer, size_t len, const std::shared_ptr<Tcp::Peer>& peer) override;
};

// Pistache's Transport (one per I/O thread) with the reading of peers taken over: Pistache
// closes a connection as soon as the client half-closes, and reads on while a request waits
// for its answer. Also a queue of tasks, to run code on this thread from any other.
class ConnectionTransport final : public Tcp::Transport {
 public:
  ConnectionTransport(const std::shared_ptr<HttpHandler>& handler, std::shared_ptr<ServerCore> core)
      : Tcp::Transport(handler), handler_(handler), core_(std::move(core)) {}

  ~ConnectionTransport() override {
    // The I/O thread has ended (stop()): the sockets it still held are closed here.
    for (const auto& [fd, connection] : connections_) ::close(fd);
  }

  std::shared_ptr<Aio::Handler> clone() const override {
    return std::make_shared<ConnectionTransport>(std::static_pointer_cast<HttpHandler>(handler_->clone()), core_);
  }

  void registerPoller(Polling::Epoll& poller) override {
    Tcp::Transport::registerPoller(poller);
    tasks_.bind(poller);
  }

  void onReady(const Aio::FdSet& fds) override {
    for (const auto& entry : fds) {
      const Polling::Tag tag = entry.getTag();
      if (tag == tasks_.tag()) {
        while (auto task = tasks_.popSafe()) (*task)();
        continue;
      }
      const auto fd = static_cast<Fd>(tag.value());
      const auto found = connections_.find(fd);
      if (found != connections_.end() && (entry.isReadable() || entry.isHangup())) {
        const std::shared_ptr<ServerConnection> connection = found->second;
        connection->read();
        if (!entry.isWritable() || !peers.contains(fd)) continue;
        pass_on(tag, Polling::NotifyOn::Write);
      } else {
        pass_on(tag, entry.isReadable() ? Polling::NotifyOn::Read : Polling::NotifyOn::Write);
      }
    }
  }

  void post(std::function<void()> task) { tasks_.push(std::move(task)); }

  HttpHandler& handler() { return *handler_; }

  ServerConnection* connection(Fd fd) {
    const auto found = connections_.find(fd);
    return found == connections_.end() ? nullptr : found->second.get();
  }

  void add(const std::shared_ptr<Tcp::Peer>& peer) {
    const int fd = peer->fd();
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // answers go out whole, at once
    auto connection = std::make_shared<ServerConnection>(core_, *this, peer);
    connections_.emplace(fd, connection);
    connection->start(core_->admit(connection, fd));
  }

  void remove(ServerConnection& connection) {
    // Writes still in Pistache's queue for this descriptor go out first (or are dropped with
    // it): none may reach the next connection that gets the same descriptor number.
    flush();
    const int fd = connection.fd();
    if (peers.contains(fd)) removePeer(connection.peer());
    connections_.erase(fd);
  }

 private:
  // An event this class does not handle, to Pistache's Transport; one at a time, so that an
  // error in one (it throws on a write event for a peer it already cleaned up) loses no other.
  void pass_on(Polling::Tag tag, Polling::NotifyOn what) {
    Polling::Event event(tag);
    event.flags.setFlag(what);
    std::vector<Polling::Event> events;
    events.push_back(std::move(event));
    try {
      Tcp::Transport::onReady(Aio::FdSet(std::move(events)));
    } catch (const std::exception& e) {
      log::error("HTTP I/O thread: {}", e.what());
    }
  }

  std::shared_ptr<HttpHandler> handler_;
  std::shared_ptr<ServerCore> core_;
  PollableQueue<std::function<void()>> tasks_;
  std::unordered_map<Fd, std::shared_ptr<ServerConnection>> connections_;
};

void HttpHandler::onConnection(const std::shared_ptr<Tcp::Peer>& peer) {
  static_cast<ConnectionTransport*>(transport())->add(peer);
}

void HttpHandler::onInput(const char* buffer, size_t len, const std::shared_ptr<Tcp::Peer>& peer) {
  if (ServerConnection* connection = static_cast<ConnectionTransport*>(transport())->connection(peer->fd()))
    connection->on_input(std::string_view(buffer, len));
}

// Pistache's listener reports a failed accept() here, and then retries at once, for as long
// as the listening socket is readable: at the descriptor limit that is a busy loop. This
// logger runs on the listener's thread, so it backs off there, after asking an idle
// connection to give its descriptor up.
class AcceptLogger final : public Log::StringLogger {
 public:
  explicit AcceptLogger(std::weak_ptr<ServerCore> core) : core_(std::move(core)) {}

  void log(Log::Level, const std::string& message) override {
    const bool out_of_descriptors = message.find(std::strerror(EMFILE)) != std::string::npos ||
                                    message.find(std::strerror(ENFILE)) != std::string::npos;
    if (!out_of_descriptors) {
      log::warn("HTTP listener: {}", message);
      return;
    }
    const auto core = core_.lock();
    const bool evicted = core && core->evict_longest_idle(descriptor_margin) > 0;
    std::this_thread::sleep_for(evicted ? std::chrono::milliseconds(5) : std::chrono::milliseconds(100));
  }
  bool isEnabledFor(Log::Level level) const override { return level >= Log::Level::WARN; }

 private:
  std::weak_ptr<ServerCore> core_;
};

}  // namespace

void ServerCore::post(const std::shared_ptr<ServerConnection>& connection, std::function<void(ServerConnection&)> task) {
  std::lock_guard lock(mutex);
  // After stop() began the transports may be gone.
  if (!open) return;
  ++output_in_flight;
  // `this` outlives the task: the connection it holds owns a reference to its core.
  connection->transport().post([this, connection, task = std::move(task)] {
    task(*connection);
    --output_in_flight;
  });
}

bool ServerCore::admit(const std::shared_ptr<ServerConnection>& connection, int fd) {
  const std::size_t limit = descriptor_limit();
  // Descriptors are handed out lowest first: a high one means few are left (an operator may
  // have lowered the limit since the start). Evicting one connection per connection admitted
  // there would keep the process at the limit, where the server's own files (the log's next
  // segment, a sink's file) and the sanitizers' own checks (a pipe) would find none. So the
  // margin is won back, twice over, and the number of connections open then becomes a
  // ceiling, kept as --max-connections is, while the limit stays what it is.
  const std::size_t short_by = static_cast<std::size_t>(fd) + descriptor_margin >= limit
                                   ? static_cast<std::size_t>(fd) + descriptor_margin + 1 - limit
                                   : 0;
  const std::size_t wanted = short_by + descriptor_margin;
  const std::size_t pending = evictions_pending.load();
  std::size_t excess = 0;  // connections beyond the ceiling, this one counted
  {
    std::lock_guard lock(mutex);
    if (limit != ceiling_for_limit) {
      ceiling_for_limit = limit;
      descriptor_ceiling = std::numeric_limits<std::size_t>::max();
    }
    const std::size_t open_now = connections.size() - std::min(connections.size(), pending);
    if (short_by > 0) descriptor_ceiling = open_now + 1 > wanted ? open_now + 1 - wanted : 0;
    const std::size_t ceiling = std::min(max_connections, descriptor_ceiling);
    excess = open_now + 1 > ceiling ? open_now + 1 - ceiling : 0;
    connections.emplace(connection.get(), connection);
  }
  if (short_by > 0) {
    const std::size_t asked = pending < wanted ? evict_longest_idle(wanted - pending) : 0;
    return pending + asked >= short_by;
  }
  return excess == 0 || evict_longest_idle(excess) > 0;
}

void ServerCore::forget(const ServerConnection* connection) {
  std::lock_guard lock(mutex);
  connections.erase(connection);
}

std::size_t ServerCore::evict_longest_idle(std::size_t count) {
  std::vector<std::pair<std::int64_t, std::shared_ptr<ServerConnection>>> idle;  // idle since, connection
  {
    std::lock_guard lock(mutex);
    for (const auto& [address, weak] : connections) {
      const std::int64_t since = address->idle_since();
      if (since == 0) continue;
      if (auto connection = weak.lock()) idle.emplace_back(since, std::move(connection));
    }
  }
  count = std::min(count, idle.size());
  std::partial_sort(idle.begin(), idle.begin() + static_cast<std::ptrdiff_t>(count), idle.end(),
                    [](const auto& a, const auto& b) { return a.first < b.first; });
  evictions_pending += count;
  for (std::size_t i = 0; i < count; ++i)
    post(idle[i].second, [this](ServerConnection& connection) {
      --evictions_pending;
      connection.close_if_idle();
    });
  return count;
}

void ServerCore::run_timers() {
  std::unique_lock lock(mutex);
  while (open) {
    timers_stop.wait_for(lock, timer_tick);
    const std::int64_t now = now_ticks();
    for (const auto& [address, weak] : connections) {
      const std::int64_t deadline = address->deadline();
      if (deadline == 0 || deadline > now || !open) continue;
      if (auto connection = weak.lock())
        connection->transport().post([connection, deadline] { connection->timer_expired(deadline); });
    }
  }
}

void ServerCore::handle(HttpRequest&& request, Responder&& responder) const {
  try {
    handler(std::move(request), std::move(responder));
  } catch (const std::exception& e) {
    // The handler answers its own errors; this is the last resort, if it still could.
    log::error("HTTP handler failed: {}", e.what());
    if (!responder.sent()) responder.send(HttpResponse::error(500, "internal error while handling the request"));
  }
}

void ServerCore::handle_elsewhere(HttpRequest&& request, Responder&& responder) {
  {
    std::lock_guard lock(mutex);
    // After stop() the Responder goes unanswered: its connection is being closed.
    if (!open) return;
    large_requests.emplace_back(std::move(request), std::move(responder));
  }
  large_request_queued.notify_one();
}

void ServerCore::run_bodies() {
  std::unique_lock lock(mutex);
  for (;;) {
    large_request_queued.wait(lock, [this] { return !open || !large_requests.empty(); });
    if (!open) {
      large_requests.clear();  // their connections are being closed: nobody to answer
      return;
    }
    auto [request, responder] = std::move(large_requests.front());
    large_requests.pop_front();
    lock.unlock();
    handle(std::move(request), std::move(responder));
    lock.lock();
  }
}

void ServerConnection::start(bool admitted) {
  // Not yet: Pistache registers the socket with its poller after this returns.
  core_->post(shared_from_this(), [admitted](ServerConnection& connection) {
    if (!admitted)
      connection.refuse(RequestError(503, "the server has its limit of " + std::to_string(connection.core_->max_connections) +
                                              " connections open; retry later"));
    else
      connection.pump();
    connection.read();
  });
}

void ServerConnection::run(std::function<void(ServerConnection&)> task) {
  // At once only from inside this connection's own dispatch (the handler answering right
  // away): the pump loop goes on after it, and no handler is entered from within another.
  if (std::this_thread::get_id() == io_thread_ && pumping_) {
    if (core_->open) task(*this);
    return;
  }
  core_->post(shared_from_this(), std::move(task));
}

void ServerConnection::close() {
  if (closed_) return;
  const auto self = shared_from_this();  // the transport holds the last reference
  closed_ = true;
  gone_ = true;
  idle_since_ = 0;
  deadline_ = 0;
  core_->forget(this);
  transport_.remove(*this);
}

void ServerConnection::close_if_idle() {
  int waiting = 0;
  if (closed_ || idle_since_ == 0 || ::ioctl(fd(), FIONREAD, &waiting) != 0 || waiting > 0) return;
  close();
}

void ServerConnection::read() {
  if (reading_) return;
  const auto self = shared_from_this();
  reading_ = true;
  char buffer[read_size];
  while (!closed_ && !input_ended_ && (finishing_ || !held() || framer_.buffered() < max_held_bytes)) {
    const ssize_t size = ::recv(fd(), buffer, sizeof buffer, 0);
    if (size > 0) {
      transport_.handler().onInput(buffer, static_cast<std::size_t>(size), peer_);
    } else if (size == 0) {
      input_ended();
    } else if (errno != EINTR) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) close();  // reset or worse: nobody to answer
      break;
    }
  }
  reading_ = false;
}

void ServerConnection::on_input(std::string_view bytes) {
  // After the last response the input is only drained, so that closing does not reset the
  // connection (which can destroy response bytes the client has not read yet).
  if (finishing_) return;
  framer_.feed(bytes);
  pump();
}

void ServerConnection::input_ended() {
  input_ended_ = true;  // a request before the FIN is still answered (half-close)
  if (streaming_) {
    close();  // a stream has no end of its own: the client leaving is its end
  } else if (finishing_) {
    if (writes_pending_ == 0) close();
  } else {
    pump();
  }
}

void ServerConnection::pump() {
  // Re-entered when the handler answers at once, on this thread: the loop below goes on.
  if (pumping_) {
    pump_again_ = true;
    return;
  }
  pumping_ = true;
  do {
    pump_again_ = false;
    pump_once();
  } while (pump_again_ && !closed_);
  pumping_ = false;
}

void ServerConnection::pump_once() {
  if (closed_ || finishing_) return;
  if (!held()) {
    std::optional<FramedRequest> framed;
    try {
      framed = framer_.next();
    } catch (const RequestError& e) {
      refuse(e);
      return;
    }
    if (framed) {
      dispatch(std::move(*framed));
    } else if (input_ended_) {
      if (framer_.in_request()) {
        refuse(RequestError(400, "malformed request: the client ended the connection in the middle of a request"));
        return;
      }
      finishing_ = true;
      if (writes_pending_ == 0) end_output();
      return;
    } else if (framer_.take_continue_wanted()) {
      queue_write(std::string(continue_response));
    }
  }
  arm_timer();
}

void ServerConnection::dispatch(FramedRequest&& framed) {
  in_flight_ = true;
  const bool head = framed.request.method == "HEAD";
  Responder responder(shared_from_this(), head, framed.http11, framed.keep_alive);
  if (framed.request.body.size() > core_->options.large_body)
    core_->handle_elsewhere(std::move(framed.request), std::move(responder));
  else
    core_->handle(std::move(framed.request), std::move(responder));
}

void ServerConnection::answered(std::string bytes, bool keep_alive) {
  in_flight_ = false;
  streaming_ = false;
  if (closed_) return;
  if (!bytes.empty()) queue_write(std::move(bytes));
  if (!keep_alive) {
    finishing_ = true;
    if (writes_pending_ == 0) end_output();
  }
  arm_timer();
  pump();
  read();
}

void ServerConnection::send_part(std::string bytes, bool stream_bytes) {
  streaming_ = true;
  if (closed_) return;
  queue_write(std::move(bytes), stream_bytes);
}

bool ServerConnection::reserve_stream_bytes(std::size_t size, std::size_t limit) {
  std::size_t buffered = stream_buffered_.load();
  do {
    if (buffered + size > limit) return false;
  } while (!stream_buffered_.compare_exchange_weak(buffered, buffered + size));
  return true;
}

void ServerConnection::refuse(const RequestError& error) {
  if (core_->observer) core_->observer(error.status());
  queue_write(serialize(error.response(), false, false));
  finishing_ = true;
  arm_timer();
}

void ServerConnection::queue_write(std::string bytes, bool stream_bytes) {
  const std::size_t size = bytes.size();
  unsent_bytes_ += size;
  ++writes_pending_;
  ++core_->output_in_flight;
  // Pistache writes on this thread, later, in the order of the calls; a write it cannot
  // finish because the client is gone is dropped, and this continuation with it (stop() then
  // waits for it only until its deadline).
  peer_->send(RawBuffer(std::move(bytes), size))
      .then(
          [self = shared_from_this(), size, stream_bytes](ssize_t) {
            --self->core_->output_in_flight;
            self->written(size, stream_bytes);
          },
          [self = shared_from_this()](std::exception_ptr) {
            --self->core_->output_in_flight;
            self->close();
          });
}

void ServerConnection::written(std::size_t size, bool stream_bytes) {
  unsent_bytes_ -= size;
  --writes_pending_;
  if (stream_bytes) stream_buffered_ -= size;
  if (closed_) return;
  if (finishing_) {
    if (writes_pending_ == 0) end_output();
    return;
  }
  pump();  // requests may have been held back for the unsent answers
  read();
}

void ServerConnection::end_output() {
  ::shutdown(fd(), SHUT_WR);
  if (input_ended_) {
    close();
    return;
  }
  arm_timer();
  read();
}

void ServerConnection::arm_timer() {
  if (closed_) return;
  Wait wait = Wait::nothing;
  if (finishing_)
    wait = writes_pending_ == 0 ? Wait::linger : Wait::send;
  else if (!in_flight_)
    wait = !framer_.in_request() ? Wait::next_request : framer_.in_head() ? Wait::head : Wait::body;
  if (wait != Wait::next_request)
    idle_since_ = 0;
  else if (idle_since_ == 0)
    idle_since_ = now_ticks();
  // The head deadline runs from the head's first byte; the body one from the latest byte.
  if (wait == timer_wait_ && wait != Wait::body) return;
  timer_wait_ = wait;
  const auto& options = core_->options;
  armed_deadline_ = wait == Wait::nothing ? 0
                    : ticks_after(wait == Wait::head     ? options.header_timeout
                                  : wait == Wait::linger ? std::min(linger_time, options.idle_timeout)
                                                         : options.idle_timeout);
  deadline_ = armed_deadline_;
}

void ServerConnection::timer_expired(std::int64_t deadline) {
  if (!closed_ && deadline == armed_deadline_) timed_out();
}

void ServerConnection::timed_out() {
  const Wait wait = timer_wait_;
  timer_wait_ = Wait::nothing;
  armed_deadline_ = 0;
  deadline_ = 0;
  const auto& options = core_->options;
  switch (wait) {
    case Wait::head:
      refuse(RequestError(408, "the request head did not arrive within " + seconds_text(options.header_timeout)));
      break;
    case Wait::body:
      refuse(RequestError(408, "no byte of the request body arrived for " + seconds_text(options.idle_timeout)));
      break;
    default:
      close();  // idle between requests, or a client that neither reads nor closes
      break;
  }
}

std::optional<std::string_view> HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return std::string_view(value);
  return std::nullopt;
}

std::optional<std::string_view> HttpRequest::query_value(std::string_view name) const {
  for (const auto& [key, value] : query)
    if (key == name) return std::string_view(value);
  return std::nullopt;
}

HttpResponse HttpResponse::json(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "application/json");
  response.body = std::move(body);
  return response;
}

HttpResponse HttpResponse::error(int status, std::string_view message, const Object& details) {
  return json(status, error_body(message, details));
}

HttpResponse& HttpResponse::with_header(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

Responder::Responder(std::shared_ptr<ServerConnection> connection, bool head, bool http11, bool keep_alive)
    : connection_(std::move(connection)), head_(head), http11_(http11), keep_alive_(keep_alive) {}

Responder::Responder(Responder&& other) noexcept
    : connection_(std::move(other.connection_)),
      head_(other.head_),
      http11_(other.http11_),
      keep_alive_(other.keep_alive_),
      sent_(std::exchange(other.sent_, true)),
      extra_headers_(std::move(other.extra_headers_)) {}

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this == &other) return *this;
  if (!sent_) send(HttpResponse::error(500, "internal error: the request was dropped without an answer"));
  connection_ = std::move(other.connection_);
  head_ = other.head_;
  http11_ = other.http11_;
  keep_alive_ = other.keep_alive_;
  sent_ = std::exchange(other.sent_, true);
  extra_headers_ = std::move(other.extra_headers_);
  return *this;
}

Responder::~Responder() {
  if (!sent_) send(HttpResponse::error(500, "internal error: the request was dropped without an answer"));
}

void Responder::mark_sent() {
  if (sent_) throw std::logic_error("Responder: this request was already answered");
  sent_ = true;
}

void Responder::send(HttpResponse response) {
  mark_sent();
  for (auto& header : extra_headers_) response.headers.push_back(std::move(header));
  if (!connection_) return;
  const auto connection = std::move(connection_);
  if (connection->gone()) return;
  if (const auto& observer = connection->observer()) observer(response.status);
  connection->run([bytes = serialize(response, head_, keep_alive_), keep_alive = keep_alive_](ServerConnection& c) mutable {
    c.answered(std::move(bytes), keep_alive);
  });
}

ResponseStream Responder::stream(int status, Headers headers, std::size_t max_buffered) {
  mark_sent();
  for (auto& header : extra_headers_) headers.push_back(std::move(header));
  // HTTP/1.0 has no chunks: the end of the body is the end of the connection.
  const bool keep_alive = keep_alive_ && http11_;
  if (connection_ && !connection_->gone()) {
    if (const auto& observer = connection_->observer()) observer(status);
    std::string bytes;
    append_head(bytes, status, headers);
    if (http11_) bytes += "Transfer-Encoding: chunked\r\n";
    bytes += connection_line(keep_alive);
    connection_->run([bytes = std::move(bytes)](ServerConnection& c) mutable { c.send_part(std::move(bytes), false); });
  }
  return ResponseStream(std::move(connection_), head_, http11_, keep_alive, max_buffered);
}

ResponseStream::ResponseStream(std::shared_ptr<ServerConnection> connection, bool head, bool chunked, bool keep_alive,
                               std::size_t max_buffered)
    : connection_(std::move(connection)), head_(head), chunked_(chunked), keep_alive_(keep_alive), max_buffered_(max_buffered) {}

ResponseStream& ResponseStream::operator=(ResponseStream&& other) noexcept {
  if (this == &other) return *this;
  close();
  connection_ = std::move(other.connection_);
  head_ = other.head_;
  chunked_ = other.chunked_;
  keep_alive_ = other.keep_alive_;
  max_buffered_ = other.max_buffered_;
  return *this;
}

bool ResponseStream::open() const { return connection_ && !connection_->gone(); }

bool ResponseStream::write(std::string_view bytes) {
  if (!open()) return false;
  // HEAD: the client asked for the head only; an empty chunk would end the body.
  if (head_ || bytes.empty()) return true;
  std::string chunk = chunked_ ? chunk_of(bytes) : std::string(bytes);
  if (!connection_->reserve_stream_bytes(chunk.size(), max_buffered_)) return false;
  connection_->run([chunk = std::move(chunk)](ServerConnection& c) mutable { c.send_part(std::move(chunk), true); });
  return true;
}

void ResponseStream::close() {
  if (!connection_) return;
  const auto connection = std::move(connection_);
  connection->run([last = head_ || !chunked_ ? std::string() : std::string(last_chunk), keep_alive = keep_alive_](
                      ServerConnection& c) mutable { c.answered(std::move(last), keep_alive); });
}

HttpServer::HttpServer(HttpServerOptions options, RequestHandler handler, ResponseObserver observer)
    : core_(std::make_shared<ServerCore>(std::move(options), std::move(handler), std::move(observer))) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  if (running_) return;
  const HttpServerOptions& options = core_->options;
  const std::size_t descriptors = raise_descriptor_limit();
  core_->max_connections =
      std::min(options.max_connections, descriptors > 2 * descriptor_reserve ? descriptors - descriptor_reserve : descriptor_reserve);
  const std::string where = options.host + ":" + std::to_string(options.port);
  try {
    auto listener = std::make_unique<Tcp::Listener>(Address(options.host, Port(options.port)));
    listener->init(std::max<std::size_t>(options.threads, 1), Flags<Tcp::Options>(Tcp::Options::ReuseAddr) | Tcp::Options::CloseOnExec,
                   "sluice-http", Const::MaxBacklog, std::make_shared<AcceptLogger>(core_));
    const auto handler = std::make_shared<HttpHandler>();
    listener->setHandler(handler);
    listener->setTransportFactory([handler, core = core_] { return std::make_shared<ConnectionTransport>(handler, core); });
    listener->bind();
    port_ = static_cast<std::uint16_t>(listener->getPort());
    listener->runThreaded();
    listener_ = std::move(listener);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot listen on " + where + ": " + e.what());
  }
  timers_ = std::thread([core = core_] { core->run_timers(); });
  for (std::size_t i = 0; i < std::max<std::size_t>(options.body_threads, 1); ++i)
    body_threads_.emplace_back([core = core_] { core->run_bodies(); });
  running_ = true;
}

std::uint16_t HttpServer::port() const {
  if (!running_) throw std::logic_error("HttpServer::port: the server is not started");
  return port_;
}

void HttpServer::stop() {
  if (!running_) return;
  running_ = false;
  // What was sent before stop() goes out first, unless a client does not read it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (core_->output_in_flight > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  {
    std::lock_guard lock(core_->mutex);
    core_->open = false;
  }
  core_->timers_stop.notify_all();
  core_->large_request_queued.notify_all();
  timers_.join();
  for (auto& thread : body_threads_) thread.join();
  body_threads_.clear();
  // Joins the listener's and the I/O threads; the transports close the sockets they hold.
  listener_->shutdown();
  listener_.reset();
  std::lock_guard lock(core_->mutex);
  core_->connections.clear();
}

}  // namespace sluice
