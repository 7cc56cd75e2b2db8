// The host side of `isolation: process`: what `sluice host` runs. It loads one component from
// its plugin image, constructs it with the params the kernel sends, and runs its run() with a
// RunContext whose every call is a frame on the socket (HostChannel). A crash or a hang here
// costs the kernel one packet and a restart of this process (HostedComponent).
#pragma once

#include <filesystem>
#include <string>

namespace sluice {

struct ComponentHostOptions {
  int fd = 3;                    // the host's end of the socket pair
  std::filesystem::path file;    // the plugin file, for messages
  std::filesystem::path image;   // the private copy to load
  std::string component;         // the name the package gives it
  std::string node_path;         // "graph/node", for messages
};

// Returns the process's exit status; ends the process itself (_exit) once the kernel is gone.
int run_component_host(const ComponentHostOptions& options);

}  // namespace sluice
