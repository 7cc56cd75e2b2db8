// sluice — the command line: one binary, one subcommand per job.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"sluice — a dataflow runtime: plugins, YAML graphs, fibers, REST ingress"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(SLUICE_VERSION));
  sluice::cli::add_plugins_command(app);
  sluice::cli::add_graph_commands(app);
  sluice::cli::add_run_command(app);
  sluice::cli::add_serve_command(app);
  sluice::cli::add_new_command(app);
  sluice::cli::add_deploy_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return sluice::cli::exit_code();
}
