// The publish package: sinks at the end of a graph.
//   collect     hands each packet back to the submitter (REST ?wait=true, `sluice run` output)
//   counter     counts packets and logs the count
//   null        discards packets
//   log         pretty-prints packets to stderr
//   jsonl_file  appends packets as JSON lines, safe with many writers, rotation, fsync policy
//   csv_file    appends chosen fields as CSV rows, same file guarantees
//   http        POSTs each packet as JSON to a URL, with timeout and retries
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <sluice/component.hpp>
#include <sluice/http_client.hpp>

#include "append_file.hpp"

namespace sluice::publish {

class Collect : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Collect(const Params&) {}
  void process(Packet& packet, Emitter& emit) override;
};

class Counter : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Counter(const Params& params);
  void process(Packet& packet, Emitter& emit) override;
  void flush(Emitter& emit) override;

 private:
  void report() const;
  std::string label_;
  std::uint64_t every_;
  std::uint64_t count_ = 0;
};

class Null : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Null(const Params&) {}
  void process(Packet&, Emitter&) override {}
};

class Log : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Log(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::string prefix_;
  bool meta_;
  bool pretty_;
  std::string line_;  // reused between packets
};

// What jsonl_file and csv_file share: params for the file, batching of whole lines, flush().
class LineFileSink : public Component {
 public:
  void flush(Emitter& emit) override;

 protected:
  LineFileSink(const Params& params, std::string header);
  // Adds the params every line file sink takes after the component's own.
  static std::vector<ParamSpec> with_file_params(std::vector<ParamSpec> own);
  // Queues one line (with its '\n'); writes the batch once it holds batch_lines lines.
  void add_line(const Emitter& emit);
  std::string& buffer() { return buffer_; }

 private:
  void write_buffer(const Emitter& emit);
  std::unique_ptr<AppendFile> file_;
  std::string buffer_;
  std::size_t batch_lines_;
  std::size_t buffered_lines_ = 0;
};

class JsonlFile : public LineFileSink {
 public:
  static ComponentDescriptor descriptor();
  explicit JsonlFile(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  bool envelope_;
};

class CsvFile : public LineFileSink {
 public:
  static ComponentDescriptor descriptor();
  explicit CsvFile(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::vector<std::string> columns_;
  char delimiter_;
  std::string line_end_;
};

class Http : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Http(const Params& params);
  ~Http() override;
  void process(Packet& packet, Emitter& emit) override;

 private:
  // The exchange with retries and backoff; throws the failure for the dead letter.
  void send(const std::string& body);

  std::unique_ptr<http::Client> client_;  // one connection, kept alive between packets
  std::string method_;
  http::Headers headers_;
  int retries_;
  std::chrono::milliseconds backoff_;
  bool envelope_;
  std::string body_;
};

}  // namespace sluice::publish
