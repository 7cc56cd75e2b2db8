// The component test harness: process() and run() components, fake clock, errors, flush.
#include <doctest/doctest.h>

#include <algorithm>

#include <sluice/harness.hpp>
#include <sluice/json.hpp>

using namespace sluice;
using namespace std::chrono_literals;

namespace {

struct Upper : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "upper",
            .summary = "upper-cases a field",
            .params = {{.name = "field", .type = ParamType::string, .description = "the field",
                        .required = true}}};
  }
  explicit Upper(const Params& params) : field_(params.get_string("field")) {}
  void process(Packet& packet, Emitter& emit) override {
    Value* v = packet.get(field_);
    if (!v) throw std::runtime_error("no field " + field_);
    for (char& c : v->as_string()) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    emit(std::move(packet));
  }

 private:
  std::string field_;
};

// Run-loop style: batches of `size`, or whatever arrived when `window` passes; the rest on
// flush.
struct Batch : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "batch",
            .summary = "groups packets",
            .kind = ComponentKind::operator_,
            .params = {{.name = "size", .type = ParamType::integer, .description = "n", .default_value = 3}}};
  }
  explicit Batch(const Params& params) : size_(params.get_int("size")) {}
  void run(RunContext& ctx) override {
    Received r;
    auto deadline = Clock::time_point::max();
    for (;;) {
      const auto status = ctx.receive(r, deadline);
      if (status == ReceiveStatus::closed) break;
      if (status == ReceiveStatus::timeout) {
        send(ctx);
        deadline = Clock::time_point::max();
        continue;
      }
      if (held_.empty()) deadline = ctx.now() + 100ms;
      held_.push_back(r.packet.fields());
      if (static_cast<std::int64_t>(held_.size()) == size_) {
        send(ctx);
        deadline = Clock::time_point::max();
      }
    }
    flush(ctx);
  }
  void flush(Emitter& emit) override {
    if (!held_.empty()) send(emit);
  }

 private:
  void send(Emitter& emit) {
    Packet out;
    out.set("packets", std::exchange(held_, {}));
    emit(std::move(out));
  }
  std::int64_t size_;
  Array held_;
};

struct Join : Component {
  static ComponentDescriptor descriptor() {
    return {.name = "join",
            .summary = "tags packets by input",
            .kind = ComponentKind::operator_,
            .inputs = {{"left", "l"}, {"right", "r"}},
            .outputs = {{"out", "o"}, {"echo", "e"}}};
  }
  explicit Join(const Params&) {}
  void run(RunContext& ctx) override {
    Received r;
    while (ctx.receive(r)) {
      r.packet.set("from", r.in_port == ctx.in_port_index("left") ? "left" : "right");
      ctx.emit("echo", r.packet.clone());
      ctx.deliver(r.packet.clone());
      ctx.emit(std::move(r.packet));
    }
  }
};

struct Broken : Component {
  static ComponentDescriptor descriptor() { return {.name = "broken", .summary = "throws"}; }
  explicit Broken(const Params&) { throw std::runtime_error("cannot open model.bin"); }
};

}  // namespace

TEST_CASE("process(): push packets, read the outputs; a throw lands in errors()") {
  auto h = ComponentHarness::of<Upper>({{"field", "title"}});
  h.push_json(R"({"title": "hello"})");
  h.push_json(R"({"other": 1})");
  h.push_json(R"({"title": "again"})");
  REQUIRE(h.output().size() == 2);
  CHECK(h.output()[0].get("title")->as_string() == "HELLO");
  CHECK(h.output()[1].get("title")->as_string() == "AGAIN");
  REQUIRE(h.errors().size() == 1);
  CHECK(h.errors()[0].get_meta("error")->as_string() == "no field title");
  CHECK(h.errors()[0].get_meta("error_node")->as_string() == "harness/upper");
  CHECK(h.errors()[0].get("other")->as_int() == 1);
}

