// Shared by the package tests: loads the built plugin module as the kernel would and checks
// that it exports exactly the expected, sound descriptors.
//
//   TEST_CASE("the module exports its components") { check_plugin_module({"collect", "log"}); }
//
// The module's path comes from the SLUICE_PLUGIN_FILE environment variable (set by meson).
#pragma once

#include <doctest/doctest.h>

#include <boost/dll/shared_library.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include <sluice/harness.hpp>
#include <sluice/plugin.hpp>

inline void check_plugin_module(const std::vector<std::string>& expected) {
  const char* file = std::getenv("SLUICE_PLUGIN_FILE");
  REQUIRE_MESSAGE(file != nullptr, "SLUICE_PLUGIN_FILE is not set (run the test with meson test)");
  boost::dll::shared_library library(file, boost::dll::load_mode::rtld_now);
  auto& exported = library.get_alias<const sluice::PluginExport>(sluice::plugin_export_symbol);
  CHECK(exported.abi_version == sluice::sdk_abi_version);
  {
    std::vector<sluice::ComponentDescriptor> components;
    std::string error;
    REQUIRE_MESSAGE(exported.components(components, error), error);
    std::vector<std::string> names;
    for (const auto& d : components) {
      names.push_back(d.name);
      const auto problems = sluice::descriptor_problems(d);
      for (const auto& p : problems) FAIL_CHECK(p);
    }
    CHECK(names == expected);
  }  // descriptors (and their factories) die before the library
}
