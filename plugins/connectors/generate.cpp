#include "generate.hpp"

#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <string>

#include <sluice/text_template.hpp>

namespace sluice::connectors {

namespace {

// The placeholders a string in `payload` may hold, each replaced per packet.
struct Placeholders {
  std::int64_t seq;
  std::string now;  // UTC, ISO 8601 with milliseconds
};

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  char with_millis[40];
  std::snprintf(with_millis, sizeof with_millis, "%s.%03dZ", text, static_cast<int>(millis));
  return with_millis;
}

// `text` with {seq} and {now} replaced ({{ and }} are braces). With `given` null it only
// checks the text, throwing std::invalid_argument that names the bad placeholder.
std::string expand(const std::string& text, const Placeholders* given) {
  const TextTemplate parsed(text);
  for (const auto& piece : parsed.pieces())
    if (piece.placeholder && piece.text != "seq" && piece.text != "now")
      throw std::invalid_argument("unknown placeholder at offset " + std::to_string(piece.offset) + " in \"" + text +
                                  "\": only {seq} and {now} are known (write {{ for a brace)");
  if (!given) return {};
  return parsed.render([&](const TextTemplate::Piece& placeholder, std::string& out) {
    out += placeholder.text == "seq" ? std::to_string(given->seq) : given->now;
  });
}

// A deep copy of `value` with every string expanded.
Value expanded(const Value& value, const Placeholders* given) {
  if (value.is_string()) return Value(expand(value.as_string(), given));
  if (value.is_array()) {
    Array items;
    for (const auto& item : value.as_array()) items.push_back(expanded(item, given));
    return Value(std::move(items));
  }
  if (value.is_object()) {
    Object fields;
    for (const auto& [name, item] : value.as_object()) fields[name] = expanded(item, given);
    return Value(std::move(fields));
  }
  return value;
}

}  // namespace

ComponentDescriptor Generate::descriptor() {
  return {.name = "generate",
          .version = "1.0.0",
          .summary = "Makes a packet on an interval, with fixed or templated content (a source)",
          .kind = ComponentKind::source,
          .outputs = {{"out", "the packets made"}},
          .params = {{.name = "payload",
                      .type = ParamType::object,
                      .description = "the fields of every packet; in its strings {seq} becomes the packet's "
                                     "number (from 1) and {now} the UTC time (ISO 8601); {{ and }} are braces",
                      .default_value = Object{}},
                     {.name = "interval_ms",
                      .type = ParamType::integer,
                      .description = "time between batches; 0: as fast as the graph takes them",
                      .default_value = 1000,
                      .minimum = 0},
                     {.name = "count",
                      .type = ParamType::integer,
                      .description = "packets to make in all, then stop; 0: no limit",
                      .default_value = 0,
                      .minimum = 0},
                     {.name = "batch",
                      .type = ParamType::integer,
                      .description = "packets per interval, sent as one stream",
                      .default_value = 1,
                      .minimum = 1,
                      .maximum = 100000}},
          .example = {.description = "Makes two numbered packets as fast as the graph takes them, then stops",
                      .params = R"(payload: { message: "packet {seq}" }
interval_ms: 0
count: 2)",
                      .output = R"({"message": "packet 1"}
{"message": "packet 2"})"}};
}

Generate::Generate(const Params& params)
    : payload_(params.get("payload")),
      interval_(params.get_int("interval_ms")),
      count_(params.get_int("count")),
      batch_(params.get_int("batch")) {
  try {
    expanded(payload_, nullptr);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("param 'payload': ") + e.what());
  }
}

void Generate::produce(SourceContext& ctx) {
  std::int64_t made = 0;
  auto next = ctx.now();
  while (count_ == 0 || made < count_) {
    if (!ctx.sleep_until(next)) return;
    std::vector<Packet> packets;
    for (std::int64_t i = 0; i < batch_ && (count_ == 0 || made < count_); ++i) {
      const Placeholders now{++made, utc_now()};
      packets.emplace_back(std::move(expanded(payload_, &now).as_object()));
    }
    if (!ctx.send(std::move(packets))) return;
    // A fixed rate, not a fixed pause after each send; but a graph that held the source back
    // does not get the missed batches in a burst.
    next = std::max(next + interval_, ctx.now());
  }
}

}  // namespace sluice::connectors
