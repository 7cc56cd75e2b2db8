// sluice::Component — what a plugin implements, and its static self-description.
//
//   class Upper : public sluice::Component {
//    public:
//     static sluice::ComponentDescriptor descriptor() {
//       return {.name = "upper", .version = "1.0.0", .summary = "Upper-cases a field",
//               .kind = sluice::ComponentKind::transformer,
//               .params = {{.name = "field", .type = sluice::ParamType::string,
//                           .description = "field to change", .required = true}}};
//     }
//     explicit Upper(const sluice::Params& params) : field_(params.get_string("field")) {}
//     void process(sluice::Packet& packet, sluice::Emitter& emit) override {
//       if (auto* v = packet.get(field_); v && v->is_string()) to_upper(v->as_string());
//       emit(std::move(packet));
//     }
//    private:
//     std::string field_;
//   };
//
// Two styles:
//  - process(packet, emit): called once per input packet; emit 0..n packets to any out port.
//    Throwing sends the packet (in whatever state it was left) to the node's `error` port, or
//    to the graph's dead letters; the graph keeps running.
//  - run(ctx): the component's own loop on its own fiber, for joins, batches, windows and
//    timers: `while (ctx.receive(r, deadline)) ...`. When the inputs close, run returns.
// flush(emit) is called once when the inputs close (drain, undeploy, shutdown): emit what is
// held back, flush files.
//
// A source (kind `source`, no inputs) makes its own packets instead: produce(ctx) runs on a
// thread of its own, one per deployed graph, from deploy until it returns or is told to stop
// (undeploy, redeploy, shutdown):
//
//   void produce(sluice::SourceContext& ctx) override {
//     while (ctx.sleep_until(ctx.now() + interval_)) {
//       std::vector<sluice::Packet> batch = read_some();
//       // One stream; waits while the graph is full. on_done runs once the stream is through
//       // the graph (its sinks durable): only then is the upstream told (offset, ledger, ack).
//       if (!ctx.send(std::move(batch), [this, mark](const sluice::StreamOutcome&) { ack(mark); }))
//         return;  // stopping
//     }
//   }
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/log.hpp"
#include "sluice/packet.hpp"
#include "sluice/value.hpp"

namespace sluice {

enum class ComponentKind { adapter, transformer, filter, extractor, operator_, publisher, source };
const char* to_string(ComponentKind kind);  // "operator" for operator_
std::optional<ComponentKind> parse_component_kind(std::string_view text);

enum class ParamType {
  boolean,
  integer,
  number,       // integer or floating point
  string,
  string_list,  // a list of strings; a single string is accepted as a list of one
  list,         // a list of any values
  object,
  any,
};
const char* to_string(ParamType type);

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::string;
  std::string description;
  bool required = false;
  Value default_value = nullptr;  // null: no default (the param is then absent unless given)
  std::vector<Value> allowed = {};  // empty: any value of the type
  std::optional<double> minimum = std::nullopt;  // integer/number: inclusive range
  std::optional<double> maximum = std::nullopt;
  // A file the component reads or writes (type string). The kernel resolves it before the
  // component sees it: `sluice serve` against its data root, refusing `..` and symlinks that
  // lead out of it (docs/security.md); `sluice run` against the working directory. The
  // component gets the resolved absolute path. Needs capability fs_read or fs_write.
  bool file_path = false;
  // An object param: the keys whose (string) values are files, each resolved as a file_path
  // param is (e.g. {"ca_file", "client_key"} of a `tls` object). Needs fs_read or fs_write.
  std::vector<std::string> file_keys = {};
  // Never shown back (GET /v1/graphs/{g}, logs, error messages): a literal shows as "***".
  // Its strings may hold ${env:NAME} and ${file:PATH} references, replaced at deploy (see
  // docs/graphs.md), so that the graph itself need not hold the secret.
  bool secret = false;
};

struct PortSpec {
  std::string name;
  std::string description;
};

// Validated parameters of one node: every declared param with a default is present.
class Params {
 public:
  Params() = default;
  explicit Params(Object values) : values_(std::move(values)) {}

