#include "cli/commands.hpp"

namespace sluice::cli {

namespace {
int process_exit_code = 0;
}

void add_plugin_dirs_option(CLI::App& command, std::vector<std::string>& dirs) {
  command.add_option("--plugins", dirs,
                     "plugin directory (repeatable); searched before SLUICE_PLUGIN_PATH and the "
                     "installed default");
}

void set_exit_code(int code) { process_exit_code = code; }
int exit_code() { return process_exit_code; }

}  // namespace sluice::cli
