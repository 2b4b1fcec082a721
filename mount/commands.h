// The `ledgerfs` subcommands (PRODUCT §5). Each Add*Command registers one CLI11 subcommand with
// its options and returns how to run it once the command line has been parsed; the run function
// reports its own errors on stderr and returns the process exit code (docs/cli.md).
#pragma once

#include <functional>

#include "CLI/CLI.hpp"

namespace ledgerfs {

struct Command {
  CLI::App* app = nullptr;   // the subcommand; app->parsed() says whether it was chosen
  std::function<int()> run;  // runs it; returns the exit code
};

Command AddInitCommand(CLI::App& parent);
Command AddAppendCommand(CLI::App& parent);
Command AddLogCommand(CLI::App& parent);
Command AddVerifyCommand(CLI::App& parent);
Command AddProveCommand(CLI::App& parent);
Command AddVkeyCommand(CLI::App& parent);
Command AddMountCommand(CLI::App& parent);
Command AddServeCommand(CLI::App& parent);

// `ledgerfs STORE MOUNTPOINT -o tenant=ID,...`: the form mount(8) and /etc/fstab run.
int RunFstabMount(int argc, char** argv);

}  // namespace ledgerfs
