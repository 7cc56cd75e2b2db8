#include "route.hpp"

#include <stdexcept>
#include <utility>

namespace sluice::flow {

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

}  // namespace sluice::flow
