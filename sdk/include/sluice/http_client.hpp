// sluice/http_client.hpp — HTTP/1.1 requests over plain TCP or TLS, with a deadline on every
// step, for components that call web services (the `http` publisher) and for the CLI.
//
//   sluice::http::Client client(sluice::http::Url::parse("https://search.example/ingest"),
//                               {.ca_file = "/etc/ssl/private-ca.pem"}, std::chrono::seconds(10));
//   auto answer = client.send("POST", client.url().target, {{"Content-Type", "application/json"}}, body);
//   if (answer.status / 100 != 2) ...
//
// One connection, kept alive between requests and reopened when the server has closed it. A
// Client is not thread-safe; it blocks its caller (from a component, call it inside
// sluice::io::run_blocking so that only the calling fiber waits).
//
// TLS verifies the server's certificate against the system's CA store (or `ca_file`) and its
// name against the URL's host (or `server_name`), sends SNI, and presents a client
// certificate when one is given. What goes wrong is named in the exception's message with the
// peer and OpenSSL's reason: "TLS handshake with 127.0.0.1:8443 failed: certificate has
// expired".
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::http {

struct Url {
  bool tls = false;     // https
  std::string host;     // without brackets: ::1
  std::string port;     // "80" / "443" when the URL gives none
  std::string target;   // path and query, "/" when the URL has none

  // "http://host[:port][/path]" or "https://…". Throws std::invalid_argument naming the URL
  // and what is wrong with it.
  static Url parse(std::string_view text);
  // host[:port] as a Host header says it: the port only when it is not the scheme's default.
  std::string authority() const;
  // scheme://authority, for messages.
  std::string origin() const;
};

struct TlsOptions {
  bool verify = true;        // false: any certificate and name (for tests and trusted networks)
  std::string ca_file;       // PEM bundle to trust instead of the system store
  std::string client_cert;   // PEM chain presented to the server; needs client_key
  std::string client_key;    // PEM private key of client_cert
  std::string server_name;   // the name to verify and send as SNI, when not the URL's host

  // Whether any option differs from the defaults: they mean something for https:// only.
  bool given() const {
    return !verify || !ca_file.empty() || !client_cert.empty() || !client_key.empty() || !server_name.empty();
  }
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Response {
  unsigned status = 0;
  std::string reason;
  Headers headers;  // names as sent
  std::string body;
};

// The request did not get an answer: no connection, TLS refused, timed out, the connection
// broke. `retryable()` is false when trying again cannot help (a certificate the client
// refuses, a client certificate the server refuses).
class TransportError : public std::runtime_error {
 public:
  TransportError(const std::string& message, bool retryable, bool timed_out = false)
      : std::runtime_error(message), retryable_(retryable), timed_out_(timed_out) {}
  bool retryable() const { return retryable_; }
  bool timed_out() const { return timed_out_; }

 private:
  bool retryable_;
  bool timed_out_;
};

class Client {
 public:
  // Throws std::invalid_argument when a TLS file cannot be used (naming the option and file),
  // or when TLS options are given for an http:// URL.
  Client(Url url, TlsOptions tls = {}, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const Url& url() const { return url_; }

  // One request; `timeout` bounds connecting (with the TLS handshake), and then sending and
  // reading the answer. Host, User-Agent and Content-Length are set unless `headers` has them.
  // Throws TransportError.
  Response send(std::string_view method, const std::string& target, const Headers& headers, std::string body);

 private:
  struct Connection;
  Url url_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace sluice::http