  bool has(std::string_view name) const;  // present and not null
  // Typed getters throw std::invalid_argument naming the param when absent or mistyped.
  const Value& get(std::string_view name) const;
  std::string get_string(std::string_view name) const;
  std::int64_t get_int(std::string_view name) const;
  double get_number(std::string_view name) const;
  bool get_bool(std::string_view name) const;
  // A string param of exactly one character (a delimiter, a quote).
  char get_char(std::string_view name) const;
  std::vector<std::string> get_string_list(std::string_view name) const;
  // Fallback variants for optional params without a default.
  std::string get_string(std::string_view name, std::string_view fallback) const;
  std::int64_t get_int(std::string_view name, std::int64_t fallback) const;

  const Object& values() const { return values_; }

 private:
  Object values_;
};

class Component;
class RunContext;

using ComponentFactory =
    std::function<std::unique_ptr<Component>(const Params& params, std::string& error)>;

// A worked example of a component for its catalogue entry (docs/components.md, `sluice plugins
// describe`, GET /v1/components). tests/cli runs every one: the node with these params passes
// `sluice check`, and where `output` is given, `sluice run` of `input` through the node alone
// prints exactly `output`.
struct ComponentExample {
  std::string description = {};   // what the example shows, one sentence
  std::string params = {};        // the node's params as a YAML mapping ("" : all defaults)
  std::string input = {};         // packets in, one JSON object per line; raw text with content_type
  std::string content_type = {};  // "" : input is JSON lines; else one raw packet of this media type
  // What leaves the node's first out port, one JSON object per line ("" : nothing to show
  // from `sluice run`, e.g. a sink or a source of an outside system).
  std::string output = {};
};

struct ComponentDescriptor {
  std::string name;
  std::string version = "0.1.0";
  std::string summary;
  ComponentKind kind = ComponentKind::transformer;
  // Empty lists mean the defaults: one input `in` (none for sources); one output `out` (none
  // for publishers). A source has no inputs and one output. Every node also has an implicit
  // `error` out port, which a graph may wire.
  std::vector<PortSpec> inputs = {};
  std::vector<PortSpec> outputs = {};
  std::vector<ParamSpec> params = {};
  // The component calls blocking APIs (files, sockets, sleeps) in process(): the runtime then
  // runs its process() calls on the I/O pool so that the worker's other fibers keep running.
  bool blocking = false;
  // What the component reaches outside the packets, shown by `sluice plugins` so that an
  // operator knows what a graph may touch: "fs_read", "fs_write", "net".
  std::vector<std::string> capabilities = {};
  ComponentExample example = {};
  // Set by describe<T>(); never returns null without setting `error`.
  ComponentFactory create = {};
};

inline constexpr std::string_view error_port = "error";

// Fills in default ports (see ComponentDescriptor).
void apply_port_defaults(ComponentDescriptor& descriptor);

// The descriptor has an example (any of its fields set).
bool has_example(const ComponentDescriptor& descriptor);

// The closest candidate within a small edit distance, for "did you mean" hints ("" if none).
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

using Clock = std::chrono::steady_clock;

class Emitter {
 public:
  virtual ~Emitter() = default;
  // Out ports are numbered in descriptor order; 0 is the first (usually `out`).
  virtual void emit(std::size_t out_port, Packet&& packet) = 0;
  // Throws std::invalid_argument for a port the descriptor does not declare.
  virtual std::size_t out_port_index(std::string_view name) const = 0;

  // Hands a result back to whoever submitted the current packet's stream: the REST caller
  // waiting with ?wait=true, or `sluice run`'s output. (The `collect` component does this.)
  virtual void deliver(Packet&& result) = 0;
  // "graph/node" for messages.
  virtual const std::string& node_path() const = 0;
  // Lines in the server's log, prefixed with node_path() (sluice/log.hpp).
  NodeLog log() const { return NodeLog(node_path()); }

  void emit(Packet&& packet) { emit(0, std::move(packet)); }
  void emit(std::string_view out_port, Packet&& packet) {
    emit(out_port_index(out_port), std::move(packet));
  }
  void operator()(Packet&& packet) { emit(0, std::move(packet)); }
  void operator()(std::string_view out_port, Packet&& packet) {
    emit(out_port, std::move(packet));
  }
};

