// What plan_graph does to param values: file paths resolved under a PathPolicy (the data root
// of `sluice serve`), secret references replaced; and shown_spec masking secrets.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <fstream>

#include "graph_test_support.hpp"

using namespace sluice;
using sluice::testing::FakeCatalog;
using sluice::testing::formatted;

namespace fs = std::filesystem;

namespace {

struct ScratchDir {
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "sluice-params-XXXXXX").string();
    path = fs::canonical(::mkdtemp(pattern.data()));
  }
  ~ScratchDir() { fs::remove_all(path); }
  fs::path path;
};

struct Planned {
  std::vector<std::string> errors;
  std::optional<GraphPlan> plan;
  std::string param(std::string_view name) const { return plan->nodes.at(0).params.get_string(name); }
};

Planned plan(std::string_view yaml, const PathPolicy& paths) {
  static const FakeCatalog catalog;
  std::vector<Diagnostic> errors;
  GraphSpec spec = parse_graph(yaml, "g.yaml", errors);
  auto planned = plan_graph(spec, catalog, errors, paths);
  return {formatted(errors), std::move(planned)};
}

std::string writer(std::string_view path) {
  return "name: g\nnodes:\n  out: {component: jsonl_writer, params: {path: \"" + std::string(path) + "\"}}\n";
}

}  // namespace

TEST_CASE("file paths resolve inside the data root; `..`, absolute paths and symlinks out of it are refused") {
  ScratchDir scratch;
  const fs::path data = scratch.path / "data", outside = scratch.path / "outside";
  fs::create_directories(data);
  fs::create_directories(outside);
  fs::create_directory_symlink(outside, data / "link");
  const PathPolicy policy{.base = data, .roots = {data}};

  CHECK(plan(writer("out/a.jsonl"), policy).param("path") == (data / "out/a.jsonl").string());
  CHECK(plan(writer("out/../b.jsonl"), policy).param("path") == (data / "b.jsonl").string());
  CHECK(plan(writer((data / "c.jsonl").string()), policy).param("path") == (data / "c.jsonl").string());

  const std::string escape = "g.yaml:3:49: error: node 'out': param 'path': '../x.jsonl' resolves to " +
                             (scratch.path / "x.jsonl").string() + ", outside the directories files may be in (" +
                             data.string() + "); an operator allows another with `sluice serve --allow-path DIR`";
  const Planned up = plan(writer("../x.jsonl"), policy);
  CHECK(up.errors == std::vector<std::string>{escape});
  CHECK_FALSE(up.plan);
  CHECK_FALSE(plan(writer("/etc/x.jsonl"), policy).plan);
  CHECK_FALSE(plan(writer("link/x.jsonl"), policy).plan);  // a symlink in the root, pointing out
  CHECK_FALSE(plan(writer(""), policy).plan);

  // An operator's --allow-path adds a root; no roots at all: anywhere, relative to `base`.
  const PathPolicy allowing{.base = data, .roots = {data, outside}};
  CHECK(plan(writer("link/x.jsonl"), allowing).param("path") == (outside / "x.jsonl").string());
  CHECK(plan(writer("../x.jsonl"), PathPolicy{.base = data, .roots = {}}).param("path") == (scratch.path / "x.jsonl").string());
}

