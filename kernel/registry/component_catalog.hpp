// ComponentCatalog — what the graph validator and the runtime need from the plugin registry:
// look a component up by name. The returned pointer keeps the component's library loaded for
// as long as it is held, so hold it for as long as any instance of the component lives.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/component.hpp>

namespace sluice {

// The plugin file a component comes from: what a `sluice host` process loads to run the
// component outside the kernel (`isolation: process`).
struct ComponentOrigin {
  std::filesystem::path file;   // the file in the plugin directory, for messages
  std::filesystem::path image;  // its private copy, the file the kernel loaded
  std::string package;
  std::string version;
  std::string component;  // the name the package gives it (without "package/")
  std::string hash;       // of the file's content, as it was loaded (32 hex digits)
};

class ComponentCatalog {
 public:
  virtual ~ComponentCatalog() = default;
  // nullptr when no loaded package offers `name`.
  virtual std::shared_ptr<const ComponentDescriptor> find(std::string_view name) const = 0;
  // Where `name` comes from; nullopt when it is unknown or was not loaded from a plugin file.
  virtual std::optional<ComponentOrigin> origin(std::string_view name) const {
    (void)name;
    return std::nullopt;
  }
  // Every component name, sorted.
  virtual std::vector<std::string> names() const = 0;
};

}  // namespace sluice
