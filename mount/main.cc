// ledgerfs: one binary for every command of PRODUCT §5. Parses the command line, runs the chosen
// subcommand and turns anything unexpected into "ledgerfs: <reason>" and an exit code; no
// exception leaves main.
#include <algorithm>
#include <exception>
#include <iostream>
#include <vector>

#include "CLI/CLI.hpp"
#include "mount/cli_util.h"
#include "mount/commands.h"
#include "spdlog/spdlog.h"

namespace {

int Run(int argc, char** argv) {
  CLI::App app{"ledgerfs: a write-once ledger of records, published as a C2SP tlog-tiles log",
               "ledgerfs"};
  app.require_subcommand(1);
  app.fallthrough();  // -v works after the subcommand too
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Log informational messages (recovery, cleanup) on stderr");
  app.footer("Exit codes: 0 ok, 1 failed, 2 usage error, 3 store busy, 4 I/O error or no space.");
  std::vector<ledgerfs::Command> commands = {
      ledgerfs::AddInitCommand(app),  ledgerfs::AddAppendCommand(app),
      ledgerfs::AddLogCommand(app),   ledgerfs::AddVerifyCommand(app),
      ledgerfs::AddProveCommand(app), ledgerfs::AddVkeyCommand(app),
      ledgerfs::AddMountCommand(app), ledgerfs::AddServeCommand(app),
  };
  // mount(8) runs "ledgerfs STORE MOUNTPOINT -o ...": no subcommand, a folder first.
  if (argc >= 3 && argv[1][0] != '-' &&
      std::none_of(commands.begin(), commands.end(),
                   [&](const ledgerfs::Command& c) { return c.app->get_name() == argv[1]; })) {
    return ledgerfs::RunFstabMount(argc, argv);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "ledgerfs: " << e.what() << "\nRun 'ledgerfs --help' for the commands."
              << std::endl;
    return ledgerfs::kExitUsage;
  }
  if (verbose) spdlog::set_level(spdlog::level::info);
  for (const ledgerfs::Command& c : commands) {
    if (c.app->parsed()) return c.run();
  }
  std::cerr << "ledgerfs: no command given\n";
  return ledgerfs::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    ledgerfs::InitLogging();
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "ledgerfs: " << e.what() << std::endl;
  } catch (...) {
    std::cerr << "ledgerfs: unexpected error" << std::endl;
  }
  return ledgerfs::kExitFailed;
}
