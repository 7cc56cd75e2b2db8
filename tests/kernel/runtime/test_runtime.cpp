// Runtime tests: graphs declared in YAML, packets pushed in, what comes out counted — at 1 and
// 2 workers. Components are small classes defined here; the registry's own tests cover real
// .so loading.
#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <boost/fiber/operations.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <thread>

#include <sluice/io.hpp>
#include <sluice/json.hpp>

#include "graph/graph_spec.hpp"
#include "runtime/dead_letter_store.hpp"
#include "runtime/runtime.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

// ---- test components -----------------------------------------------------------------------

struct Pass : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "pass", .summary = "passes packets on", .kind = ComponentKind::transformer};
  }
  explicit Pass(const Params&) {}
  void process(Packet& p, Emitter& emit) override { emit(std::move(p)); }
};

// Fails on packets with `bad: true`.
struct FailIfBad : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "fail_if_bad", .summary = "throws on bad packets", .kind = ComponentKind::transformer};
  }
  explicit FailIfBad(const Params&) {}
  void process(Packet& p, Emitter& emit) override {
    if (const Value* bad = p.get("bad"); bad && bad->is_bool() && bad->as_bool())
      throw std::runtime_error("bad packet " + p.get_or("n", nullptr).to_display_string());
    emit(std::move(p));
  }
};

// Drops packets whose `n` is odd.
struct DropOdd : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "drop_odd", .summary = "drops odd n", .kind = ComponentKind::filter};
  }
  explicit DropOdd(const Params&) {}
  void process(Packet& p, Emitter& emit) override {
    if (p.get("n")->as_int() % 2 == 0) emit(std::move(p));
  }
};

// One packet per element of `items`.
struct Split : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "split", .summary = "one packet per item", .kind = ComponentKind::operator_};
  }
  explicit Split(const Params&) {}
  void process(Packet& p, Emitter& emit) override {
    for (const Value& item : p.get("items")->as_array()) {
      Packet child;
      child.set("n", item);
      emit(std::move(child));
    }
  }
};

// Two out ports: even n → `even`, odd → `odd`.
struct Parity : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "parity",
            .summary = "routes by parity",
            .kind = ComponentKind::operator_,
            .outputs = {{"even", "even n"}, {"odd", "odd n"}}};
  }
  explicit Parity(const Params&) {}
  void process(Packet& p, Emitter& emit) override {
    emit(p.get("n")->as_int() % 2 ? "odd" : "even", std::move(p));
  }
};

struct Collect : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "collect", .summary = "hands packets back", .kind = ComponentKind::publisher};
  }
  explicit Collect(const Params&) {}
  void process(Packet& p, Emitter& emit) override { emit.deliver(std::move(p)); }
};

struct Sink : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "sink", .summary = "swallows packets", .kind = ComponentKind::publisher};
  }
  explicit Sink(const Params&) {}
  void process(Packet&, Emitter&) override {}
};

// Per-thread: each worker runs its own graph instance, so in-flight is bounded per worker.
thread_local long entered = 0, left = 0, max_in_flight = 0;
std::atomic<long> max_in_flight_seen{0};

struct Enter : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "enter", .summary = "counts packets taken in", .kind = ComponentKind::transformer};
  }
  explicit Enter(const Params&) {}
  void process(Packet& p, Emitter& emit) override {
    ++entered;
    emit(std::move(p));
  }
};

// A slow sink (it burns CPU, as a costly component would) that records the packets in flight.
struct SlowExit : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "slow_exit", .summary = "slow sink", .kind = ComponentKind::publisher};
  }
  explicit SlowExit(const Params&) {}
  void process(Packet&, Emitter&) override {
    const auto until = std::chrono::steady_clock::now() + 2us;
    while (std::chrono::steady_clock::now() < until) {}
    ++left;
    max_in_flight = std::max(max_in_flight, entered - left);
    long seen = max_in_flight_seen;
    while (max_in_flight > seen && !max_in_flight_seen.compare_exchange_weak(seen, max_in_flight)) {}
  }
};

// Blocks its thread (a sleep, as blocking I/O would); declared blocking.
std::atomic<int> sleeper_done{0};
struct Sleeper : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "sleeper", .summary = "sleeps", .kind = ComponentKind::publisher, .blocking = true};
  }
  explicit Sleeper(const Params&) {}
  void process(Packet&, Emitter&) override {
    std::this_thread::sleep_for(300ms);
    ++sleeper_done;
  }
};

// Waits on a gate the test opens, without blocking the worker.
std::atomic<bool> gate_open{false};
struct Gate : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "gate", .summary = "waits for the test", .kind = ComponentKind::transformer};
  }
  explicit Gate(const Params&) {}
  void process(Packet& p, Emitter& emit) override {
    while (!gate_open) boost::this_fiber::sleep_for(1ms);
    emit(std::move(p));
  }
};

struct Explodes : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "explodes", .summary = "constructor throws", .kind = ComponentKind::transformer};
  }
  explicit Explodes(const Params&) { throw std::runtime_error("model file missing"); }
};

// Counts what reaches it, across instances.
std::atomic<long> counted{0};
struct CountingSink : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "counting_sink", .summary = "counts packets", .kind = ComponentKind::publisher};
  }
  explicit CountingSink(const Params&) {}
  void process(Packet&, Emitter&) override { ++counted; }
};

// A source: `batches` streams (0: until stopped) of `batch` packets numbered from 0, with the
// acks counted. `ack_before_sink` records an ack that came before its packets were counted.
std::atomic<long> source_sent{0}, source_acked{0}, source_streams_acked{0}, source_errors{0};
std::atomic<int> sources_running{0}, sources_overlapping{0}, source_starts{0};
std::atomic<bool> ack_before_sink{false};
std::atomic<long> acked_when_last_source_started{-1}, sent_when_last_source_started{-1};

void reset_source_counters() {
  counted = 0;
  source_sent = source_acked = source_streams_acked = source_errors = 0;
  sources_running = sources_overlapping = source_starts = 0;
  ack_before_sink = false;
  acked_when_last_source_started = sent_when_last_source_started = -1;
}

