// A tiny HTTP/1.1 server on a loopback ephemeral port for the tests of components that speak
// HTTP (the http publisher, http_poll): it records every request and answers with scripted
// statuses (200 once the script runs out); a status of 0 means "never answer" (to test
// timeouts). A 200 carries the resource given to serve() — with its ETag, and as a 304 to a
// request whose If-None-Match names that ETag — or "{}" when there is none. Given a TLS
// context it speaks HTTPS (and counts the handshakes that failed). Given a port, it listens on
// that one: a server "coming back" after the test destroyed the previous one.
#pragma once

#include <fcntl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

class HttpTestServer {
 public:
  struct Request {
    std::string method, target, body, content_type, authorization, if_none_match;
  };

  explicit HttpTestServer(std::deque<unsigned> statuses = {}, boost::asio::ssl::context* tls = nullptr,
                          std::uint16_t port = 0)
      : statuses_(std::move(statuses)),
        tls_(tls),
        acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), port}) {
    // Not inherited by a process the test starts (a `sluice serve`): that one would keep the
    // port listening after this server is gone.
    ::fcntl(acceptor_.native_handle(), F_SETFD, FD_CLOEXEC);
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;
  ~HttpTestServer() {
    ioc_.stop();
    thread_.join();
    held_.clear();  // sessions die before the io_context they were made on
  }

  std::string url(const std::string& path = "/ingest", const std::string& host = "127.0.0.1") const {
    return (tls_ ? "https://" : "http://") + host + ":" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void serve(std::string body, std::string content_type, std::string etag = "") {
    std::lock_guard lock(mutex_);
    resource_ = {std::move(body), std::move(content_type), std::move(etag)};
  }
  std::vector<Request> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int connections() {
    std::lock_guard lock(mutex_);
    return connections_;
  }
  int failed_handshakes() {
    std::lock_guard lock(mutex_);
    return failed_handshakes_;
  }

 private:
  using tcp = boost::asio::ip::tcp;
  template <typename Stream>
  struct Session : std::enable_shared_from_this<Session<Stream>> {
    HttpTestServer& server;
    Stream stream;
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> request;
    boost::beast::http::response<boost::beast::http::string_body> response;
    template <typename... Args>
    Session(HttpTestServer& s, Args&&... args) : server(s), stream(std::forward<Args>(args)...) {}
    using std::enable_shared_from_this<Session<Stream>>::shared_from_this;

    void handshake() {
      stream.async_handshake(boost::asio::ssl::stream_base::server,
                             [self = shared_from_this()](boost::beast::error_code ec) {
                               if (!ec) return self->read();
                               std::lock_guard lock(self->server.mutex_);
                               ++self->server.failed_handshakes_;
                             });
    }

    void read() {
      request = {};
      boost::beast::http::async_read(
          stream, buffer, request,
          [self = shared_from_this()](boost::beast::error_code ec, std::size_t) {
            if (!ec) self->answer();
          });
    }
    void answer() {
      unsigned status = 200;
      Resource resource;
      {
        std::lock_guard lock(server.mutex_);
        server.requests_.push_back({std::string(request.method_string()), std::string(request.target()),
                                    request.body(), std::string(request[boost::beast::http::field::content_type]),
                                    std::string(request[boost::beast::http::field::authorization]),
                                    std::string(request[boost::beast::http::field::if_none_match])});
        if (!server.statuses_.empty()) {
          status = server.statuses_.front();
          server.statuses_.pop_front();
        }
        resource = server.resource_;
      }
      if (status == 200 && !resource.etag.empty() && request[boost::beast::http::field::if_none_match] == resource.etag)
        status = 304;
      if (status == 0) {  // hold the connection open (the session alive), answer nothing
        std::lock_guard lock(server.mutex_);
        server.held_.push_back(shared_from_this());
        return;
      }
      response = {static_cast<boost::beast::http::status>(status), 11};
      if (!resource.etag.empty()) response.set(boost::beast::http::field::etag, resource.etag);
      if (status == 200 && !resource.content_type.empty()) {
        response.set(boost::beast::http::field::content_type, resource.content_type);
        response.body() = resource.body;
      } else if (status != 304) {
        response.body() = "{}";
      }
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      boost::beast::http::async_write(
          stream, response, [self = shared_from_this()](boost::beast::error_code ec, std::size_t) {
            if (!ec) self->read();
          });
    }
  };

  void accept() {
    acceptor_.async_accept([this](boost::beast::error_code ec, tcp::socket socket) {
      if (ec) return;
      {
        std::lock_guard lock(mutex_);
        ++connections_;
      }
      ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
      if (tls_)
        std::make_shared<Session<boost::beast::ssl_stream<boost::beast::tcp_stream>>>(*this, std::move(socket), *tls_)
            ->handshake();
      else
        std::make_shared<Session<boost::beast::tcp_stream>>(*this, std::move(socket))->read();
      accept();
    });
  }

  struct Resource {
    std::string body, content_type, etag;
  };
  std::mutex mutex_;
  Resource resource_;
  std::deque<unsigned> statuses_;
  std::vector<Request> requests_;
  std::vector<std::shared_ptr<void>> held_;
  int connections_ = 0;
  int failed_handshakes_ = 0;
  boost::asio::ssl::context* tls_;
  boost::asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};
