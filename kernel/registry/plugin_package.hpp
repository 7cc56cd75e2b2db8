// PluginPackage — one loaded plugin file: its library and the component descriptors it exports.
//
//   std::string error;
//   PluginProbe probe("/proc/self/exe", path, image, timeout);
//   if (auto crash = probe.verdict()) reject(path, *crash);
//   else if (auto package = load_plugin_package(path, image, error)) use(package);
//   else reject(path, error);
//
// `path` is the user's file (named in every message); `image` is its private copy in the
// PluginImageCache, the only file ever dlopened. Loading checks, in this order: the ELF header;
// the "sluice_plugin" Boost.DLL alias in the dynamic symbol table (read from the file, without
// running any of its code); dlopen with RTLD_NOW (unresolved symbols fail here, not at first
// call); the export's ABI version (before any other field is read: a package for another ABI
// may lay the rest out differently); components(); each descriptor with apply_port_defaults +
// check_descriptor.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/dll/shared_library.hpp>
#include <sluice/component.hpp>

#include "registry/plugin_image_cache.hpp"
#include "support/child_process.hpp"

namespace sluice {

struct PluginPackage {
  // First member, so destroyed last: the descriptors' factories (std::function) and every
  // string and Value they hold may point into the library's code and static data.
  boost::dll::shared_library library;
  std::vector<ComponentDescriptor> components;
  std::string name;
  std::string version;
  std::string description;
  std::filesystem::path path;   // the file in the plugin directory
  std::filesystem::path image;  // the private copy that is mapped
  ImageLease image_lease;       // keeps `image` from being pruned while the package lives
};

// Loads and validates the package; nullptr with `error` (one sentence) when it is rejected.
// Never throws for anything the file does.
std::shared_ptr<PluginPackage> load_plugin_package(const std::filesystem::path& path,
                                                   const std::filesystem::path& image,
                                                   std::string& error);

// A probe: load_plugin_package (and the unload) run first in a child process — the sluice
// binary exec'd as `sluice plugins probe --image IMAGE --timeout-ms N FILE`, never a fork of a
// multi-threaded kernel — so that a package that crashes, exits or hangs in its static
// constructors, components() or destructors takes down the child and not the kernel. The child
// runs a few threads of its own while it loads, as the server does: a package that fails only
// in a multi-threaded process fails there too. Several probes run at once: start them all,
// then wait for each.
class PluginProbe {
 public:
  // Starts the child. Throws std::system_error when it cannot be run (pipe, spawn): no verdict
  // on the package.
  PluginProbe(const std::filesystem::path& program, const std::filesystem::path& path,
              const std::filesystem::path& image, std::chrono::milliseconds timeout);
  ~PluginProbe();  // kills a child still running
  PluginProbe(const PluginProbe&) = delete;
  PluginProbe& operator=(const PluginProbe&) = delete;

  // Why the child failed ("crashed while loading (signal 11): Segmentation fault"), or nullopt
  // when it finished (a normal rejection is left to the real load).
  std::optional<std::string> verdict();

 private:
  std::filesystem::path path_;
  std::chrono::milliseconds timeout_;
  std::chrono::steady_clock::time_point deadline_;
  std::unique_ptr<ChildProcess> child_;  // killed and reaped when the probe is destroyed
  int report_fd_ = -1;  // the child's stdout: "loaded\n" once it is done
};

// The child's side: what `sluice plugins probe` runs. Returns its exit status.
int run_plugin_probe(const std::filesystem::path& path, const std::filesystem::path& image,
                     std::chrono::milliseconds timeout);

}  // namespace sluice
