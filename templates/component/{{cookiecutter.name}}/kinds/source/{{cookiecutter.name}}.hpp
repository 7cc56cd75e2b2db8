// {{cookiecutter.name}} — {{cookiecutter.summary}}.
// A sluice {{cookiecutter.kind}} by {{cookiecutter.author}}.
//
// descriptor() is what the kernel validates graph params against and what
// `sluice plugins describe {{cookiecutter.name}}`, GET /v1/components and the editor show: when you
// change what the component does, change its summary, ports and params there first.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <sluice/component.hpp>

namespace {{cookiecutter.name}} {

// Sends `count` packets {"n": 1}, {"n": 2}, ... (0: no end), `batch` of them every
// `interval_ms`, each batch one stream. A source makes packets instead of receiving them: the
// outside system it reads (a queue, a file, a table) is where a crash replays from, so it tells
// that system it has taken the data only once the stream is done. Here the "upstream" is the
// number of the last batch done, kept in the node's state directory: after a restart the
// source goes on after it, sending again what was not done (at least once, never a gap).
class {{cookiecutter.class_name}} final : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {
        .name = "{{cookiecutter.name}}",
        .version = "{{cookiecutter.version}}",
        .summary = "{{cookiecutter.summary}}",
        .kind = sluice::ComponentKind::source,
        .outputs = {
            {"out", "the packets made: {\"n\": number}"},
        },
        // Typed params: the kernel checks a graph's values against these before the graph
        // runs (unknown names get a did-you-mean), and fills in the defaults.
        .params = {
            {.name = "count",
             .type = sluice::ParamType::integer,
             .description = "packets to send in all; 0: no end",
             .default_value = 10,
             .minimum = 0},
            {.name = "batch",
             .type = sluice::ParamType::integer,
             .description = "packets per stream",
             .default_value = 1,
             .minimum = 1},
            {.name = "interval_ms",
             .type = sluice::ParamType::integer,
             .description = "wait between batches",
             .default_value = 100,
             .minimum = 0},
        },
        // Shown by `sluice plugins describe` and GET /v1/components: what it does, by example.
        .example = {.description = "Sends three packets as fast as the graph takes them, then stops",
                    .params = R"(count: 3
interval_ms: 0)",
                    .output = R"({"n": 1}
{"n": 2}
{"n": 3})"}};
  }

  // Runs once per deployed graph, before produce(): expensive setup (connecting) belongs here.
  explicit {{cookiecutter.class_name}}(const sluice::Params& params)
      : count_(params.get_int("count")),
        batch_(params.get_int("batch")),
        interval_(params.get_int("interval_ms")) {}

  // Runs on a thread of its own from deploy until it returns or the graph is undeployed.
  void produce(sluice::SourceContext& ctx) override {
    if (!ctx.state_dir().empty()) {  // empty under `sluice run`: nothing survives it
      position_file_ = std::filesystem::path(ctx.state_dir()) / "position";
      std::ifstream(position_file_) >> done_up_to_;
    }
    for (std::int64_t batch = done_up_to_ + 1; count_ == 0 || (batch - 1) * batch_ < count_; ++batch) {
      std::vector<sluice::Packet> packets;
      for (std::int64_t n = (batch - 1) * batch_ + 1; n <= batch * batch_ && (count_ == 0 || n <= count_); ++n) {
        sluice::Packet packet;
        packet.set("n", n);
        packets.push_back(std::move(packet));
      }
      // Waits while the graph is full (backpressure): the source never runs ahead of its
      // slowest sink. False once the source is told to stop.
      if (!ctx.send(std::move(packets), [this, batch](const sluice::StreamOutcome&) { done(batch); })) return;
      if (!ctx.sleep_until(ctx.now() + interval_)) return;
    }
  }

 private:
  // Runs on a worker thread once the batch's stream is through the graph (its sinks durable).
  // Streams may finish out of order: the position moves only over batches all done.
  void done(std::int64_t batch) {
    std::lock_guard lock(mutex_);
    done_after_.insert(batch);
    while (done_after_.count(done_up_to_ + 1)) done_after_.erase(++done_up_to_);
    if (!position_file_.empty()) std::ofstream(position_file_, std::ios::trunc) << done_up_to_ << '\n';
  }

  std::int64_t count_, batch_;
  std::chrono::milliseconds interval_;
  std::filesystem::path position_file_;
  std::mutex mutex_;
  std::int64_t done_up_to_ = 0;        // every batch up to this one is done
  std::set<std::int64_t> done_after_;  // done batches beyond it
};

}  // namespace {{cookiecutter.name}}
