#include "flow.hpp"

#include <xxhash.h>

#include <stdexcept>

#include <sluice/json.hpp>

#include "packet_key.hpp"

namespace sluice::flow {

namespace {

Condition parse_condition(const Params& params, std::string_view name) {
  const std::string text = params.get_string(name);
  try {
    return Condition::parse(text);
  } catch (const ConditionError& e) {
    throw std::invalid_argument("param '" + std::string(name) + "': " + e.what() + " in '" + text +
                                "'");
  }
}

ParamSpec condition_param(std::string description) {
  return {.name = "if",
          .type = ParamType::string,
          .description = std::move(description) + " (condition syntax: docs/conditions.md)",
          .required = true};
}

ParamSpec key_param(std::string description, bool required) {
  return {.name = "key",
          .type = ParamType::string_list,
          .description = std::move(description) +
                         "; values equal in conditions are one key (1 and 1.0, objects in any "
                         "key order), absent differs from null",
          .required = required};
}

std::vector<std::string> key_paths(const Params& params) {
  std::vector<std::string> paths = params.get_string_list("key");
  if (paths.empty()) throw std::invalid_argument("param 'key' is empty");
  return paths;
}

Value envelope_of(Packet&& packet) {
  return Object{{"fields", std::move(packet.fields())},
                {"meta", std::move(packet.meta())},
                {"field_meta", std::move(packet.field_meta())}};
}

}  // namespace

std::uint64_t key_hash(const Packet& packet, const std::vector<std::string>& paths) {
  const std::string text = plugins::key_text(packet, paths);
  return XXH3_64bits(text.data(), text.size());
}

// ---- drop / keep ---------------------------------------------------------------------------

ComponentDescriptor Drop::descriptor() {
  return {.name = "drop",
          .version = "1.0.0",
          .summary = "Drops the packets that match a condition, passes the others",
          .kind = ComponentKind::filter,
          .params = {condition_param("packets matching this are dropped")},
          .example = {.description = "Drops debug lines, passes the rest",
                      .params = R"(if: "level == 'debug'")",
                      .input = R"({"level": "debug", "msg": "tick"}
{"level": "error", "msg": "disk full"})",
                      .output = R"({"level": "error", "msg": "disk full"})"}};
}

Drop::Drop(const Params& params) : condition_(parse_condition(params, "if")) {}

void Drop::process(Packet& packet, Emitter& emit) {
  if (!condition_.matches(packet)) emit(std::move(packet));
}

ComponentDescriptor Keep::descriptor() {
  return {.name = "keep",
          .version = "1.0.0",
          .summary = "Passes the packets that match a condition, drops the others",
          .kind = ComponentKind::filter,
          .params = {condition_param("packets matching this are passed on")},
          .example = {.description = "Keeps the orders of at least 100, drops the others",
                      .params = R"(if: "total >= 100")",
                      .input = R"({"order": 1, "total": 250}
{"order": 2, "total": 12})",
                      .output = R"({"order": 1, "total": 250})"}};
}

Keep::Keep(const Params& params) : condition_(parse_condition(params, "if")) {}

void Keep::process(Packet& packet, Emitter& emit) {
  if (condition_.matches(packet)) emit(std::move(packet));
}

// ---- route ---------------------------------------------------------------------------------

ComponentDescriptor Route::descriptor() {
  ComponentDescriptor d{
      .name = "route",
      .version = "1.0.0",
      .summary = "Sends each packet to the port of the first matching condition (route1..route8), "
                 "unmatched ones to out",
      .kind = ComponentKind::filter,
      .outputs = {{"out", "packets no route matched"}},
      .params = {{.name = "routes",
                  .type = ParamType::string_list,
                  .description = "conditions, at most 8; the i-th sends to port route<i> "
                                 "(docs/conditions.md)",
                  .required = true},
                 {.name = "mode",
                  .type = ParamType::string,
                  .description = "first: only the first matching route gets the packet; all: "
                                 "every matching route gets a copy",
                  .default_value = "first",
                  .allowed = {"first", "all"}}},
      .example = {.description = "Sends errors to route1 and warnings to route2; the rest leaves on out (shown here), so wire example.route1 and example.route2 to where they belong",
                  .params = R"(routes:
  - "level == 'error'"
  - "level == 'warning'")",
                  .input = R"({"level": "error", "msg": "disk full"}
{"level": "info", "msg": "started"}
{"level": "warning", "msg": "slow"})",
                  .output = R"({"level": "info", "msg": "started"})"}};
  for (std::size_t i = 1; i <= max_routes; ++i)
    d.outputs.push_back({"route" + std::to_string(i),
                         "packets matching routes[" + std::to_string(i - 1) + "]"});
  return d;
}

