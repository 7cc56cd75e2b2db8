#include "dedupe.hpp"

#include <utility>

#include "flow_params.hpp"

namespace sluice::flow {

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

}  // namespace sluice::flow
