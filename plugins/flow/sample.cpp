#include "sample.hpp"

#include <random>
#include <utility>

#include "flow_params.hpp"

namespace sluice::flow {

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
      key_(params.has("key") ? key_paths(params) : std::vector<FieldPath>{}),
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

}  // namespace sluice::flow
