// `cella run`: boots a Linux kernel in a virtual machine with the serial console on the
// terminal (docs/cli.md "cella run").
#pragma once

#include <CLI/CLI.hpp>

namespace cella::cli {

// Exit status of `cella run` (docs/cli.md).
namespace run_exit {
constexpr int kPowerOff = 0;     // the guest powered off
constexpr int kCannotStart = 1;  // bad option value, unreadable or invalid kernel/initrd
constexpr int kGuestReset = 2;   // the guest rebooted (or panicked with panic=N)
constexpr int kGuestDied = 3;    // triple fault, fatal halt, unsupported guest state
constexpr int kUserQuit = 4;     // Ctrl-A x on the console
// A host signal (SIGINT, SIGTERM, SIGHUP) that stopped the VM: 128 + its number.
}  // namespace run_exit

void register_run_command(CLI::App& app);

}  // namespace cella::cli