std::vector<Packet> numbered(int count, int first = 0) {
  std::vector<Packet> packets;
  for (int i = first; i < first + count; ++i) {
    Packet p;
    p.set("n", i);
    packets.push_back(std::move(p));
  }
  return packets;
}

struct NumberSource : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "number_source",
            .summary = "sends numbered batches",
            .kind = ComponentKind::source,
            .params = {{.name = "batches", .type = ParamType::integer, .description = "0: no end", .default_value = 0},
                       {.name = "batch", .type = ParamType::integer, .description = "per stream", .default_value = 10},
                       {.name = "failing", .type = ParamType::integer,
                        .description = "the first packets of each stream carry meta error", .default_value = 0}}};
  }
  explicit NumberSource(const Params& p)
      : batches_(p.get_int("batches")), batch_(p.get_int("batch")), failing_(p.get_int("failing")) {}
  void produce(SourceContext& ctx) override {
    if (++sources_running > 1) ++sources_overlapping;
    ++source_starts;
    acked_when_last_source_started = source_acked.load();
    sent_when_last_source_started = source_sent.load();
    for (long b = 0; batches_ == 0 || b < batches_; ++b) {
      source_sent += batch_;
      std::vector<Packet> packets = numbered(static_cast<int>(batch_), static_cast<int>(b * batch_));
      for (long i = 0; i < failing_; ++i) packets[i].set_meta(meta::error, "unreadable record");
      const bool sent = ctx.send(std::move(packets),
                                 [](const StreamOutcome& outcome) {
                                   source_errors += outcome.errors;
                                   const long acked = source_acked += outcome.packets;
                                   if (counted.load() < acked) ack_before_sink = true;
                                   ++source_streams_acked;
                                 });
      if (!sent) {
        source_sent -= batch_;
        break;
      }
    }
    --sources_running;
  }

 private:
  long batches_, batch_, failing_;
};

// Whether io::run_blocking ran its work on another thread than the one calling process().
std::atomic<int> blocking_moved{0}, blocking_inline{0};
struct BlockingProbe : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "blocking_probe", .summary = "runs blocking work", .kind = ComponentKind::transformer};
  }
  explicit BlockingProbe(const Params&) {}
  void process(Packet& p, Emitter& emit) override {
    const std::thread::id caller = std::this_thread::get_id();
    std::thread::id ran;
    io::run_blocking([&] { ran = std::this_thread::get_id(); });
    ++(ran == caller ? blocking_inline : blocking_moved);
    emit(std::move(p));
  }
};

struct TestCatalog : ComponentCatalog {
  std::map<std::string, std::shared_ptr<const ComponentDescriptor>, std::less<>> components;
  TestCatalog() {
    for (auto d : {describe<Pass>(), describe<FailIfBad>(), describe<DropOdd>(), describe<Split>(),
                   describe<Parity>(), describe<Collect>(), describe<Sink>(), describe<Enter>(),
                   describe<SlowExit>(), describe<Sleeper>(), describe<Gate>(), describe<Explodes>(),
                   describe<CountingSink>(), describe<NumberSource>(), describe<BlockingProbe>()})
      components.emplace(d.name, std::make_shared<const ComponentDescriptor>(d));
  }
  std::shared_ptr<const ComponentDescriptor> find(std::string_view name) const override {
    auto it = components.find(name);
    return it == components.end() ? nullptr : it->second;
  }
  std::vector<std::string> names() const override {
    std::vector<std::string> out;
    for (const auto& [name, d] : components) out.push_back(name);
    return out;
  }
};

GraphPlan plan(const std::string& yaml) {
  static TestCatalog catalog;
  std::vector<Diagnostic> errors;
  GraphSpec spec = parse_graph(yaml, "test.yaml", errors);
  auto planned = plan_graph(spec, catalog, errors);
  for (const auto& e : errors) FAIL_CHECK(format(e));
  REQUIRE(planned);
  return std::move(*planned);
}

// Submits and waits (with a deadline) for the stream to complete.
StreamResult run_stream(Runtime& runtime, std::string_view graph, std::vector<Packet> packets,
                        std::string_view node = {}) {
  auto done = std::make_shared<std::promise<StreamResult>>();
  auto result = done->get_future();
  auto admission = runtime.submit(
      graph, std::move(packets),
      [done](const StreamResult& r) { done->set_value(r.clone()); },
      node);
  REQUIRE(admission.status == Admission::Status::accepted);
  REQUIRE(result.wait_for(20s) == std::future_status::ready);
  return result.get();
}

template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds deadline = 10s) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::yield();
  }
  return condition();
}

}  // namespace

TEST_CASE("a pipeline delivers every packet, at 1 and 2 workers") {
  for (std::size_t workers : {1, 2}) {
    CAPTURE(workers);
    Runtime runtime({.workers = workers});
    runtime.deploy(plan("name: line\npipeline: [a, b, out]\nnodes:\n  a: {component: pass}\n"
                        "  b: {component: pass}\n  out: {component: collect}\n"));
    for (int round = 0; round < 4; ++round) {
      StreamResult r = run_stream(runtime, "line", numbered(1000));
      CHECK(r.state == StreamResult::State::done);
      CHECK(r.accepted == 1000);
      CHECK(r.sinks["out"] == 1000);
      REQUIRE(r.results.size() == 1000);
      // One stream runs on one instance, in order.
      for (int i = 0; i < 1000; ++i) CHECK(r.results[i].get("n")->as_int() == i);
      CHECK(r.results[0].get_meta("stream")->as_string() == r.id);
    }
    auto stats = runtime.stats("line");
    REQUIRE(stats);
    CHECK(stats->instances == workers);
    CHECK(stats->nodes[0].in == 4000);
    CHECK(stats->nodes[2].in == 4000);
  }
}

