// sluice/plugin.hpp — export a plugin package (one .so, several components).
//
//   #include <sluice/plugin.hpp>
//   SLUICE_PLUGIN("textkit", "1.2.0", "Text adapters and transformers",
//                 sluice::describe<Upper>(), sluice::describe<Trim>())
//
// The kernel reads `abi_version` before it touches anything else in the package, and refuses
// a package built for another SDK ABI. Bump SLUICE_SDK_ABI_VERSION whenever a public SDK
// header changes (a test compares sdk/abi.lock with the headers and fails otherwise).
//
// The toolchain rule: a plugin must be built with the same compiler family and major version,
// the same libstdc++ release and the same standard-library modes (_GLIBCXX_USE_CXX11_ABI,
// _GLIBCXX_DEBUG) as the kernel, because std::string, std::vector, std::function and Value
// cross the boundary. SLUICE_PLUGIN records these facts (AbiFingerprint, computed where the
// plugin is compiled) in a plain data symbol the kernel reads from the file before it loads it.
//
// Build plugins with hidden visibility (`gnu_symbol_visibility : 'hidden'` in meson,
// -fvisibility=hidden otherwise, as the template does): SLUICE_PLUGIN exports its three
// symbols by itself, and nothing else of the plugin should be visible to other libraries.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sluice/component.hpp"

#define SLUICE_SDK_ABI_VERSION 11

namespace sluice {

inline constexpr std::uint32_t sdk_abi_version = SLUICE_SDK_ABI_VERSION;

// What a package exports: `sluice_plugin`, a pointer to it (the layout of a Boost.DLL alias,
// which the kernel reads). `abi_version` stays the first member in every ABI version so that
// any kernel can read it safely.
struct PluginExport {
  std::uint32_t abi_version;
  const char* name;
  const char* version;
  const char* description;
  // Fills `out`; on failure returns false with `error` set. Never throws.
  bool (*components)(std::vector<ComponentDescriptor>& out, std::string& error) noexcept;
};

inline constexpr const char* plugin_export_symbol = "sluice_plugin";

// What must match between a plugin and the kernel besides the headers: plain integers only, so
// that the kernel can read them from the file without running any of its code. `abi_version`
// stays first. The values are those of the translation unit that includes this header.
struct AbiFingerprint {
  std::uint32_t abi_version;
  std::uint32_t compiler;           // 1: GCC, 2: Clang, 0: another
  std::uint32_t compiler_major;
  std::uint32_t libstdcxx_release;  // _GLIBCXX_RELEASE
  std::uint32_t cxx11_string_abi;   // _GLIBCXX_USE_CXX11_ABI
  std::uint32_t debug_containers;   // _GLIBCXX_DEBUG
  std::uint32_t sizeof_string, sizeof_vector, sizeof_function;
  std::uint32_t sizeof_value, alignof_value, sizeof_packet, sizeof_descriptor;
};

inline constexpr AbiFingerprint abi_fingerprint{
    SLUICE_SDK_ABI_VERSION,
#if defined(__clang__)
    2, __clang_major__,
#elif defined(__GNUC__)
    1, __GNUC__,
#else
    0, 0,
#endif
#if defined(_GLIBCXX_RELEASE)
    _GLIBCXX_RELEASE,
#else
    0,
#endif
#if defined(_GLIBCXX_USE_CXX11_ABI)
    _GLIBCXX_USE_CXX11_ABI,
#else
    0,
#endif
#if defined(_GLIBCXX_DEBUG)
    1,
#else
    0,
#endif
    sizeof(std::string), sizeof(std::vector<int>), sizeof(std::function<void()>),
    sizeof(Value), alignof(Value), sizeof(Packet), sizeof(ComponentDescriptor)};

inline constexpr const char* plugin_fingerprint_symbol = "sluice_plugin_abi";

}  // namespace sluice

// Visible whatever -fvisibility says, and kept although nothing in the plugin refers to it.
#define SLUICE_PLUGIN_SYMBOL __attribute__((visibility("default"), used))

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
  extern "C" SLUICE_PLUGIN_SYMBOL const ::sluice::PluginExport sluice_plugin_export = {       \
      SLUICE_SDK_ABI_VERSION, NAME, VERSION, DESCRIPTION, &sluice_plugin_components};         \
  extern "C" SLUICE_PLUGIN_SYMBOL const ::sluice::PluginExport* const sluice_plugin =         \
      &sluice_plugin_export;                                                                  \
  extern "C" SLUICE_PLUGIN_SYMBOL const ::sluice::AbiFingerprint sluice_plugin_abi =          \
      ::sluice::abi_fingerprint;
