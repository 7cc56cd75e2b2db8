// What the write-ahead log costs: `sluice serve` with --durability none, the default WAL, and
// --fsync, in one run, under NDJSON bulk POSTs (1 000 records of ~150 bytes) and single-document
// POSTs from several keep-alive clients, each waiting for its 202 before the next POST. Also
// measures the raw fdatasync rate and the sequential write+fdatasync bandwidth of the disk the
// state dir is on, so the log's figures can be read against the disk's, and single documents
// with --fsync again at half their peak rate, for their latency there.
//
//   build-release/tools/bench/bench_wal [--seconds S] [--clients C]
//
// The graph ends in `null`, so what is measured is the ingest path (parse, log, admit, answer).
// Everything shares this machine's cores: read the ratios, not the absolute numbers.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "scratch.hpp"
#include "server_process.hpp"

using namespace rest_test;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Workload {
  const char* name;
  std::string body;
  std::size_t packets;
};

struct Figures {
  double packets_per_second = 0, p50_ms = 0, p99_ms = 0, syncs_per_second = 0, bytes_per_sync = 0,
         log_bytes_per_second = 0, sync_p99_ms = 0;
  std::size_t refused = 0;
};

// A record of about 150 bytes as NDJSON.
std::string record(std::size_t n) {
  char line[200];
  std::snprintf(line, sizeof line,
                "{\"n\": %zu, \"host\": \"web-%02zu.example.org\", \"level\": \"info\", \"path\": \"/api/v1/items/%zu\", "
                "\"message\": \"request served in a few milliseconds\"}\n",
                n, n % 16, n * 7);
  return line;
}

double metric(std::uint16_t port, const std::string& series) {
  const std::string body = http(port, "GET", "/metrics").body;
  const auto at = body.find("\n" + series + " ");
  return at == std::string::npos ? 0 : std::strtod(body.c_str() + at + series.size() + 2, nullptr);
}

// `rate`: requests per second over all clients, each client sending on its own schedule (a
// request's latency counts from when it was due, so a stall is not hidden); 0: each client sends
// its next request as soon as the last is answered.
// The bound of the log's sync-latency histogram (sluice_wal_sync_duration_seconds) below which
// 99 % of its syncs so far took, in ms (0: no sync).
double server_sync_p99_ms(std::uint16_t port) {
  const std::string body = http(port, "GET", "/metrics").body;
  const std::string bucket = "\nsluice_wal_sync_duration_seconds_bucket{le=\"";
  std::vector<std::pair<std::string, double>> buckets;  // bound, syncs up to it
  for (auto at = body.find(bucket); at != std::string::npos; at = body.find(bucket, at + 1)) {
    const auto bound = at + bucket.size(), end = body.find('"', bound);
    buckets.emplace_back(body.substr(bound, end - bound), std::strtod(body.c_str() + end + 3, nullptr));
  }
  if (buckets.empty() || buckets.back().second == 0) return 0;
  for (const auto& [bound, syncs] : buckets)
    if (syncs >= 0.99 * buckets.back().second) return bound == "+Inf" ? INFINITY : std::strtod(bound.c_str(), nullptr) * 1000;
  return 0;
}

Figures measure(const TempDir& dir, const std::vector<std::string>& mode, const Workload& workload, int clients,
                std::chrono::seconds duration, double rate = 0) {
  ServerProcess server(dir, mode);
  for (const auto deadline = Clock::now() + std::chrono::seconds(30);;) {
    try {
      if (http(server.port(), "GET", "/readyz").status == 200) break;
    } catch (const std::exception&) {
    }
    if (Clock::now() > deadline) throw std::runtime_error("the server did not get ready: " + server.stderr_text());
  }
  const double syncs_before = metric(server.port(), "sluice_wal_syncs_total");
  const double bytes_before = metric(server.port(), "sluice_wal_written_bytes_total");

  std::mutex mutex;
  std::vector<double> latencies_ms;
  std::size_t accepted_packets = 0, refused = 0;
  const auto start = Clock::now();
  const auto stop = start + duration;
  std::vector<std::thread> threads;
  const auto period = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(rate > 0 ? clients / rate : 0));
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      HttpConnection connection(server.port());
      std::vector<double> mine;
      std::size_t packets = 0, no = 0;
      auto due = start + period * c / clients;
      while (Clock::now() < stop) {
        if (rate > 0) std::this_thread::sleep_until(due);
        const auto sent = rate > 0 ? due : Clock::now();
        due += period;
        const int status = connection
                               .request("POST", "/v1/graphs/bench/packets", workload.body,
                                        {{"Content-Type", "application/x-ndjson"}})
                               .status;
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
        if (status == 202) {
          mine.push_back(ms);
          packets += workload.packets;
        } else {
          ++no;
        }
      }
      std::lock_guard lock(mutex);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
      accepted_packets += packets;
      refused += no;
    });
  for (auto& thread : threads) thread.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  Figures figures;
  figures.packets_per_second = static_cast<double>(accepted_packets) / seconds;
  figures.refused = refused;
  std::sort(latencies_ms.begin(), latencies_ms.end());
  if (!latencies_ms.empty()) {
    figures.p50_ms = latencies_ms[latencies_ms.size() / 2];
    figures.p99_ms = latencies_ms[std::min(latencies_ms.size() - 1, latencies_ms.size() * 99 / 100)];
  }
  const double syncs = metric(server.port(), "sluice_wal_syncs_total") - syncs_before;
  const double bytes = metric(server.port(), "sluice_wal_written_bytes_total") - bytes_before;
  figures.syncs_per_second = syncs / seconds;
  figures.bytes_per_sync = syncs > 0 ? bytes / syncs : 0;
  figures.log_bytes_per_second = bytes / seconds;
  figures.sync_p99_ms = server_sync_p99_ms(server.port());
  server.stop();
  return figures;
}

