// A tiny HTTP/1.1 server on a loopback ephemeral port for the http publisher's tests: it
// records every request and answers with scripted statuses (200 once the script runs out);
// a status of 0 means "never answer" (to test timeouts). Given a TLS context it speaks HTTPS
// (and counts the handshakes that failed).
#pragma once

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
    std::string method, target, body, content_type, authorization;
  };

  explicit HttpTestServer(std::deque<unsigned> statuses = {}, boost::asio::ssl::context* tls = nullptr)
      : statuses_(std::move(statuses)),
        tls_(tls),
        acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
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
      {
        std::lock_guard lock(server.mutex_);
        server.requests_.push_back({std::string(request.method_string()), std::string(request.target()),
                                    request.body(), std::string(request[boost::beast::http::field::content_type]),
                                    std::string(request[boost::beast::http::field::authorization])});
        if (!server.statuses_.empty()) {
          status = server.statuses_.front();
          server.statuses_.pop_front();
        }
      }
      if (status == 0) {  // hold the connection open (the session alive), answer nothing
        std::lock_guard lock(server.mutex_);
        server.held_.push_back(shared_from_this());
        return;
      }
      response = {static_cast<boost::beast::http::status>(status), 11};
      response.body() = "{}";
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
      if (tls_)
        std::make_shared<Session<boost::beast::ssl_stream<boost::beast::tcp_stream>>>(*this, std::move(socket), *tls_)
            ->handshake();
      else
        std::make_shared<Session<boost::beast::tcp_stream>>(*this, std::move(socket))->read();
      accept();
    });
  }

  std::mutex mutex_;
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
