// ComponentCatalog — what the graph validator and the runtime need from the plugin registry:
// look a component up by name. The returned pointer keeps the component's library loaded for
// as long as it is held, so hold it for as long as any instance of the component lives.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/component.hpp>

namespace sluice {

class ComponentCatalog {
 public:
  virtual ~ComponentCatalog() = default;
  // nullptr when no loaded package offers `name`.
  virtual std::shared_ptr<const ComponentDescriptor> find(std::string_view name) const = 0;
  // Every component name, sorted.
  virtual std::vector<std::string> names() const = 0;
};

}  // namespace sluice
