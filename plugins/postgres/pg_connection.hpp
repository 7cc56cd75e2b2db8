// What postgres_sink and postgres_query share: the connection params, one libpq connection
// that names its server in every message, statements classified by what to do about their
// failure, and the backoff between attempts to reach a server that is gone.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sluice/component.hpp>

namespace sluice::postgres {

// host, port, dbname, user, password (secret), conninfo (secret), tls: a descriptor's params.
std::vector<ParamSpec> connection_params();

// A statement's outcome. `unavailable` is worth retrying as it is (the connection broke, the
// server is starting or stopping, a deadlock was broken); `rejected` is about the statement or
// its data and fails again the same way.
struct Result {
  enum class Kind { ok, rejected, unavailable };
  Kind kind = Kind::ok;
  std::string message;  // PostgreSQL's (or libpq's) message when not ok
  std::unique_ptr<PGresult, void (*)(PGresult*)> rows{nullptr, PQclear};
};

class Connection {
 public:
  // Checks the params (a `conninfo` libpq cannot parse is std::invalid_argument); connects
  // only when asked to.
  explicit Connection(const Params& params);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects unless connected: true when the connection is up; else `error` says why.
  bool connect(std::string& error);
  void close();
  // A statement with text parameters ($1, $2, … each a text value or SQL NULL).
  Result execute(const std::string& sql, const std::vector<std::optional<std::string>>& values = {});
  // "postgres HOST:PORT/DBNAME", for messages (never the password).
  const std::string& address() const { return address_; }

 private:
  void add_tls(const Value& tls, const std::string& host);

  std::vector<std::string> keywords_, values_;
  PGconn* connection_ = nullptr;
  std::string address_;
};

// Waits between attempts to reach the server: 100 ms, doubling up to 5 s; reset() once it answers.
class Backoff {
 public:
  std::chrono::milliseconds next();
  void reset() { delay_ = std::chrono::milliseconds(0); }

 private:
  std::chrono::milliseconds delay_{0};
};

// Names: `name` or `schema.name`, letters, digits and `_`; quoted for SQL ("schema"."name").
bool is_identifier(const std::string& name);
std::string quoted(const std::string& name);  // a qualified name quoted part by part

}  // namespace sluice::postgres
