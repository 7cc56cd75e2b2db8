// `sluice host`: the process an `isolation: process` node's component runs in
// (isolation/component_host.hpp). Started by the kernel with its end of a socket as fd 3; not
// for people, so hidden from the help.
#include <memory>

#include "cli/commands.hpp"
#include "isolation/component_host.hpp"

namespace sluice::cli {

void add_host_command(CLI::App& app) {
  auto options = std::make_shared<ComponentHostOptions>();
  CLI::App* host = app.add_subcommand("host", "run one component for the kernel, in a process of its own");
  host->group("");
  host->add_option("--image", options->image, "the private copy of the plugin file to load")->required();
  host->add_option("--component", options->component, "the component's name in its package")->required();
  host->add_option("--node", options->node_path, "graph/node, for messages")->required();
  host->add_option("file", options->file, "the plugin file, for messages")->required();
  host->callback([options] { set_exit_code(run_component_host(*options)); });
}

}  // namespace sluice::cli