Route::Route(const Params& params) : all_(params.get_string("mode") == "all") {
  const auto texts = params.get_string_list("routes");
  if (texts.empty()) throw std::invalid_argument("param 'routes' is empty");
  if (texts.size() > max_routes)
    throw std::invalid_argument("param 'routes' has " + std::to_string(texts.size()) +
                                " conditions; route has ports for at most " +
                                std::to_string(max_routes));
  for (std::size_t i = 0; i < texts.size(); ++i) {
    try {
      routes_.push_back(Condition::parse(texts[i]));
    } catch (const ConditionError& e) {
      throw std::invalid_argument("param 'routes[" + std::to_string(i) + "]': " + e.what() +
                                  " in '" + texts[i] + "'");
    }
  }
}

void Route::process(Packet& packet, Emitter& emit) {
  std::vector<std::size_t> ports;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (!routes_[i].matches(packet)) continue;
    ports.push_back(i + 1);
    if (!all_) break;
  }
  if (ports.empty()) {
    emit(std::move(packet));
    return;
  }
  for (std::size_t n = 0; n < ports.size(); ++n) {
    // The last copy takes the original, so `first` mode never copies.
    Packet copy = n + 1 < ports.size() ? packet.clone() : std::move(packet);
    copy.set_meta(meta::route, "route" + std::to_string(ports[n]));
    emit.emit(ports[n], std::move(copy));
  }
}

// ---- dedupe --------------------------------------------------------------------------------

ComponentDescriptor Dedupe::descriptor() {
  return {.name = "dedupe",
          .version = "1.0.0",
          .summary = "Passes the first packet of each key; repeats within the window go to "
                     "duplicate",
          .kind = ComponentKind::filter,
          .outputs = {{"out", "first packet seen with its key"},
                      {"duplicate", "packets whose key was seen within the window"}},
          .params = {key_param("field paths whose values together form the key (e.g. [id] or "
                               "[user.email, day])",
                               true),
                     {.name = "window",
                      .type = ParamType::integer,
                      .description = "how many of the most recent distinct keys are remembered "
                                     "(bounds memory; older keys can pass again)",
                      .default_value = 10000,
                      .minimum = 1,
                      .maximum = 100000000}},
          .example = {.description = "Passes the first packet of each order id; repeats leave on duplicate",
                      .params = "key: [order]",
                      .input = R"({"order": 7, "try": 1}
{"order": 7, "try": 2}
{"order": 8, "try": 1})",
                      .output = R"({"order": 7, "try": 1}
{"order": 8, "try": 1})"}};
}

Dedupe::Dedupe(const Params& params)
    : key_(key_paths(params)), window_(static_cast<std::size_t>(params.get_int("window"))) {}

void Dedupe::process(Packet& packet, Emitter& emit) {
  // Keys are remembered by a 64-bit hash: with 10^6 keys in the window the chance that two
  // different keys collide is about 10^-8.
  const std::uint64_t hash = key_hash(packet, key_);
  if (!seen_.insert(hash).second) {
    emit.emit(1, std::move(packet));
    return;
  }
  order_.push_back(hash);
  if (order_.size() > window_) {
    seen_.erase(order_.front());
    order_.pop_front();
  }
  emit(std::move(packet));
}

// ---- sample --------------------------------------------------------------------------------

