// A plugin package for the `sluice check` tests: a source and a sink, enough for a graph
// that checks clean and for errors that only a loaded descriptor can produce.
#include <sluice/plugin.hpp>

namespace {

class CheckSource : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {.name = "check_source",
            .summary = "Passes packets on",
            .kind = sluice::ComponentKind::adapter};
  }
  explicit CheckSource(const sluice::Params&) {}
  void process(sluice::Packet& packet, sluice::Emitter& emit) override { emit(std::move(packet)); }
};

class CheckSink : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {.name = "check_sink",
            .summary = "Drops packets",
            .kind = sluice::ComponentKind::publisher,
            .params = {{.name = "path",
                        .type = sluice::ParamType::string,
                        .description = "where the packets would go",
                        .required = true}}};
  }
  // Like a real publisher, it refuses at construction what its param table cannot express.
  explicit CheckSink(const sluice::Params& params) {
    if (params.get_string("path").empty()) throw std::invalid_argument("param 'path' is empty");
  }
  void process(sluice::Packet&, sluice::Emitter&) override {}
};

}  // namespace

SLUICE_PLUGIN("graph_check", "1.0.0", "Components for the sluice check tests",
              sluice::describe<CheckSource>(), sluice::describe<CheckSink>())