TEST_CASE("fan-out copies to every target and fan-in merges") {
  for (std::size_t workers : {1, 2}) {
    CAPTURE(workers);
    Runtime runtime({.workers = workers});
    runtime.deploy(plan(R"(name: fan
nodes:
  in: {component: pass}
  left: {component: pass}
  right: {component: pass}
  both: {component: collect}
  extra: {component: sink}
edges:
  - in -> left
  - in -> right
  - in -> extra
  - left -> both
  - right -> both
)"));
    StreamResult r = run_stream(runtime, "fan", numbered(500));
    CHECK(r.sinks["both"] == 1000);
    CHECK(r.sinks["extra"] == 500);
    CHECK(r.results.size() == 1000);
    // The copies are independent packets.
    CHECK(r.results[0].get("n")->as_int() == r.results[0].get("n")->as_int());
  }
}

TEST_CASE("named out ports route packets") {
  Runtime runtime({.workers = 1});
  runtime.deploy(plan(R"(name: route
nodes:
  p: {component: parity}
  evens: {component: collect}
  odds: {component: sink}
edges:
  - p.even -> evens
  - p.odd -> odds.in
)"));
  StreamResult r = run_stream(runtime, "route", numbered(10));
  CHECK(r.sinks["evens"] == 5);
  CHECK(r.sinks["odds"] == 5);
  for (const auto& p : r.results) CHECK(p.get("n")->as_int() % 2 == 0);
}

TEST_CASE("a failing packet goes to the error port when wired, else to the dead letters") {
  for (std::size_t workers : {1, 2}) {
    CAPTURE(workers);
    Runtime runtime({.workers = workers});
    runtime.deploy(plan(R"(name: wired
nodes:
  check: {component: fail_if_bad}
  good: {component: collect}
  failed: {component: sink}
edges:
  - check -> good
  - check.error -> failed
)"));
    runtime.deploy(plan("name: unwired\npipeline: [check, good]\nnodes:\n"
                        "  check: {component: fail_if_bad}\n  good: {component: collect}\n"));
    auto mixed = [] {
      auto packets = numbered(10);
      packets[3].set("bad", true);
      packets[7].set("bad", true);
      return packets;
    };
    StreamResult wired = run_stream(runtime, "wired", mixed());
    CHECK(wired.sinks["good"] == 8);
    CHECK(wired.sinks["failed"] == 2);
    CHECK(wired.error_count == 2);
    CHECK(runtime.dead_letters("wired").empty());

    StreamResult unwired = run_stream(runtime, "unwired", mixed());
    CHECK(unwired.sinks["good"] == 8);  // the graph kept running after the failures
    CHECK(unwired.error_count == 2);
    REQUIRE(unwired.errors.size() == 2);
    CHECK(unwired.errors[0].node == "unwired/check");
    CHECK(unwired.errors[0].message == "bad packet 3");
    auto letters = runtime.dead_letters("unwired");
    REQUIRE(letters.size() == 2);
    CHECK(letters[0].node == "check");
    CHECK(letters[0].packet.get_meta("error")->as_string() == "bad packet 3");
    CHECK(letters[0].packet.get_meta("error_node")->as_string() == "unwired/check");
    CHECK(runtime.stats("unwired")->nodes[0].errors == 2);
  }
}

TEST_CASE("dead letters are bounded in bytes: the oldest go first, the newest stays even when alone too large") {
  DeadLetterStore store(10000, 1 << 20);
  const auto blob = [](int n, std::size_t bytes) {
    Packet p;
    p.set("n", n);
    p.set("blob", std::string(bytes, 'x'));
    return p;
  };
  for (int i = 0; i < 30; ++i) store.add("g/a", "failed", blob(i, 100 << 10));
  // 1 MiB holds ten of 100 KiB and their bookkeeping, not eleven.
  CHECK(store.size() == 10);
  CHECK(store.dropped() == 20);
  CHECK(store.list().front().packet.get("n")->as_int() == 20);
  CHECK(store.take({}).size() == 10);  // taking them frees their bytes
  for (int i = 0; i < 10; ++i) store.add("g/a", "failed", blob(i, 100 << 10));
  CHECK(store.size() == 10);
  CHECK(store.dropped() == 20);
  store.add("g/a", "failed", blob(99, 2 << 20));
  REQUIRE(store.size() == 1);
  CHECK(store.list().front().packet.get("n")->as_int() == 99);
}

TEST_CASE("dead letters with a journal survive a new store on the same file: taken ones stay gone, put back ones return, a torn last line is skipped") {
  const auto dir = std::filesystem::temp_directory_path() / ("sluice-dead-letters-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto journal = dir / "dead-letters" / "g.jsonl";
  const auto letter = [](int n) {
    Packet p;
    p.set("n", n);
    p.set_meta("error", "bad packet " + std::to_string(n));
    return p;
  };
  {
    DeadLetterStore store(10000, 1 << 20, journal);
    for (int i = 1; i <= 4; ++i) store.add("g/check", "bad packet " + std::to_string(i), letter(i));
    CHECK(store.take({2}).size() == 1);
    auto refused = store.take({3});
    store.put_back(std::move(refused));  // a replay that was refused
  }  // as a kill would leave it: nothing is written at the end
  {
    DeadLetterStore store(10000, 1 << 20, journal);
    const auto letters = store.list();
    REQUIRE(letters.size() == 3);
    CHECK(letters[0].id == 1);
    CHECK(letters[1].id == 3);
    CHECK(letters[2].id == 4);
    CHECK(letters[1].node == "g/check");
    CHECK(letters[1].error == "bad packet 3");
    CHECK(letters[1].packet == letter(3));
    store.add("g/check", "bad packet 5", letter(5));
    CHECK(store.list().back().id == 5);  // ids go on after the loaded ones
  }
  // A crash in the middle of a write leaves a torn line, and a damaged one may lack its keys:
  // the rest loads.
  std::ofstream(journal, std::ios::app) << "{\"add\": 8}\n[1, 2]\n" << R"({"add":9,"node":"g/check","err)";
  {
    DeadLetterStore store(10000, 1 << 20, journal);
    CHECK(store.size() == 4);
    // The bounds hold for what is loaded too.
  }
  {
    DeadLetterStore store(2, 1 << 20, journal);
    CHECK(store.size() == 2);
    CHECK(store.list().front().id == 4);
    store.discard_journal();
  }
  CHECK_FALSE(std::filesystem::exists(journal));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a runtime with a state directory keeps a graph's dead letters across a restart; deleting the graph deletes them") {
  const auto dir = std::filesystem::temp_directory_path() / ("sluice-dead-letters-rt-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const std::string yaml = "name: g\npipeline: [check, good]\nnodes:\n  check: {component: fail_if_bad}\n  good: {component: collect}\n";
  {
    Runtime runtime({.workers = 1, .state_dir = dir.string()});
    runtime.deploy(plan(yaml));
    auto packets = numbered(3);
    packets[0].set("bad", true);
    packets[2].set("bad", true);
    run_stream(runtime, "g", std::move(packets));
    REQUIRE(runtime.dead_letters("g").size() == 2);
  }
  {
    Runtime runtime({.workers = 1, .state_dir = dir.string()});
    runtime.deploy(plan(yaml));
    const auto letters = runtime.dead_letters("g");
    REQUIRE(letters.size() == 2);
    CHECK(letters[0].packet.get("n")->as_int() == 0);
    CHECK(letters[1].packet.get("n")->as_int() == 2);
    CHECK(runtime.undeploy("g"));
  }
  Runtime runtime({.workers = 1, .state_dir = dir.string()});
  runtime.deploy(plan(yaml));
  CHECK(runtime.dead_letters("g").empty());
  runtime.shutdown();
  std::filesystem::remove_all(dir);
}

TEST_CASE("dead letters can be replayed into a node") {
  Runtime runtime({.workers = 1});
  runtime.deploy(plan("name: g\npipeline: [check, good]\nnodes:\n"
                      "  check: {component: fail_if_bad}\n  good: {component: collect}\n"));
  auto packets = numbered(3);
  packets[1].set("bad", true);
  run_stream(runtime, "g", std::move(packets));
  REQUIRE(runtime.dead_letters("g").size() == 1);
  // Replayed straight into `good`, past the failing check.
  auto admission = runtime.replay_dead_letters("g", {}, "good");
  REQUIRE(admission.status == Admission::Status::accepted);
  CHECK(admission.accepted == 1);
  CHECK(runtime.dead_letters("g").empty());
  REQUIRE(eventually([&] {
    auto s = runtime.stream(admission.stream_id);
    return s && s->state == StreamResult::State::done;
  }));
  auto replayed = runtime.stream(admission.stream_id);
  REQUIRE(replayed->results.size() == 1);
  CHECK(replayed->results[0].get("n")->as_int() == 1);
  CHECK_FALSE(replayed->results[0].has_meta("error"));
}

TEST_CASE("a refused replay leaves every dead letter in the store, as it was; a later replay finds them all") {
  Runtime runtime({.workers = 1});
  runtime.deploy(plan("name: g\npipeline: [check, good]\nnodes:\n"
                      "  check: {component: fail_if_bad}\n  good: {component: collect}\n"));
  auto packets = numbered(5);
  for (auto& p : packets) p.set("bad", true);
  run_stream(runtime, "g", std::move(packets));
  const auto before = runtime.dead_letters("g");
  REQUIRE(before.size() == 5);
  // Into a node the graph does not have: refused, and nothing is lost or changed.
  CHECK(runtime.replay_dead_letters("g", {}, "nowhere").status == Admission::Status::no_such_node);
  const auto after = runtime.dead_letters("g");
  REQUIRE(after.size() == 5);
  for (std::size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].id == before[i].id);
    CHECK(after[i].node == before[i].node);
    CHECK(after[i].error == before[i].error);
    CHECK(after[i].packet == before[i].packet);
  }
  auto admission = runtime.replay_dead_letters("g", {}, "good");
  REQUIRE(admission.status == Admission::Status::accepted);
  CHECK(admission.accepted == 5);
  CHECK(runtime.dead_letters("g").empty());
  REQUIRE(eventually([&] {
    auto s = runtime.stream(admission.stream_id);
    return s && s->state == StreamResult::State::done;
  }));
  CHECK(runtime.stream(admission.stream_id)->results.size() == 5);
}

TEST_CASE("a stream completes through splits, drops and errors, with counts") {
  for (std::size_t workers : {1, 2}) {
    CAPTURE(workers);
    Runtime runtime({.workers = workers});
    runtime.deploy(plan(R"(name: s
pipeline: [split, evens, check, out]
nodes:
  split: {component: split}
  evens: {component: drop_odd}
  check: {component: fail_if_bad}
  out: {component: collect}
)"));
    std::vector<Packet> packets;
    for (int i = 0; i < 4; ++i) {
      Packet p;
      p.set("items", Array{0, 1, 2, 3, 4});  // 5 children: 3 even
      packets.push_back(std::move(p));
    }
    StreamResult r = run_stream(runtime, "s", std::move(packets));
    CHECK(r.accepted == 4);
    CHECK(r.sinks["out"] == 12);
    CHECK(r.dropped == 8);
    CHECK(r.error_count == 0);
    CHECK(r.results.size() == 12);
    auto status = runtime.stream(r.id);
    REQUIRE(status);
    CHECK(status->state == StreamResult::State::done);
    CHECK(status->sinks["out"] == 12);
  }
}

TEST_CASE("an empty submission completes at once") {
  Runtime runtime({.workers = 1});
  runtime.deploy(plan("name: g\npipeline: [a]\nnodes:\n  a: {component: collect}\n"));
  StreamResult r = run_stream(runtime, "g", {});
  CHECK(r.state == StreamResult::State::done);
  CHECK(r.accepted == 0);
}

TEST_CASE("a fast source flooding a slow sink keeps in-flight packets within the edge capacities") {
  for (std::size_t workers : {1, 2}) {
    CAPTURE(workers);
    max_in_flight_seen = 0;
    Runtime runtime({.workers = workers});
    runtime.deploy(plan(R"(name: flood
nodes:
  source: {component: enter}
  mid: {component: pass}
  slow: {component: slow_exit}
edges:
  - {from: source, to: mid, capacity: 8}
  - {from: mid, to: slow, capacity: 8}
)"));
    std::vector<std::future<StreamResult>> streams;
    for (int i = 0; i < 4; ++i)
      streams.push_back(std::async(std::launch::async, [&] { return run_stream(runtime, "flood", numbered(5000)); }));
    std::size_t through = 0;
    for (auto& s : streams) through += s.get().sinks["slow"];
    CHECK(through == 20000);
    // Per instance: two edges of 8, plus one packet held by each of the three nodes.
    CHECK(max_in_flight_seen.load() <= 8 + 8 + 3);
    CHECK(max_in_flight_seen.load() > 0);
  }
}

TEST_CASE("downstream nodes run first: new input does not run far ahead") {
  max_in_flight_seen = 0;
  Runtime runtime({.workers = 1});
  // Large edges: only the scheduler keeps the source from racing ahead of the sink.
  runtime.deploy(plan(R"(name: prio
nodes:
  source: {component: enter}
  mid: {component: pass}
  slow: {component: slow_exit}
edges:
  - {from: source, to: mid, capacity: 4096}
  - {from: mid, to: slow, capacity: 4096}
)"));
  StreamResult r = run_stream(runtime, "prio", numbered(20000));
  CHECK(r.sinks["slow"] == 20000);
  // A producer yields to its (higher-ranked) consumer every 32 packets.
  CHECK(max_in_flight_seen.load() <= 2 * 32 + 3);
}

TEST_CASE("a constructor that throws fails the deploy with its message, leaving the old graph") {
  Runtime runtime({.workers = 2});
  runtime.deploy(plan("name: g\npipeline: [a]\nnodes:\n  a: {component: collect}\n"));
  try {
    runtime.deploy(plan("name: g\npipeline: [x, a]\nnodes:\n  x: {component: explodes}\n"
                        "  a: {component: collect}\n"));
    FAIL("deploy should have thrown");
  } catch (const DeployError& e) {
    CHECK(std::string(e.what()) == "g/x: explodes failed to start: model file missing");
  }
  CHECK(run_stream(runtime, "g", numbered(3)).sinks["a"] == 3);
}

TEST_CASE("redeploy drains the old version: nothing admitted is lost") {
  for (std::size_t workers : {1, 2}) {
    CAPTURE(workers);
    gate_open = false;
    Runtime runtime({.workers = workers});
    const std::string yaml = "name: g\npipeline: [gate, out]\nnodes:\n  gate: {component: gate}\n"
                             "  out: {component: collect}\n";
    runtime.deploy(plan(yaml));
    std::atomic<int> completed{0};
    std::atomic<std::size_t> delivered{0};
    for (int i = 0; i < 10; ++i) {
      auto a = runtime.submit("g", numbered(100), [&](const StreamResult& r) {
        delivered += r.sinks.count("out") ? r.sinks.at("out") : 0;
        ++completed;
      });
      REQUIRE(a.status == Admission::Status::accepted);
    }
    // Redeploy while the old instances hold 1000 packets behind the gate.
    std::thread redeploy([&] { runtime.deploy(plan(yaml)); });
    gate_open = true;
    redeploy.join();
    REQUIRE(eventually([&] { return completed == 10; }));
    CHECK(delivered == 1000);
    CHECK(run_stream(runtime, "g", numbered(5)).sinks["out"] == 5);
  }
}

TEST_CASE("a blocking component does not stall other graphs on its worker") {
  sleeper_done = 0;
  Runtime runtime({.workers = 1});
  runtime.deploy(plan("name: slow\npipeline: [s]\nnodes:\n  s: {component: sleeper}\n"));
  runtime.deploy(plan("name: fast\npipeline: [a, out]\nnodes:\n  a: {component: pass}\n"
                      "  out: {component: collect}\n"));
  auto slow = runtime.submit("slow", numbered(3));
  REQUIRE(slow.status == Admission::Status::accepted);
  StreamResult fast = run_stream(runtime, "fast", numbered(1000));
  CHECK(fast.sinks["out"] == 1000);
  // The fast graph finished while the sleeper still had packets to go.
  CHECK(sleeper_done < 3);
  REQUIRE(eventually([&] { return runtime.stream(slow.stream_id)->state == StreamResult::State::done; }));
  CHECK(sleeper_done == 3);
}

TEST_CASE("a runtime's blocking work goes to its own I/O pool, whatever other runtimes start and stop") {
  blocking_moved = 0;
  blocking_inline = 0;
  Runtime runtime({.workers = 1});
  runtime.deploy(plan("name: g\npipeline: [b, out]\nnodes:\n  b: {component: blocking_probe}\n"
                      "  out: {component: collect}\n"));
  CHECK(run_stream(runtime, "g", numbered(5)).sinks["out"] == 5);
  {
    // Another runtime (a test's, `sluice check`'s probe of a graph) comes and goes.
    Runtime other({.workers = 1});
    CHECK(run_stream(runtime, "g", numbered(5)).sinks["out"] == 5);
  }
  CHECK(run_stream(runtime, "g", numbered(5)).sinks["out"] == 5);
  CHECK(blocking_moved == 15);
  CHECK(blocking_inline == 0);
  // Off the workers there is no pool to wait for: the work runs where it is called.
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id ran;
  io::run_blocking([&] { ran = std::this_thread::get_id(); });
  CHECK(ran == caller);
}

TEST_CASE("a full ingress refuses with overloaded, never queueing without bound") {
  gate_open = false;
  Runtime runtime({.workers = 1, .max_queued_packets = 100});
  runtime.deploy(plan("name: g\npipeline: [gate, out]\nnodes:\n  gate: {component: gate}\n"
                      "  out: {component: sink}\n"));
  // The gate holds everything: its input queue fills, then the ingress counts up and stays up.
  // (Before that a refusal can be momentary: the submitter outran the worker, which then takes
  // the packets into the gate's queue.)
  int accepted = 0;
  Admission last;
  for (int i = 0; i < 200; ++i) {
    last = runtime.submit("g", numbered(50));
    if (last.status == Admission::Status::accepted)
      ++accepted;
    else if (runtime.load() > 0.5)
      break;
  }
  CHECK(last.status == Admission::Status::overloaded);
  CHECK(runtime.load() > 0.5);
  // Bounded: the gate's queue, the packet in its hands, and the ingress limit (plus one
  // submission, taken when nothing waited).
  CHECK(accepted * 50 <= static_cast<int>(default_edge_capacity) + 1 + 100 + 50);
  gate_open = true;
  runtime.shutdown();
}

TEST_CASE("one-packet submissions are refused by the packet bound, not by a count of submissions") {
  gate_open = false;
  Runtime runtime({.workers = 1, .max_queued_packets = 2000});
  runtime.deploy(plan("name: g\npipeline: [gate, out]\nnodes:\n  gate: {component: gate}\n"
                      "  out: {component: sink}\n"));
  // Submits until refused with the gate's input queue full (a refusal before that can be
  // momentary: the worker then takes packets into that queue).
  int submitted = 0;
  Admission last;
  REQUIRE(eventually([&] {
    last = runtime.submit("g", numbered(1));
    ++submitted;
    return last.status != Admission::Status::accepted && runtime.stats("g")->queued > 0 &&
           runtime.stats("g")->nodes[0].queue_depth >= default_edge_capacity;
  }));
  CHECK(last.status == Admission::Status::overloaded);
  // Refused only once the packets waiting reach the bound: every submission is one packet, so
  // a count of submissions below it (a channel of 256 slots) must not refuse first.
  const GraphStats stats = *runtime.stats("g");
  CHECK_MESSAGE(stats.queued >= 1999, stats.queued << " packets queued when refused, after " << submitted);
  CHECK(stats.queued <= 2000);
  gate_open = true;
  runtime.shutdown();
}

std::vector<Packet> blobs(int count, std::size_t bytes) {
  std::vector<Packet> packets;
  for (int i = 0; i < count; ++i) {
    Packet p;
    p.set("n", i);
    p.set("blob", std::string(bytes, 'x'));
    packets.push_back(std::move(p));
  }
  return packets;
}

TEST_CASE("the ingress refuses by bytes too: large packets never queue without bound") {
  gate_open = false;
  constexpr std::size_t blob = 100 << 10;
  // A count bound the test never reaches: only the byte bounds can refuse.
  Runtime runtime({.workers = 1, .max_queued_packets = 1 << 20, .max_queued_bytes = 4 << 20});
  runtime.deploy(plan("name: g\npipeline: [gate, out]\nnodes:\n  gate: {component: gate}\n"
                      "  out: {component: sink}\n"));
  // Submits until refused while the gate's input queue is full as well (a refusal before that
  // can be momentary: the worker then takes packets into that queue). 40 MB at most.
  int accepted = 0, submitted = 0;
  REQUIRE(eventually([&] {
    if (submitted++ == 400) return true;
    if (runtime.submit("g", blobs(1, blob)).status == Admission::Status::accepted) {
      ++accepted;
      return false;
    }
    return runtime.stats("g")->nodes[0].queue_bytes > default_edge_capacity_bytes - 2 * blob;
  }));
  CHECK(submitted <= 400);
  CHECK(runtime.load() > 0.5);
  const GraphStats stats = *runtime.stats("g");
  CHECK(stats.queued_bytes > 3u << 20);
  CHECK(stats.queued_bytes <= 4u << 20);
  // The gate's input queue holds at most its byte bound, beside the packet in the gate's hands.
  CHECK(stats.nodes[0].queue_bytes <= default_edge_capacity_bytes);
  CHECK(stats.nodes[0].queue_bytes > default_edge_capacity_bytes - 2 * blob);
  MESSAGE(accepted << " packets of 100 KiB accepted");
  CHECK(static_cast<std::size_t>(accepted) * blob <= default_edge_capacity_bytes + (4 << 20) + 2 * blob);
  gate_open = true;
  runtime.shutdown();
}

TEST_CASE("an edge holds packets up to its capacity_bytes; a packet larger than that passes alone") {
  gate_open = false;
  counted = 0;
  Runtime runtime({.workers = 1});
  runtime.deploy(plan("name: g\nnodes:\n  a: {component: pass}\n  gate: {component: gate}\n"
                      "  out: {component: counting_sink}\n"
                      "edges:\n  - {from: a, to: gate, capacity_bytes: 1MiB}\n  - gate -> out\n"));
  constexpr std::size_t blob = 100 << 10;
  auto admitted = runtime.submit("g", blobs(30, blob));
  REQUIRE(admitted.status == Admission::Status::accepted);
  const auto node = [&](const char* id) {
    const GraphStats stats = *runtime.stats("g");
    for (const NodeStats& n : stats.nodes)
      if (n.node == id) return n;
    FAIL("no node " << id);
    return NodeStats{};
  };
  // The gate holds one packet; ten more fill its 1 MiB input (eleven would not fit), and the
  // twelfth waits in `a` for room.
  const bool filled = eventually([&] { return node("gate").in == 1 && node("a").in == 12; });
  const NodeStats gate = node("gate");
  gate_open = !filled;  // a failed test must not hang at shutdown
  REQUIRE(filled);
  CHECK(gate.queue_depth == 10);
  CHECK(gate.queue_bytes <= 1u << 20);
  CHECK(gate.queue_bytes > 10 * blob);
  // One packet of 2 MiB enters the emptied queue on its own.
  auto large = runtime.submit("g", blobs(1, 2 << 20));
  REQUIRE(large.status == Admission::Status::accepted);
  gate_open = true;
  REQUIRE(eventually([&] { return counted == 31; }));
  runtime.shutdown();
}

TEST_CASE("unknown graph or node, and shutdown, are refused") {
  Runtime runtime({.workers = 1});
  runtime.deploy(plan("name: g\npipeline: [a]\nnodes:\n  a: {component: sink}\n"));
  CHECK(runtime.submit("nope", numbered(1)).status == Admission::Status::no_such_graph);
  CHECK(runtime.submit("g", numbered(1), {}, "zz").status == Admission::Status::no_such_node);
  CHECK(runtime.graphs_using({"sink"}) == std::vector<std::string>{"g"});
  CHECK(runtime.graphs_using({"pass"}).empty());
  CHECK(runtime.undeploy("g"));
  CHECK_FALSE(runtime.undeploy("g"));
  runtime.shutdown();
  CHECK(runtime.submit("g", numbered(1)).status == Admission::Status::shutting_down);
}

TEST_CASE("shutdown drains what was admitted") {
  for (std::size_t workers : {1, 2}) {
    CAPTURE(workers);
    Runtime runtime({.workers = workers});
    runtime.deploy(plan("name: g\npipeline: [a, out]\nnodes:\n  a: {component: pass}\n"
                        "  out: {component: sink}\n"));
    std::atomic<std::size_t> through{0};
    for (int i = 0; i < 20; ++i)
      runtime.submit("g", numbered(500), [&](const StreamResult& r) { through += r.sinks.at("out"); });
    runtime.shutdown();
    CHECK(through == 10000);
  }
}

// The redeploy race: submit() and stats() read a deployed graph's instances while a redeploy
// drains that version on another thread. Every submission must be accepted (a draining version
// hands it to the new one) and every accepted packet must come out, with no use after free
// (the TSan and ASan builds in CI run this test too).
TEST_CASE("redeploys under concurrent submissions and stats lose nothing and refuse nothing") {
  for (std::size_t workers : {1, 2}) {
    CAPTURE(workers);
    Runtime runtime({.workers = workers});
    const std::string yaml = "name: g\npipeline: [a, b, out]\nnodes:\n  a: {component: pass}\n"
                             "  b: {component: pass}\n  out: {component: sink}\n";
    runtime.deploy(plan(yaml));
    std::atomic<bool> redeploying{true}, stats_wrong{false};
    std::atomic<std::size_t> accepted{0}, refused{0}, through{0}, completed{0}, submissions{0};
    std::atomic<std::size_t> stats_read{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 3; ++c)
      clients.emplace_back([&] {
        // At most 8 streams in flight per client: far below the ingress limit, so that any
        // refusal is the redeploy's doing, not overload.
        std::atomic<int> in_flight{0};
        while (redeploying) {
          if (in_flight >= 8) {
            std::this_thread::yield();
            continue;
          }
          ++in_flight;
          Admission a = runtime.submit("g", numbered(4), [&](const StreamResult& r) {
            through += r.sinks.count("out") ? r.sinks.at("out") : 0;
            ++completed;
            --in_flight;
          });
          ++submissions;
          if (a.status == Admission::Status::accepted) {
            accepted += a.accepted;
          } else {
            ++refused;
            --in_flight;
          }
        }
        while (in_flight > 0) std::this_thread::yield();
      });
    clients.emplace_back([&] {
      while (redeploying) {
        auto stats = runtime.stats("g");
        if (!stats || stats->nodes.size() != 3) stats_wrong = true;
        ++stats_read;
      }
    });
    const int redeploys = 1000;
    for (int i = 0; i < redeploys; ++i) runtime.deploy(plan(yaml));
    redeploying = false;
    for (auto& client : clients) client.join();
    MESSAGE(redeploys << " redeploys, " << submissions.load() << " submissions, " << stats_read.load()
                      << " stats reads at " << workers << " workers");
    CHECK(completed == submissions - refused);
    CHECK(refused == 0);
    CHECK(through == accepted);
    CHECK(accepted > 0);
    CHECK_FALSE(stats_wrong);
    runtime.shutdown();
  }
}

TEST_CASE("node counters: out once per packet however many edges copy it, error-port packets in errors, filtered ones and those to an unwired port dropped, by port, in the stats and in the stream") {
  Runtime runtime({.workers = 1});
  runtime.deploy(plan(R"(name: counted
nodes:
  split: {component: pass}
  left: {component: drop_odd}
  right: {component: fail_if_bad}
  sorted: {component: parity}
  out: {component: collect}
  failed: {component: collect}
edges: [split -> left, split -> right, split -> sorted, left -> out, right -> out, sorted.even -> out, right.error -> failed]
)"));
  std::vector<Packet> packets;
  for (int n = 0; n < 10; ++n) {
    Packet p;
    p.set("n", n);
    p.set("bad", n < 3);
    packets.push_back(std::move(p));
  }
  const StreamResult result = run_stream(runtime, "counted", std::move(packets));
  // The stream says the same of its own packets: where each one that reached no sink left.
  CHECK(result.dropped == 10);
  using Causes = std::map<std::string, std::size_t>;
  CHECK(result.dropped_at == std::map<std::string, Causes>{{"left", {{"(filtered)", 5}}}, {"sorted", {{"odd", 5}}}});
  const auto stats = runtime.stats("counted");
  REQUIRE(stats);
  const auto node = [&](std::string_view id) {
    for (const auto& n : stats->nodes)
      if (n.node == id) return n;
    FAIL("no node " << id);
    return NodeStats{};
  };
  CHECK(node("split").out == 10);  // to two edges, counted once
  CHECK(node("left").in == 10);
  CHECK(node("left").out == 5);
  CHECK(node("left").dropped == 5);  // filtered
  CHECK(node("left").dropped_by_port == std::map<std::string, std::uint64_t>{{"(filtered)", 5}});
  CHECK(node("right").out == 7);
  CHECK(node("right").errors == 3);  // to its error port: not in out, not dropped
  CHECK(node("right").dropped == 0);
  CHECK(node("right").dropped_by_port.empty());
  CHECK(node("sorted").out == 5);  // even, wired
  CHECK(node("sorted").dropped == 5);
  CHECK(node("sorted").dropped_by_port == std::map<std::string, std::uint64_t>{{"odd", 5}});
  CHECK(node("failed").in == 3);
}

// ---- sources --------------------------------------------------------------------------------

static void check_stopped_with_everything_acked() {
  CHECK(sources_running.load() == 0);
  CHECK(source_acked.load() == source_sent.load());
  CHECK(counted.load() == source_sent.load());
}

TEST_CASE("a source's packets go through the graph, one stream per send, acked once done") {
  for (std::size_t workers : {1, 2}) {
    CAPTURE(workers);
    reset_source_counters();
    Runtime runtime({.workers = workers});
    runtime.deploy(plan("name: fed\npipeline: [numbers, mid, sink]\nnodes:\n"
                        "  numbers: {component: number_source, params: {batches: 50, batch: 20}}\n"
                        "  mid: {component: pass}\n  sink: {component: counting_sink}\n"));
    REQUIRE(eventually([] { return source_streams_acked.load() == 50; }));
    CHECK(counted.load() == 1000);
    CHECK(source_acked.load() == 1000);
    CHECK_FALSE(ack_before_sink.load());
    // The source node shows in the stats like any other: what it sent went in and out of it.
    auto stats = runtime.stats("fed");
    REQUIRE(stats);
    CHECK(stats->nodes[0].node == "numbers");
    CHECK(stats->nodes[0].component == "number_source");
    CHECK(stats->nodes[0].in == 1000);
    CHECK(stats->nodes[0].out == 1000);
  }
}

TEST_CASE("a source's packet with meta error goes to the error port, counted in its stream's outcome") {
  reset_source_counters();
  Runtime runtime({.workers = 2});
  runtime.deploy(plan("name: failing\npipeline: [numbers, sink]\nnodes:\n"
                      "  numbers: {component: number_source, params: {batches: 10, batch: 5, failing: 2}}\n"
                      "  sink: {component: counting_sink}\n"));
  REQUIRE(eventually([] { return source_streams_acked.load() == 10; }));
  CHECK(counted.load() == 30);
  CHECK(source_errors.load() == 20);
  CHECK(source_acked.load() == 50);
}

TEST_CASE("a source is held back by a stuck sink: its packets in the graph stay bounded") {
  reset_source_counters();
  gate_open = false;
  Runtime runtime({.workers = 2, .max_source_in_flight = 64});
  runtime.deploy(plan("name: held\npipeline: [numbers, gate, sink]\nnodes:\n"
                      "  numbers: {component: number_source, params: {batch: 8}}\n"
                      "  gate: {component: gate}\n  sink: {component: counting_sink}\n"));
  // 64 packets go in; the ninth batch waits in send() until some are done, which the closed
  // gate prevents.
  REQUIRE(eventually([] { return source_sent.load() == 72; }));
  CHECK(runtime.stats("held")->nodes[0].in <= 64);
  CHECK(source_acked.load() == 0);
  gate_open = true;
  REQUIRE(eventually([] { return source_acked.load() >= 640; }));
  CHECK_FALSE(ack_before_sink.load());
  runtime.shutdown();
  // Shutdown stopped the source (its waiting send returned false) and drained what it had sent.
  check_stopped_with_everything_acked();
}

TEST_CASE("undeploy stops a source and completes, and acks, every stream it sent") {
  reset_source_counters();
  Runtime runtime({.workers = 2});
  runtime.deploy(plan("name: endless\npipeline: [numbers, sink]\nnodes:\n"
                      "  numbers: {component: number_source}\n  sink: {component: counting_sink}\n"));
  REQUIRE(eventually([] { return source_acked.load() > 1000; }));
  CHECK(runtime.undeploy("endless"));
  check_stopped_with_everything_acked();
}

TEST_CASE("redeploy stops the old source and acks its streams before the new one starts") {
  reset_source_counters();
  Runtime runtime({.workers = 2});
  const std::string yaml = "name: again\npipeline: [numbers, sink]\nnodes:\n"
                           "  numbers: {component: number_source}\n  sink: {component: counting_sink}\n";
  runtime.deploy(plan(yaml));
  REQUIRE(eventually([] { return source_acked.load() > 500; }));
  runtime.deploy(plan(yaml));
  REQUIRE(eventually([] { return source_starts.load() == 2; }));
  CHECK(sources_overlapping.load() == 0);
  // Everything the first source sent was acked before the second one began.
  CHECK(sent_when_last_source_started.load() > 500);
  CHECK(acked_when_last_source_started.load() == sent_when_last_source_started.load());
  CHECK(runtime.undeploy("again"));
  CHECK(source_acked.load() == source_sent.load());
}

TEST_CASE("a graph fed only by a source refuses posted data, and a source takes no edges") {
  reset_source_counters();
  Runtime runtime({.workers = 1});
  runtime.deploy(plan("name: only\npipeline: [numbers, sink]\nnodes:\n"
                      "  numbers: {component: number_source, params: {batches: 1}}\n"
                      "  sink: {component: counting_sink}\n"));
  CHECK(runtime.submit("only", numbered(1)).status == Admission::Status::no_entry_node);
  // Posted data and a source may feed the same graph.
  runtime.deploy(plan("name: both\nnodes:\n  numbers: {component: number_source, params: {batches: 1}}\n"
                      "  posted: {component: pass}\n  sink: {component: counting_sink}\n"
                      "edges:\n  - {from: numbers, to: sink}\n  - {from: posted, to: sink}\n"));
  StreamResult r = run_stream(runtime, "both", numbered(5));
  CHECK(r.sinks["sink"] == 5);

  static TestCatalog catalog;
  std::vector<Diagnostic> errors;
  GraphSpec spec = parse_graph("name: into\npipeline: [a, numbers]\nnodes:\n  a: {component: pass}\n"
                               "  numbers: {component: number_source}\n",
                               "into.yaml", errors);
  CHECK_FALSE(plan_graph(spec, catalog, errors));
  REQUIRE(errors.size() == 1);
  CHECK(format(errors[0]).find("node 'numbers' (number_source) is a source and has no input ports") !=
        std::string::npos);
}

TEST_CASE("a source gets a state directory of its own under the runtime's") {
  reset_source_counters();
  const auto dir = std::filesystem::temp_directory_path() / ("sluice-source-state-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    Runtime runtime({.workers = 1, .state_dir = dir.string()});
    runtime.deploy(plan("name: kept\npipeline: [numbers, sink]\nnodes:\n"
                        "  numbers: {component: number_source, params: {batches: 1}}\n"
                        "  sink: {component: counting_sink}\n"));
    CHECK(std::filesystem::is_directory(dir / "sources" / "kept" / "numbers"));
  }
  std::filesystem::remove_all(dir);
}