ComponentDescriptor Sample::descriptor() {
  return {.name = "sample",
          .version = "1.0.0",
          .summary = "Passes a fraction of the packets, at random or consistently by key",
          .kind = ComponentKind::filter,
          .params = {{.name = "rate",
                      .type = ParamType::number,
                      .description = "fraction of packets passed, from 0 (none) to 1 (all)",
                      .required = true,
                      .minimum = 0.0,
                      .maximum = 1.0},
                     key_param("optional field paths: when set, a packet passes if its key's "
                               "hash falls in the rate, so the same key always gets the same "
                               "answer (on every worker and node)",
                               false),
                     {.name = "seed",
                      .type = ParamType::integer,
                      .description = "seed for the random choice (without key), for repeatable "
                                     "runs; unset: a random seed"}},
          .example = {.description = "Passes about half of the users, always the same ones (by the hash of their name): eve each time she comes",
                      .params = R"(rate: 0.5
key: [user])",
                      .input = R"({"user": "ada"}
{"user": "eve"}
{"user": "bob"}
{"user": "lee"}
{"user": "eve"}
{"user": "tom"})",
                      .output = R"({"user": "eve"}
{"user": "lee"}
{"user": "eve"}
{"user": "tom"})"}};
}

Sample::Sample(const Params& params)
    : rate_(params.get_number("rate")),
      key_(params.has("key") ? key_paths(params) : std::vector<std::string>{}),
      random_(params.has("seed") ? static_cast<std::uint64_t>(params.get_int("seed"))
                                 : std::random_device{}()) {}

void Sample::process(Packet& packet, Emitter& emit) {
  // Both branches map to [0, 1) and pass below the rate, so rate 0 passes nothing and rate 1
  // passes everything.
  constexpr double two_to_64 = 18446744073709551616.0;
  const double point = key_.empty() ? std::uniform_real_distribution<double>(0.0, 1.0)(random_)
                                    : static_cast<double>(key_hash(packet, key_)) / two_to_64;
  if (point < rate_) emit(std::move(packet));
}

// ---- split / unbatch -----------------------------------------------------------------------

ComponentDescriptor Split::descriptor() {
  return {.name = "split",
          .version = "1.0.0",
          .summary = "Emits one packet per element of an array field, keeping the other fields "
                     "and the metadata",
          .kind = ComponentKind::operator_,
          .params = {{.name = "field",
                      .type = ParamType::string,
                      .description = "path of the array field to split",
                      .required = true},
                     {.name = "into",
                      .type = ParamType::string,
                      .description = "field path for the element in each child (default: the "
                                     "split field itself)"},
                     {.name = "index",
                      .type = ParamType::string,
                      .description = "optional field path for the element's 0-based position"}},
          .example = {.description = "One packet per tag, with its position",
                      .params = R"(field: tags
into: tag
index: position)",
                      .input = R"({"id": 1, "tags": ["red", "blue"]})",
                      .output = R"({"id": 1, "tag": "red", "position": 0}
{"id": 1, "tag": "blue", "position": 1})"}};
}

Split::Split(const Params& params)
    : field_(params.get_string("field")),
      into_(params.get_string("into", field_)),
      index_(params.get_string("index", "")) {}

void Split::process(Packet& packet, Emitter& emit) {
  Value* found = packet.find_path(field_);
  if (!found) throw std::runtime_error("split: field '" + field_ + "' is missing");
  if (!found->is_array())
    throw std::runtime_error("split: field '" + field_ + "' is " + found->type_name() +
                             ", not an array");
  // Take the array out first so that each child copies the rest of the packet, not the array.
  Array items = std::move(found->as_array());
  *found = nullptr;
  // With `into` elsewhere the split field goes away (a nested one stays as null).
  if (into_ != field_ && field_.find_first_of(".[") == std::string::npos) packet.erase(field_);
  for (std::size_t i = 0; i < items.size(); ++i) {
    Packet child = i + 1 < items.size() ? packet.clone() : std::move(packet);
    if (!child.set_path(into_, std::move(items[i])))
      throw std::runtime_error("split: cannot set field '" + into_ + "'");
    if (!index_.empty()) child.set_path(index_, static_cast<std::int64_t>(i));
    emit(std::move(child));
  }
}