TEST_CASE("params are validated before construction; constructor errors are reported") {
  CHECK_THROWS_WITH_AS(ComponentHarness::of<Upper>({{"feild", "x"}}),
                       "upper: invalid params:\n  unknown param 'feild' (did you mean 'field'?)\n"
                       "  missing required param 'field' (string: the field)",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(ComponentHarness::of<Broken>(), "broken: constructor failed: cannot open model.bin",
                       std::runtime_error);
}

TEST_CASE("run(): receive deadlines follow the fake clock; close() flushes") {
  auto h = ComponentHarness::of<Batch>();
  for (int i = 0; i < 4; ++i) h.push_json(R"({"n": )" + std::to_string(i) + "}");
  REQUIRE(h.output().size() == 1);  // the first three
  CHECK(h.output()[0].get("packets")->as_array().size() == 3);
  h.advance(50ms);
  CHECK(h.output().size() == 1);  // the window (100 ms) is not over
  h.advance(60ms);
  REQUIRE(h.output().size() == 2);  // the window closed with one packet
  CHECK(h.output()[1].get("packets")->as_array().size() == 1);
  h.push_json(R"({"n": 9})");
  h.close();
  REQUIRE(h.output().size() == 3);  // flushed
  CHECK(h.output()[2].find_path("packets[0].n")->as_int() == 9);
}

TEST_CASE("several inputs and outputs, and deliver()") {
  auto h = ComponentHarness::of<Join>();
  h.push_json(R"({"a": 1})", "left");
  h.push_json(R"({"b": 2})", "right");
  REQUIRE(h.output("out").size() == 2);
  CHECK(h.output("out")[0].get("from")->as_string() == "left");
  CHECK(h.output("out")[1].get("from")->as_string() == "right");
  CHECK(h.output("echo").size() == 2);
  CHECK(h.delivered().size() == 2);
  CHECK_THROWS_AS(h.output("nope"), std::invalid_argument);
  CHECK_THROWS_AS(h.push_json("{}", "middle"), std::invalid_argument);
}

namespace {

// Sends packets without a `title` out of the implicit error port, as the runtime allows.
struct NeedsTitle : Component {
  static ComponentDescriptor descriptor() { return {.name = "needs_title", .summary = "routes untitled packets to error"}; }
  explicit NeedsTitle(const Params&) {}
  void process(Packet& packet, Emitter& emit) override {
    if (packet.get("title")) emit(std::move(packet));
    else emit("error", std::move(packet));
  }
};

}  // namespace

TEST_CASE("the harness has the implicit error port, as the runtime does") {
  auto h = ComponentHarness::of<NeedsTitle>();
  h.push_json(R"({"title": "A"})");
  h.push_json(R"({"n": 2})");
  REQUIRE(h.output().size() == 1);
  REQUIRE(h.output("error").size() == 1);
  CHECK(h.output("error")[0].get("n")->as_int() == 2);
  CHECK(h.errors().empty());  // emitted, not failed
  CHECK_THROWS_WITH(h.output("nope"), doctest::Contains("no out port 'nope'"));
}

TEST_CASE("descriptor_problems and deployed_params: what the kernel would say, for a component's own tests") {
  CHECK(descriptor_problems(describe<Upper>()).empty());
  ComponentDescriptor broken = describe<Batch>();
  broken.params.push_back(broken.params.front());  // `size` twice
  const auto problems = descriptor_problems(broken);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("size") != std::string::npos);

  CHECK(deployed_params(describe<Batch>(), {}).get_int("size") == 3);  // the default filled in
  try {
    deployed_params(describe<Batch>(), Object{{"size", "three"}, {"sise", 4}});
    FAIL("the params were taken");
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    CHECK(message.starts_with("batch: invalid params:\n  "));
    CHECK(message.find("did you mean 'size'") != std::string::npos);
    CHECK(std::count(message.begin(), message.end(), '\n') == 2);
  }
}
