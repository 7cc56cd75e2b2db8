// The graph loader on arbitrary YAML: a spec and diagnostics, never a crash (the alias budget
// keeps expansion bounded).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "graph/graph_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<sluice::Diagnostic> errors;
  sluice::parse_graph(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml", errors);
  return 0;
}
