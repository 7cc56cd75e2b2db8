// A real HTTP endpoint on a loopback port for the `http` publisher's crash test: it answers
// every `fail_every`-th request 503 (the publisher must retry) and the others 200, counting the
// `key` field of each JSON body it answered 200. HTTP/1.1 keep-alive, one thread per
// connection; it outlives the servers that are killed and restarted against it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sluice/json.hpp>

namespace rest_test {

class FlakyReceiver {
 public:
  explicit FlakyReceiver(int fail_every) : fail_every_(fail_every) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listen_fd_, 64) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
      throw std::runtime_error("the receiver cannot listen on a loopback port");
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~FlakyReceiver() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (const int fd : connections_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& thread : threads_) thread.join();
    ::close(listen_fd_);
  }
  FlakyReceiver(const FlakyReceiver&) = delete;
  FlakyReceiver& operator=(const FlakyReceiver&) = delete;

  std::uint16_t port() const { return port_; }
  // Key → how many times a body with it was answered 200.
  std::map<std::string, int> keys() const {
    std::lock_guard lock(mutex_);
    return keys_;
  }
  std::size_t refused() const {
    std::lock_guard lock(mutex_);
    return refused_;
  }

 private:
  void accept_loop() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;  // shut down
      std::lock_guard lock(mutex_);
      connections_.push_back(fd);
      threads_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    std::string buffer;
    char chunk[16384];
    for (;;) {
      std::size_t head_end;
      while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos)
        if (!read_more(fd, buffer, chunk, sizeof chunk)) return close_connection(fd);
      std::string head = buffer.substr(0, head_end);
      std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
      const auto at = head.find("\r\ncontent-length:");
      const std::size_t body_length = at == std::string::npos ? 0 : std::stoul(head.substr(at + 17));
      while (buffer.size() < head_end + 4 + body_length)
        if (!read_more(fd, buffer, chunk, sizeof chunk)) return close_connection(fd);
      const std::string body = buffer.substr(head_end + 4, body_length);
      buffer.erase(0, head_end + 4 + body_length);

      bool accept;
      {
        std::lock_guard lock(mutex_);
        accept = ++requests_ % fail_every_ != 0;
        if (accept) {
          try {
            ++keys_[sluice::json::parse(body).get("key")->as_string()];
          } catch (const std::exception&) {
            ++keys_["(not a keyed JSON object)"];
          }
        } else {
          ++refused_;
        }
      }
      const std::string answer = accept ? "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                                        : "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
      if (::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(answer.size()))
        return close_connection(fd);
    }
  }

  static bool read_more(int fd, std::string& buffer, char* chunk, std::size_t size) {
    const ssize_t n = ::recv(fd, chunk, size, 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  void close_connection(int fd) {
    std::lock_guard lock(mutex_);
    connections_.erase(std::find(connections_.begin(), connections_.end(), fd));
    ::close(fd);
  }

  const int fail_every_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::vector<int> connections_;
  std::vector<std::thread> threads_;
  std::map<std::string, int> keys_;
  std::size_t requests_ = 0, refused_ = 0;
};

}  // namespace rest_test