TEST_CASE("the file_keys of an object param resolve as file paths do; the other keys are left as they are") {
  ScratchDir scratch;
  const fs::path data = scratch.path / "data";
  fs::create_directories(data);
  const PathPolicy policy{.base = data, .roots = {data}};
  const auto webhook = [](std::string_view tls) {
    return "name: g\nnodes:\n  out: {component: webhook, params: {tls: " + std::string(tls) + "}}\n";
  };

  const Planned inside = plan(webhook("{ca_file: certs/ca.pem, client_key: /x/../" + data.string() + "/k.pem, server_name: ca.pem}"), policy);
  REQUIRE(inside.errors.empty());
  const Object& tls = inside.plan->nodes.at(0).params.get("tls").as_object();
  CHECK(tls.find("ca_file")->as_string() == (data / "certs/ca.pem").string());
  CHECK(tls.find("client_key")->as_string() == (data / "k.pem").string());
  CHECK(tls.find("server_name")->as_string() == "ca.pem");  // not a file key

  const Planned out = plan(webhook("{ca_file: ../ca.pem, client_key: /etc/ssl/private/k.pem}"), policy);
  CHECK_FALSE(out.plan);
  REQUIRE(out.errors.size() == 2);
  CHECK(out.errors[0] == "g.yaml:3:43: error: node 'out': param 'tls.ca_file': '../ca.pem' resolves to " +
                             (scratch.path / "ca.pem").string() + ", outside the directories files may be in (" +
                             data.string() + "); an operator allows another with `sluice serve --allow-path DIR`");
  CHECK(out.errors[1].find("param 'tls.client_key': '/etc/ssl/private/k.pem' resolves to") != std::string::npos);
  // A file key that is not a string is the component's to refuse.
  const Planned odd = plan(webhook("{ca_file: 7}"), policy);
  REQUIRE(odd.errors.empty());
  CHECK(odd.plan->nodes.at(0).params.get("tls").as_object().find("ca_file")->as_int() == 7);
}

TEST_CASE("secret params take ${env:NAME} and ${file:PATH} references, resolved at plan time") {
  ScratchDir scratch;
  std::ofstream(scratch.path / "token") << "from-a-file\n";
  ::setenv("SLUICE_TEST_SECRET", "from-the-env", 1);
  const PathPolicy policy{.base = scratch.path, .roots = {scratch.path}};
  const std::string yaml = R"(name: g
nodes:
  hook:
    component: webhook
    params:
      headers: {Authorization: "Bearer ${env:SLUICE_TEST_SECRET}", X-Key: "${file:token}", X-Plain: literal}
      token: "${env:SLUICE_TEST_SECRET}/${file:token}"
      url: "${env:SLUICE_TEST_SECRET}"
)";
  const Planned planned = plan(yaml, policy);
  REQUIRE(planned.errors.empty());
  const Params& params = planned.plan->nodes.at(0).params;
  const Value& headers = params.get("headers");
  CHECK(headers.get("Authorization")->as_string() == "Bearer from-the-env");
  CHECK(headers.get("X-Key")->as_string() == "from-a-file");
  CHECK(headers.get("X-Plain")->as_string() == "literal");
  CHECK(params.get_string("token") == "from-the-env/from-a-file");
  CHECK(params.get_string("url") == "${env:SLUICE_TEST_SECRET}");  // not a secret: as written

  // Shown: references as written, literals masked, and the text (which holds them) dropped.
  const GraphSpec shown = shown_spec(*planned.plan);
  const Value* shown_headers = shown.nodes.at(0).params.find("headers");
  CHECK(shown_headers->get("Authorization")->as_string() == "Bearer ${env:SLUICE_TEST_SECRET}");
  CHECK(shown_headers->get("X-Plain")->as_string() == "***");
  CHECK(shown.yaml_text.empty());
  CHECK(shown_spec(*plan(writer("a.jsonl"), policy).plan).yaml_text == writer("a.jsonl"));

  auto refusal = [&](std::string_view token) {
    const auto errors = plan("name: g\nnodes:\n  hook: {component: webhook, params: {token: \"" + std::string(token) + "\"}}\n", policy).errors;
    return errors.size() == 1 ? errors[0] : "";
  };
  CHECK(refusal("${env:SLUICE_NO_SUCH_VARIABLE}") ==
        "g.yaml:3:46: error: node 'hook': param 'token': ${env:SLUICE_NO_SUCH_VARIABLE}: the server has no "
        "environment variable SLUICE_NO_SUCH_VARIABLE");
  CHECK(refusal("${file:../token}").find("${file:../token}: '../token' resolves to") != std::string::npos);
  CHECK(refusal("${file:missing}").find("cannot read " + (scratch.path / "missing").string()) != std::string::npos);
  CHECK(refusal("***").find("holds \"***\", which is how a secret is shown") != std::string::npos);
}