struct Received {
  std::size_t in_port = 0;  // descriptor order
  Packet packet;
};

enum class ReceiveStatus { packet, timeout, closed };

class RunContext : public Emitter {
 public:
  // Waits (suspending only this fiber) for the next packet on any input, until `deadline`.
  virtual ReceiveStatus receive(Received& into, Clock::time_point deadline) = 0;
  bool receive(Received& into) { return receive(into, Clock::time_point::max()) == ReceiveStatus::packet; }
  // Routes a packet that could not be processed to the error port or the dead letters.
  virtual void fail(Packet&& packet, std::string_view message) = 0;
  // The clock receive() deadlines refer to (a fake clock in the test harness).
  virtual Clock::time_point now() const = 0;
  virtual std::size_t in_port_index(std::string_view name) const = 0;
  // For components that keep packets past the next receive(): the packet last received stays
  // unfinished — its stream does not complete, so no one is told it is done — until
  // release_held(). A sink writing in batches calls release_held() once the batch is durable
  // (committed, synced); a crash before that replays the held packets (docs/durability.md).
  // An operator that combines packets (batch) holds each one it keeps, emits the combination
  // and then calls release_held(): what it emits with no packet current belongs to the stream
  // of the oldest held packet, and the held packets count as passed on, not dropped.
  virtual void hold() = 0;
  virtual void release_held() = 0;
};

// What a source is told when a stream it sent is through the graph.
struct StreamOutcome {
  std::string stream_id;
  std::size_t packets = 0;  // sent in the stream
  std::size_t errors = 0;   // of them, failed: on an `error` port or in the dead letters
};
using StreamDoneCallback = std::function<void(const StreamOutcome&)>;

class SourceContext {
 public:
  virtual ~SourceContext() = default;
  // Sends the packets out of the source's port as one stream. Waits while the graph is full
  // or while this source already has too many packets in it, so a source never runs ahead of
  // its graph. Returns false, having sent nothing, once the source is told to stop. `on_done`
  // runs once, on a worker thread, when every packet of the stream has been through the graph
  // (docs/durability.md: its sinks have made it durable); a crash before that replays from
  // the source, so ack upstream only there. Keep it short; never call send() from it.
  virtual bool send(std::vector<Packet>&& packets, StreamDoneCallback on_done = {}) = 0;
  // Waits until `deadline` or until the source is told to stop; false when stopping.
  virtual bool sleep_until(Clock::time_point deadline) = 0;
  // produce() must return soon after this turns true (poll it around blocking calls).
  virtual bool stopping() const = 0;
  virtual Clock::time_point now() const = 0;
  // A directory of this node's own that survives restarts (`sluice serve`:
  // <state-dir>/sources/<graph>/<node>/), for ledgers and offsets; "" when there is none
  // (`sluice run`).
  virtual const std::string& state_dir() const = 0;
  // "graph/node" for messages.
  virtual const std::string& node_path() const = 0;
  // Lines in the server's log, prefixed with node_path() (sluice/log.hpp).
  NodeLog log() const { return NodeLog(node_path()); }
};

class Component {
 public:
  virtual ~Component() = default;
  virtual void process(Packet& packet, Emitter& emit);
  // Default: receive every packet and process() it, catching per-packet errors; then flush.
  virtual void run(RunContext& ctx);
  virtual void flush(Emitter& emit);
  // Sources only (and required of them): the loop that makes packets. An exception ends the
  // source; the message goes to stderr naming the node.
  virtual void produce(SourceContext& ctx);
};

// The descriptor of a component class T (static descriptor() + a constructor from Params),
// with its factory filled in. Constructor exceptions become the factory's error text.
template <class T>
ComponentDescriptor describe() {
  ComponentDescriptor descriptor = T::descriptor();
  apply_port_defaults(descriptor);
  descriptor.create = [](const Params& params, std::string& error) -> std::unique_ptr<Component> {
    try {
      return std::make_unique<T>(params);
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = "unknown exception";
    }
    return nullptr;
  };
  return descriptor;
}

// Descriptor → the JSON document that `sluice plugins --json`, GET /v1/components and the
// editor use.
Value descriptor_to_json(const ComponentDescriptor& descriptor);

}  // namespace sluice
