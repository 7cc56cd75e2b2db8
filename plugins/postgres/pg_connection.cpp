#include "pg_connection.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "tls_param.hpp"

namespace sluice::postgres {

std::vector<ParamSpec> connection_params() {
  return {{.name = "host",
           .type = ParamType::string,
           .description = "server host name or address (absent: libpq's default, PGHOST or the local socket)"},
          {.name = "port", .type = ParamType::integer, .description = "server port (absent: 5432)", .minimum = 1, .maximum = 65535},
          {.name = "dbname", .type = ParamType::string, .description = "database (absent: the user name)"},
          {.name = "user", .type = ParamType::string, .description = "role to connect as"},
          {.name = "password",
           .type = ParamType::string,
           .description = "the role's password; write a ${env:NAME} or ${file:PATH} reference, not the password",
           .secret = true},
          {.name = "conninfo",
           .type = ParamType::string,
           .description = "a libpq connection string (`host=… port=…` or `postgresql://…`); the params above, when "
                          "given, override its parts",
           .secret = true},
          tls_param_spec("the server (verify: libpq's sslmode verify-full; absent: libpq's default, TLS when the "
                         "server offers it, unverified; server_name needs `host` to be an address)")};
}

namespace {

// libpq's messages span lines ("…failed: Connection refused\n\tIs the server running…"): one line.
std::string one_line(std::string_view text) {
  std::string line;
  for (char c : text) {
    const bool space = std::isspace(static_cast<unsigned char>(c));
    if (!space) line += c;
    else if (!line.empty() && line.back() != ' ') line += ' ';
  }
  if (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

// The server's own words: the primary message and its detail, without the statement (a
// multi-row INSERT is long) that the full error text quotes.
std::string server_message(const PGresult* result, PGconn* connection) {
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  if (!primary) return one_line(result && *PQresultErrorMessage(result) ? PQresultErrorMessage(result) : PQerrorMessage(connection));
  std::string message = primary;
  if (const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL)) message += std::string(" (") + detail + ")";
  return one_line(message);
}

// Worth retrying unchanged: connection exceptions (08), the server shutting down or starting
// (57P), too many connections or no disk (53), a serialization failure or deadlock (40001, 40P01).
bool is_transient(const char* sqlstate) {
  const std::string state = sqlstate ? sqlstate : "";
  return state.empty() || state.starts_with("08") || state.starts_with("57P") || state.starts_with("53") ||
         state == "40001" || state == "40P01";
}

}  // namespace

Connection::Connection(const Params& params) {
  // Defaults first: the conninfo and the params below override them.
  keywords_ = {"connect_timeout", "application_name", "keepalives_idle", "keepalives_interval", "keepalives_count"};
  values_ = {"10", "sluice", "30", "10", "3"};
  std::string host, port, dbname;
  if (params.has("conninfo")) {
    const std::string conninfo = params.get_string("conninfo");
    char* error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &error);
    if (!parsed) {
      const std::string reason = error ? one_line(error) : "out of memory";
      PQfreemem(error);
      throw std::invalid_argument("param 'conninfo': " + reason);
    }
    for (const PQconninfoOption* option = parsed; option->keyword; ++option) {
      if (!option->val) continue;
      const std::string keyword = option->keyword;
      if (keyword == "host" || keyword == "hostaddr") host = option->val;
      if (keyword == "port") port = option->val;
      if (keyword == "dbname") dbname = option->val;
    }
    PQconninfoFree(parsed);
    // The first `dbname` is expanded as a whole connection string (expand_dbname).
    keywords_.insert(keywords_.begin(), "dbname");
    values_.insert(values_.begin(), conninfo);
  }
  for (const char* name : {"host", "port", "dbname", "user", "password"}) {
    if (!params.has(name)) continue;
    const Value& value = params.get(name);
    keywords_.push_back(name);
    values_.push_back(value.is_int() ? std::to_string(value.as_int()) : value.as_string());
    if (keywords_.back() == "host") host = values_.back();
    if (keywords_.back() == "port") port = values_.back();
    if (keywords_.back() == "dbname") dbname = values_.back();
  }
  if (params.has("tls")) add_tls(params.get("tls"), host);
  address_ = "postgres " + (host.empty() ? std::string("(default host)") : host) + ":" +
             (port.empty() ? std::string("5432") : port) + "/" + dbname;
}

void Connection::add_tls(const Value& param, const std::string& host) {
  const http::TlsOptions tls = parse_tls_param(param);  // keys, types and readable files
  auto add = [&](const char* keyword, std::string value) {
    keywords_.emplace_back(keyword);
    values_.push_back(std::move(value));
  };
  // libpq opens the files at each connection, relative to the working directory then.
  auto add_file = [&](const char* keyword, const std::string& path) {
    if (!path.empty()) add(keyword, std::filesystem::absolute(path).string());
  };
  add("sslmode", tls.verify ? "verify-full" : "require");
  add_file("sslrootcert", tls.ca_file);
  // libpq 15 knows no "system" root: Debian's bundle of the system's CAs (ca-certificates).
  if (tls.verify && tls.ca_file.empty()) add("sslrootcert", "/etc/ssl/certs/ca-certificates.crt");
  add_file("sslcert", tls.client_cert);
  add_file("sslkey", tls.client_key);
  if (const std::string& name = tls.server_name; !name.empty()) {
    // libpq verifies (and sends as SNI) `host`; the address to reach then goes in `hostaddr`.
    in6_addr address;
    if (inet_pton(AF_INET, host.c_str(), &address) != 1 && inet_pton(AF_INET6, host.c_str(), &address) != 1)
      throw std::invalid_argument("param 'tls': server_name needs `host` to be an IP address, not '" + host + "'");
    add("host", name);
    add("hostaddr", host);
  }
}

Connection::~Connection() { close(); }

void Connection::close() {
  if (connection_) PQfinish(connection_);
  connection_ = nullptr;
}

bool Connection::connect(std::string& error) {
  if (connection_ && PQstatus(connection_) == CONNECTION_OK) return true;
  close();
  std::vector<const char*> keywords, values;
  for (std::size_t i = 0; i < keywords_.size(); ++i) {
    keywords.push_back(keywords_[i].c_str());
    values.push_back(values_[i].c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  connection_ = PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1);
  if (PQstatus(connection_) != CONNECTION_OK) {
    error = connection_ ? one_line(PQerrorMessage(connection_)) : "out of memory";
    close();
    return false;
  }
  // NOTICEs ("relation … already exists, skipping") are no news: libpq would print them on stderr.
  PQsetNoticeProcessor(connection_, [](void*, const char*) {}, nullptr);
  // Timestamps as ISO 8601 in UTC, whatever the server's defaults.
  const Result session = execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'");
  if (session.kind != Result::Kind::ok) {
    error = session.message;
    close();
    return false;
  }
  return true;
}

Result Connection::execute(const std::string& sql, const std::vector<std::optional<std::string>>& values) {
  std::vector<const char*> pointers;
  for (const auto& value : values) pointers.push_back(value ? value->c_str() : nullptr);
  // Every parameter is text: a statement casts it to its column's type where it needs to.
  const std::vector<Oid> types(values.size(), 25 /* text */);
  Result result;
  result.rows.reset(values.empty() ? PQexec(connection_, sql.c_str())
                                   : PQexecParams(connection_, sql.c_str(), static_cast<int>(values.size()),
                                                  types.data(), pointers.data(), nullptr, nullptr, 0));
  const ExecStatusType status = result.rows ? PQresultStatus(result.rows.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  result.message = server_message(result.rows.get(), connection_);
  const char* sqlstate = result.rows ? PQresultErrorField(result.rows.get(), PG_DIAG_SQLSTATE) : nullptr;
  result.kind = PQstatus(connection_) != CONNECTION_OK || is_transient(sqlstate) ? Result::Kind::unavailable
                                                                                : Result::Kind::rejected;
  return result;
}

std::chrono::milliseconds Backoff::next() {
  delay_ = std::clamp(delay_ * 2, std::chrono::milliseconds(100), std::chrono::milliseconds(5000));
  return delay_;
}

bool is_identifier(const std::string& name) {
  std::size_t start = 0;
  for (int part = 0; part < 2; ++part) {
    const std::size_t dot = name.find('.', start);
    const std::string piece = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (piece.empty() || std::isdigit(static_cast<unsigned char>(piece[0])) ||
        !std::all_of(piece.begin(), piece.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }))
      return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
  return false;  // more than one dot
}

std::string quoted(const std::string& name) {
  const std::size_t dot = name.find('.');
  if (dot == std::string::npos) return '"' + name + '"';
  return '"' + name.substr(0, dot) + "\".\"" + name.substr(dot + 1) + '"';
}

}  // namespace sluice::postgres