ComponentDescriptor Unbatch::descriptor() {
  return {.name = "unbatch",
          .version = "1.0.0",
          .summary = "Emits the packets a batch packet holds (the inverse of batch)",
          .kind = ComponentKind::operator_,
          .params = {{.name = "field",
                      .type = ParamType::string,
                      .description = "array field holding the packets",
                      .default_value = "packets"},
                     {.name = "envelopes",
                      .type = ParamType::boolean,
                      .description = "elements are envelopes {fields, meta, field_meta} (as "
                                     "batch writes with envelopes: true); false: plain objects "
                                     "that take the batch packet's metadata",
                      .default_value = false}},
          .example = {.description = "Unpacks a batch packet into the packets it holds",
                      .input = R"({"packets": [{"n": 1}, {"n": 2}]})",
                      .output = R"({"n": 1}
{"n": 2})"}};
}

Unbatch::Unbatch(const Params& params)
    : field_(params.get_string("field")), envelopes_(params.get_bool("envelopes")) {}

void Unbatch::process(Packet& packet, Emitter& emit) {
  Value* found = packet.find_path(field_);
  if (!found || !found->is_array())
    throw std::runtime_error("unbatch: field '" + field_ + "' is " +
                             (found ? found->type_name() : "missing") + ", not an array");
  // Validate everything before emitting anything, so a bad batch fails whole.
  for (const auto& item : found->as_array())
    if (!item.is_object())
      throw std::runtime_error("unbatch: an element of '" + field_ + "' is " + item.type_name() +
                               ", not an object");
  Array items = std::move(found->as_array());
  std::vector<Packet> children;
  children.reserve(items.size());
  for (auto& item : items) {
    if (envelopes_) {
      children.push_back(json::envelope_to_packet(std::move(item)));
    } else {
      Packet child(std::move(item.as_object()));
      child.meta() = packet.meta();
      children.push_back(std::move(child));
    }
  }
  for (auto& child : children) emit(std::move(child));
}

// ---- batch ---------------------------------------------------------------------------------

ComponentDescriptor Batch::descriptor() {
  return {.name = "batch",
          .version = "1.0.0",
          .summary = "Collects up to n packets, or what arrived within t ms of the first, into "
                     "one packet",
          .kind = ComponentKind::operator_,
          .params = {{.name = "size",
                      .type = ParamType::integer,
                      .description = "emit when the batch holds this many packets",
                      .default_value = 100,
                      .minimum = 1,
                      .maximum = 1000000},
                     {.name = "max_wait_ms",
                      .type = ParamType::integer,
                      .description = "emit a smaller batch this many ms after its first packet "
                                     "arrived (0: only by size, and when the graph stops or "
                                     "`sluice run`'s input ends); a packet's stream is done once "
                                     "its batch is emitted",
                      .default_value = 1000,
                      .minimum = 0},
                     {.name = "field",
                      .type = ParamType::string,
                      .description = "array field of the batch packet that holds the packets",
                      .default_value = "packets"},
                     {.name = "envelopes",
                      .type = ParamType::boolean,
                      .description = "store each packet as {fields, meta, field_meta} to keep "
                                     "its metadata; false: its fields only (the batch packet "
                                     "takes the first packet's metadata)",
                      .default_value = false}},
          .example = {.description = "Groups packets by two; the last, smaller batch leaves when the input ends",
                      .params = "size: 2",
                      .input = R"({"n": 1}
{"n": 2}
{"n": 3})",
                      .output = R"({"packets": [{"n": 1}, {"n": 2}]}
{"packets": [{"n": 3}]})"}};
}

Batch::Batch(const Params& params)
    : size_(static_cast<std::size_t>(params.get_int("size"))),
      max_wait_(std::chrono::milliseconds(params.get_int("max_wait_ms"))),
      field_(params.get_string("field")),
      envelopes_(params.get_bool("envelopes")) {}

void Batch::run(RunContext& ctx) {
  Array held;
  Object first_meta;
  Clock::time_point deadline = Clock::time_point::max();
  auto emit_batch = [&] {
    if (held.empty()) return;
    Packet batch;
    batch.meta() = std::move(first_meta);
    batch.set(field_, std::move(held));
    held = Array();
    first_meta = Object();
    deadline = Clock::time_point::max();
    ctx.emit(std::move(batch));
    ctx.release_held();  // their streams complete now, with the batch on its way
  };
  Received received;
  for (;;) {
    const ReceiveStatus status = ctx.receive(received, deadline);
    if (status == ReceiveStatus::closed) break;
    if (status == ReceiveStatus::timeout) {
      emit_batch();
      continue;
    }
    if (held.empty()) {
      first_meta = received.packet.meta();
      if (max_wait_.count() > 0) deadline = ctx.now() + max_wait_;
    }
    if (envelopes_)
      held.push_back(envelope_of(std::move(received.packet)));
    else
      held.push_back(std::move(received.packet.fields()));
    ctx.hold();  // its stream waits for the batch it is in
    if (held.size() >= size_) emit_batch();
  }
  emit_batch();
}

// ---- merge ---------------------------------------------------------------------------------

ComponentDescriptor Merge::descriptor() {
  return {.name = "merge",
          .version = "1.0.0",
          .summary = "Pairs packets from left and right that share a key into one packet; "
                     "unpaired ones leave on unpaired after a timeout",
          .kind = ComponentKind::operator_,
          .inputs = {{"left", "packets to pair; their fields come first"},
                     {"right", "packets to pair; their fields win over left's on a clash"}},
          .outputs = {{"out", "one packet per pair: left merged with right (fields and metadata)"},
                      {"unpaired", "packets whose partner did not arrive in time, or still "
                                   "waiting when the inputs closed"}},
          .params = {key_param("field paths whose values together form the pairing key", true),
                     {.name = "timeout_ms",
                      .type = ParamType::integer,
                      .description = "how long a packet waits for its partner",
                      .default_value = 30000,
                      .minimum = 1},
                     {.name = "max_pending",
                      .type = ParamType::integer,
                      .description = "at most this many packets wait at once; beyond it the "
                                     "oldest leaves on unpaired early (bounds memory)",
                      .default_value = 100000,
                      .minimum = 1}},
          .example = {.description = "Pairs each order with its payment by order id: wire the orders to example.left and the payments to example.right; an order without a payment within a minute leaves on unpaired",
                      .params = R"(key: [order]
timeout_ms: 60000)"}};
}

Merge::Merge(const Params& params)
    : key_(key_paths(params)),
      timeout_(std::chrono::milliseconds(params.get_int("timeout_ms"))),
      max_pending_(static_cast<std::size_t>(params.get_int("max_pending"))) {}

void Merge::release_oldest(RunContext& ctx) {
  Waiting& oldest = pending_.front();
  auto [begin, end] = by_key_.equal_range(oldest.key);
  for (auto it = begin; it != end; ++it) {
    if (it->second == pending_.begin()) {
      by_key_.erase(it);
      break;
    }
  }
  ctx.emit(unpaired_, std::move(oldest.packet));
  pending_.pop_front();
}

void Merge::handle(RunContext& ctx, Received& received) {
  for (const auto& path : key_)
    if (!received.packet.find_path(path))
      throw std::runtime_error("merge: key field '" + path + "' is missing");
  std::string key = plugins::key_text(received.packet, key_);
  auto [begin, end] = by_key_.equal_range(key);
  // The oldest waiting packet from the other side is the partner (arrival order is kept).
  auto partner = by_key_.end();
  for (auto it = begin; it != end; ++it)
    if (it->second->side != received.in_port &&
        (partner == by_key_.end() || it->second->deadline < partner->second->deadline))
      partner = it;
  if (partner == by_key_.end()) {
    pending_.push_back({std::move(received.packet), received.in_port, ctx.now() + timeout_, key});
    by_key_.emplace(std::move(key), std::prev(pending_.end()));
    if (pending_.size() > max_pending_) release_oldest(ctx);
    return;
  }
  auto waiting = partner->second;
  by_key_.erase(partner);
  Packet left = waiting->side == left_ ? std::move(waiting->packet) : std::move(received.packet);
  Packet right = waiting->side == left_ ? std::move(received.packet) : std::move(waiting->packet);
  pending_.erase(waiting);
  left.merge(right);
  ctx.emit(std::move(left));
}

void Merge::run(RunContext& ctx) {
  left_ = ctx.in_port_index("left");
  unpaired_ = ctx.out_port_index("unpaired");
  Received received;
  for (;;) {
    const auto deadline = pending_.empty() ? Clock::time_point::max() : pending_.front().deadline;
    const ReceiveStatus status = ctx.receive(received, deadline);
    if (status == ReceiveStatus::closed) break;
    // Deadlines grow with arrival, so the expired packets are at the front.
    const auto now = ctx.now();
    while (!pending_.empty() && pending_.front().deadline <= now) release_oldest(ctx);
    if (status == ReceiveStatus::timeout) continue;
    try {
      handle(ctx, received);
    } catch (const std::exception& e) {
      ctx.fail(std::move(received.packet), e.what());
    }
  }
  while (!pending_.empty()) release_oldest(ctx);
}

}  // namespace sluice::flow
