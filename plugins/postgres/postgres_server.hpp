// A real PostgreSQL 15 server from Debian (`postgresql-15`) for the tests and the benchmark:
// initdb in a fresh temporary directory, `postgres` on an ephemeral loopback port, waited for
// with a deadline, and stopped (its files removed) when the object dies, also when a test fails.
// PostgreSQL refuses to run as root: then initdb and the server run as the `postgres` system
// user, which owns the directory.
//
//   PostgresServer server;                  // initdb + start; ready, or throws with the log
//   server.conninfo();                      // "host=127.0.0.1 port=N dbname=postgres user=postgres password=…"
//   server.rows("SELECT id, name FROM t");  // {"1|a", "2|NULL"}, on a connection of the caller's own
//   server.stop(); server.start();          // a restart on the same port and data
//   PostgresServer tls({"ssl=on", …}, "hostssl all client 127.0.0.1/32 cert\n");  // settings, pg_hba lines first
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "loopback_ports.hpp"

class PostgresServer {
 public:
  static constexpr const char* password = "sluice-test-password";
  static constexpr const char* bin_dir = "/usr/lib/postgresql/15/bin";

  // `settings`: more `-c name=value` for the server; `hba`: lines put before pg_hba.conf's own.
  explicit PostgresServer(std::vector<std::string> settings = {}, const std::string& hba = "")
      : settings_(std::move(settings)) {
    std::string pattern = (std::filesystem::temp_directory_path() / "sluice-postgres-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    std::filesystem::create_directories(dir_ / "socket");
    write(dir_ / "password", password);
    if (::geteuid() == 0) {
      const passwd* user = ::getpwnam("postgres");
      if (!user) throw std::runtime_error("running as root and there is no `postgres` user to run PostgreSQL as");
      uid_ = user->pw_uid;
      gid_ = user->pw_gid;
      for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_))
        if (::chown(entry.path().c_str(), *uid_, *gid_) != 0) throw std::runtime_error("chown failed");
      if (::chown(dir_.c_str(), *uid_, *gid_) != 0) throw std::runtime_error("chown failed");
    }
    const std::string data = (dir_ / "data").string(), pwfile = (dir_ / "password").string();
    const int status = wait_exit(spawn({std::string(bin_dir) + "/initdb", "-D", data, "-U", "postgres", "-E", "UTF8",
                                        "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256",
                                        "--pwfile=" + pwfile, "--no-sync"},
                                       dir_ / "initdb.log"),
                                 std::chrono::seconds(120));
    if (status != 0) throw std::runtime_error("initdb failed:\n" + read(dir_ / "initdb.log"));
    if (!hba.empty()) write(dir_ / "data/pg_hba.conf", hba + read(dir_ / "data/pg_hba.conf"));
    // The port is free when picked; another process may take it before the server binds: retry.
    for (int attempt = 0;; ++attempt) {
      port_ = plugin_test::free_loopback_port();
      try {
        start();
        return;
      } catch (const std::exception&) {
        if (attempt == 4) throw;
      }
    }
  }

  ~PostgresServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGQUIT);  // immediate shutdown: the server ends its backends too
      if (wait_exit(pid_, std::chrono::seconds(10)) < 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
      }
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Starts the server on port() and waits until it accepts connections (30 s at most).
  void start() {
    std::vector<std::string> args = {std::string(bin_dir) + "/postgres", "-D", (dir_ / "data").string(), "-k",
                                     (dir_ / "socket").string(), "-p", std::to_string(port_), "-c",
                                     "listen_addresses=127.0.0.1"};
    for (const auto& setting : settings_) args.insert(args.end(), {"-c", setting});
    pid_ = spawn(std::move(args), dir_ / "server.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (PQping(conninfo().c_str()) != PQPING_OK) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("postgres exited at start:\n" + log());
      }
      if (std::chrono::steady_clock::now() >= deadline)
        throw std::runtime_error("postgres did not accept connections within 30 s:\n" + log());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // Fast shutdown (clients are disconnected, what was committed stays), waited for.
  void stop() {
    ::kill(pid_, SIGINT);
    if (wait_exit(pid_, std::chrono::seconds(30)) < 0) throw std::runtime_error("postgres did not stop:\n" + log());
    pid_ = -1;
  }

  // Makes `file` (a private key) the server's alone, as PostgreSQL insists: mode 0600, owned by
  // the `postgres` user when running as root.
  static void hand_over(const std::filesystem::path& file) {
    std::filesystem::permissions(file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    if (::geteuid() != 0) return;
    const passwd* user = ::getpwnam("postgres");
    if (!user || ::chown(file.c_str(), user->pw_uid, user->pw_gid) != 0)
      throw std::runtime_error("cannot give " + file.string() + " to the postgres user");
  }

  std::uint16_t port() const { return port_; }
  std::string conninfo() const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres user=postgres password=" + password;
  }
  std::string log() const { return read(dir_ / "server.log"); }

  // The rows `sql` returns, each row's columns joined by '|' ("NULL" for null); throws with
  // the server's message when it fails.
  std::vector<std::string> rows(const std::string& sql) const {
    PGconn* connection = PQconnectdb(conninfo().c_str());
    PGresult* result = PQexec(connection, sql.c_str());
    const ExecStatusType status = PQresultStatus(result);
    std::vector<std::string> out;
    std::string error;
    if (status == PGRES_TUPLES_OK) {
      for (int r = 0; r < PQntuples(result); ++r) {
        std::string row;
        for (int c = 0; c < PQnfields(result); ++c)
          row += (c ? "|" : "") + std::string(PQgetisnull(result, r, c) ? "NULL" : PQgetvalue(result, r, c));
        out.push_back(row);
      }
    } else if (status != PGRES_COMMAND_OK) {
      error = PQerrorMessage(connection);
    }
    PQclear(result);
    PQfinish(connection);
    if (!error.empty()) throw std::runtime_error(sql + ": " + error);
    return out;
  }
  void execute(const std::string& sql) const { rows(sql); }
  // The single value of a one-row, one-column query, as a number.
  long count(const std::string& sql) const { return std::stol(rows(sql).at(0)); }

 private:
  static void write(const std::filesystem::path& file, const std::string& text) { std::ofstream(file) << text; }
  static std::string read(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // Runs `args` (as the postgres user when root), its output into `output`.
  pid_t spawn(std::vector<std::string> args, const std::filesystem::path& output) const {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      if (uid_ && (::setgroups(0, nullptr) != 0 || ::setgid(*gid_) != 0 || ::setuid(*uid_) != 0)) ::_exit(126);
      const int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::setsid();  // not in the test's process group: a terminal's ^C reaches the test only
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    return pid;
  }

  // The exit status of `pid`, or -1 when it is still running after `timeout`.
  static int wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      if (std::chrono::steady_clock::now() >= deadline) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  std::vector<std::string> settings_;
  std::filesystem::path dir_;
  std::optional<uid_t> uid_;
  std::optional<gid_t> gid_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};
