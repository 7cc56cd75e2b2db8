// Components the REST end-to-end tests build graphs from: pass-through, collect (hands
// results back to a waiting caller), slow (for timeouts and overload), fail-on-demand (for
// errors and dead letters) and match (a regex its constructor compiles: an error only
// constructing finds). Their own package, so the tests do not depend on bundled plugins.
#include <sluice/plugin.hpp>

#include <chrono>
#include <regex>
#include <stdexcept>
#include <thread>

#ifndef REST_FIXTURE_VERSION
#error "REST_FIXTURE_VERSION is set by tests/rest/fixture_plugin/meson.build"
#endif

namespace {

class RestPass : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {.name = "rest_pass",
            .version = REST_FIXTURE_VERSION,
            .summary = "Marks each packet with passed: true, copies its metadata into field "
                       "`meta` (so tests see it in results), and emits it",
            .kind = sluice::ComponentKind::transformer};
  }
  explicit RestPass(const sluice::Params&) {}
  void process(sluice::Packet& packet, sluice::Emitter& emit) override {
    packet.set("passed", true);
    packet.set("version", REST_FIXTURE_VERSION);  // which build ran: the reload test asks
    packet.set("meta", sluice::Value(packet.meta()));
    emit(std::move(packet));
  }
};

class RestCollect : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {.name = "rest_collect",
            .version = "1.0.0",
            .summary = "Hands each packet back to the submitter",
            .kind = sluice::ComponentKind::publisher};
  }
  explicit RestCollect(const sluice::Params&) {}
  void process(sluice::Packet& packet, sluice::Emitter& emit) override { emit.deliver(std::move(packet)); }
};

class RestSlow : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {.name = "rest_slow",
            .version = "1.0.0",
            .summary = "Sleeps before emitting each packet",
            .kind = sluice::ComponentKind::transformer,
            .params = {{.name = "ms",
                        .type = sluice::ParamType::integer,
                        .description = "milliseconds to sleep per packet",
                        .default_value = 1000,
                        .minimum = 0,
                        .maximum = 600000}},
            // It sleeps in process(): the runtime runs it on the I/O pool.
            .blocking = true};
  }
  explicit RestSlow(const sluice::Params& params) : delay_(params.get_int("ms")) {}
  void process(sluice::Packet& packet, sluice::Emitter& emit) override {
    std::this_thread::sleep_for(delay_);
    emit(std::move(packet));
  }

 private:
  std::chrono::milliseconds delay_;
};

class RestFail : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {.name = "rest_fail",
            .version = "1.0.0",
            .summary = "Throws on packets whose field `fail` is true, emits the others",
            .kind = sluice::ComponentKind::transformer};
  }
  explicit RestFail(const sluice::Params&) {}
  void process(sluice::Packet& packet, sluice::Emitter& emit) override {
    if (const auto* fail = packet.get("fail"); fail && fail->is_bool() && fail->as_bool())
      throw std::runtime_error("asked to fail");
    emit(std::move(packet));
  }
};

class RestMatch : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {.name = "rest_match",
            .version = "1.0.0",
            .summary = "Emits the packets whose field `text` matches a regular expression",
            .kind = sluice::ComponentKind::filter,
            .params = {{.name = "pattern",
                        .type = sluice::ParamType::string,
                        .description = "ECMAScript regular expression",
                        .required = true}}};
  }
  explicit RestMatch(const sluice::Params& params) : pattern_(compiled(params.get_string("pattern"))) {}
  void process(sluice::Packet& packet, sluice::Emitter& emit) override {
    const auto* text = packet.get("text");
    if (text && text->is_string() && std::regex_search(text->as_string(), pattern_)) emit(std::move(packet));
  }

 private:
  static std::regex compiled(const std::string& pattern) {
    try {
      return std::regex(pattern);
    } catch (const std::regex_error& e) {
      throw std::invalid_argument("param 'pattern': not a regular expression: " + std::string(e.what()));
    }
  }
  std::regex pattern_;
};

}  // namespace

SLUICE_PLUGIN("rest_fixture", REST_FIXTURE_VERSION, "Components for the REST end-to-end tests",
              sluice::describe<RestPass>(), sluice::describe<RestCollect>(),
              sluice::describe<RestSlow>(), sluice::describe<RestFail>(),
              sluice::describe<RestMatch>())