struct DiskFigures {
  double syncs_per_second = 0, sync_ms = 0, sync_p99_ms = 0, bytes_per_second = 0;
};

// write(2) + fdatasync in a loop for `duration`, appending `block` bytes each time.
DiskFigures disk(const fs::path& dir, std::size_t block, std::chrono::milliseconds duration) {
  const fs::path file = dir / "disk-probe";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + file.string());
  const std::string bytes(block, 'x');
  std::size_t syncs = 0;
  std::vector<double> sync_ms;
  const auto start = Clock::now();
  while (Clock::now() - start < duration) {
    if (::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
      throw std::runtime_error(std::string("disk probe: ") + std::strerror(errno));
    const auto synced = Clock::now();
    if (::fdatasync(fd) != 0) throw std::runtime_error(std::string("disk probe: ") + std::strerror(errno));
    sync_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - synced).count());
    ++syncs;
  }
  std::sort(sync_ms.begin(), sync_ms.end());
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  fs::remove(file);
  return {static_cast<double>(syncs) / seconds, seconds * 1000 / static_cast<double>(syncs),
          sync_ms[std::min(sync_ms.size() - 1, sync_ms.size() * 99 / 100)], static_cast<double>(syncs * block) / seconds};
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 5, clients = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--clients") == 0) clients = std::atoi(argv[i + 1]);
  }
  if (seconds <= 0 || clients <= 0 || argc % 2 == 0) {
    std::fprintf(stderr, "usage: bench_wal [--seconds S] [--clients C]\n");
    return 2;
  }

  TempDir dir;
  write_file(dir.path / "graphs" / "bench.yaml",
             "name: bench\ndescription: takes packets in and drops them\nnodes:\n  out: { component: \"null\" }\n");
  std::vector<Workload> workloads = {{"ndjson 1000 x 150 B", "", 1000}, {"single document", record(0), 1}};
  for (std::size_t n = 0; n < 1000; ++n) workloads[0].body += record(n);

  const DiskFigures small = disk(dir.path, 4096, std::chrono::milliseconds(2000));
  const DiskFigures large = disk(dir.path, std::size_t{1} << 20, std::chrono::milliseconds(2000));
  std::printf("bench wal: %d clients, %d s per run, %u cores; disk of %s: fdatasync of 4 KiB %.0f/s (%.2f ms, "
              "p99 %.2f ms), of 1 MiB %.0f MiB/s\n",
              clients, seconds, std::thread::hardware_concurrency(), dir.path.c_str(), small.syncs_per_second,
              small.sync_ms, small.sync_p99_ms, large.bytes_per_second / (1 << 20));
  std::printf("%-20s %-9s %11s %6s %8s %8s %8s %10s %9s %8s\n", "workload", "mode", "packets/s", "ratio", "p50 ms",
              "p99 ms", "syncs/s", "KiB/sync", "log MiB/s", "refused");
  const std::vector<std::pair<const char*, std::vector<std::string>>> modes = {
      {"none", {"--durability", "none"}}, {"wal", {}}, {"--fsync", {"--fsync"}}};
  double fsync_peak = 0;
  for (const auto& workload : workloads) {
    double baseline = 0;
    for (const auto& [name, args] : modes) {
      std::vector<std::string> mode = args;
      mode.insert(mode.end(), {"--state-dir", (dir.path / "var").string()});
      const Figures f = measure(dir, mode, workload, clients, std::chrono::seconds(seconds));
      if (baseline == 0) baseline = f.packets_per_second;
      std::printf("%-20s %-9s %11.0f %6.2f %8.2f %8.2f %8.0f %10.1f %9.1f %8zu\n", workload.name, name,
                  f.packets_per_second, f.packets_per_second / baseline, f.p50_ms, f.p99_ms, f.syncs_per_second,
                  f.bytes_per_sync / 1024, f.log_bytes_per_second / (1 << 20), f.refused);
      std::fflush(stdout);
      if (workload.packets == 1 && args == std::vector<std::string>{"--fsync"}) fsync_peak = f.packets_per_second;
    }
  }
  // The latency goal for --fsync: single documents at half the peak rate.
  std::vector<std::string> mode = {"--fsync", "--state-dir", (dir.path / "var").string()};
  const Figures half = measure(dir, mode, workloads[1], clients, std::chrono::seconds(seconds), fsync_peak / 2);
  std::printf("single document, --fsync at half its peak (%.0f/s): %.0f/s, p50 %.2f ms, p99 %.2f ms (99 %% of the "
              "log's syncs within %.2f ms); the disk's "
              "sync latency + 2 ms is %.2f ms (its p99 + 2 ms: %.2f ms)\n",
              fsync_peak / 2, half.packets_per_second, half.p50_ms, half.p99_ms, half.sync_p99_ms, small.sync_ms + 2,
              small.sync_p99_ms + 2);
  return 0;
}
