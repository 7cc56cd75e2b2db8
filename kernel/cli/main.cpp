// sluice — the command line: one binary, one subcommand per job.
#include <CLI/CLI.hpp>
#include <iostream>

#include <sluice/component.hpp>

#include "cli/commands.hpp"

namespace {

// `sluice` alone or with a word that is no command: the help, so a newcomer sees what there is.
int command_missing(const CLI::App& app) {
  const std::vector<std::string> words = app.remaining();
  if (words.empty()) {
    std::cerr << "sluice: a command is required\n\n";
  } else {
    const bool option = words.front().starts_with('-');
    std::cerr << "sluice: unknown " << (option ? "option" : "command") << " '" << words.front() << "'";
    std::vector<std::string> commands;
    for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; }))
      commands.push_back(command->get_name());
    if (auto hint = sluice::closest_match(words.front(), commands); !option && !hint.empty())
      std::cerr << " (did you mean '" << hint << "'?)";
    std::cerr << "\n\n";
  }
  std::cerr << app.help();
  return 2;
}

}  // namespace

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
  sluice::cli::add_tap_command(app);
  sluice::cli::add_host_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    if (app.get_subcommands().empty()) return command_missing(app);
    app.exit(e);
    return 2;  // a usage error, like every command's own
  }
  return sluice::cli::exit_code();
}
