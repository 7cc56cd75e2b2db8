// sluice/plugin.hpp — export a plugin package (one .so, several components).
//
//   #include <sluice/plugin.hpp>
//   SLUICE_PLUGIN("textkit", "1.2.0", "Text adapters and transformers",
//                 sluice::describe<Upper>(), sluice::describe<Trim>())
//
// The kernel reads `abi_version` before it touches anything else in the package, and refuses
// a package built for another SDK ABI. Bump SLUICE_SDK_ABI_VERSION whenever a public SDK
// header changes (a test compares sdk/abi.lock with the headers and fails otherwise).
#pragma once

#include <boost/dll/alias.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "sluice/component.hpp"

#define SLUICE_SDK_ABI_VERSION 2

namespace sluice {

inline constexpr std::uint32_t sdk_abi_version = SLUICE_SDK_ABI_VERSION;

// The one symbol a package exports (Boost.DLL alias "sluice_plugin"). `abi_version` stays the
// first member in every ABI version so that any kernel can read it safely.
struct PluginExport {
  std::uint32_t abi_version;
  const char* name;
  const char* version;
  const char* description;
  // Fills `out`; on failure returns false with `error` set. Never throws.
  bool (*components)(std::vector<ComponentDescriptor>& out, std::string& error) noexcept;
};

inline constexpr const char* plugin_export_symbol = "sluice_plugin";

}  // namespace sluice

#define SLUICE_PLUGIN(NAME, VERSION, DESCRIPTION, ...)                                        \
  namespace {                                                                                 \
  bool sluice_plugin_components(std::vector<::sluice::ComponentDescriptor>& out,              \
                                std::string& error) noexcept {                                \
    try {                                                                                     \
      out = {__VA_ARGS__};                                                                    \
      return true;                                                                            \
    } catch (const std::exception& e) {                                                       \
      error = e.what();                                                                       \
    } catch (...) {                                                                           \
      error = "unknown exception";                                                            \
    }                                                                                         \
    return false;                                                                             \
  }                                                                                           \
  }                                                                                           \
  extern "C" const ::sluice::PluginExport sluice_plugin_export = {                            \
      SLUICE_SDK_ABI_VERSION, NAME, VERSION, DESCRIPTION, &sluice_plugin_components};         \
  BOOST_DLL_ALIAS(sluice_plugin_export, sluice_plugin)
