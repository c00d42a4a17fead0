#include "cli/run_command.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <iterator>
#include <string>

#include "cli/disk_spec.h"
#include "machine/machine.h"

namespace cella::cli {
namespace {

struct RunOptions {
  machine::MachineConfig config;
  std::string memory = "512M";
  std::string engine = "auto";
  std::vector<std::string> disks;
  std::string console = "serial";
  bool stats = false;
};

// --memory: a number of MiB (as QEMU's -m), or with a unit suffix M/MiB or G/GiB.
Result<uint64_t> parse_memory(const std::string& text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [rest, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || rest == text.data()) {
    return make_error("--memory '{}': expected a size such as 512M or 2G", text);
  }
  const std::string_view unit(rest, static_cast<size_t>(end - rest));
  uint64_t shift;
  if (unit.empty() || unit == "M" || unit == "m" || unit == "MiB") {
    shift = 20;
  } else if (unit == "G" || unit == "g" || unit == "GiB") {
    shift = 30;
  } else {
    return make_error("--memory '{}': unknown unit '{}' (use M or G)", text, unit);
  }
  if (value > (~uint64_t{0} >> shift)) return make_error("--memory '{}' is too large", text);
  return value << shift;
}

Result<machine::Engine> parse_engine(const std::string& text) {
  if (text == "soft") return machine::Engine::kSoft;
  if (text == "kvm") return machine::Engine::kKvm;
  if (text == "auto") return machine::Engine::kAuto;
  return make_error("--engine '{}': expected soft, kvm or auto", text);
}

std::atomic<machine::Machine*> g_running{nullptr};
std::atomic<int> g_signal{0};

void on_signal(int number) {
  g_signal.store(number);
  if (machine::Machine* m = g_running.load()) m->request_stop();
}

int exit_code(const machine::RunOutcome& outcome) {
  // Indexed by machine::StopReason, in its order (docs/cli.md "Exit status").
  static constexpr int kExitCodes[] = {
      run_exit::kPowerOff,
      run_exit::kGuestReset,
      run_exit::kGuestDied,
      run_exit::kGuestDied,
      run_exit::kGuestDied,
      run_exit::kUserQuit,
      -1,
  };
  static_assert(std::size(kExitCodes) ==
                static_cast<size_t>(machine::StopReason::kStopRequested) + 1);
  if (outcome.reason == machine::StopReason::kStopRequested) return 128 + g_signal.load();
  return kExitCodes[static_cast<size_t>(outcome.reason)];
}

int run(RunOptions& options) {
  auto memory = parse_memory(options.memory);
  if (!memory) {
    fmt::print(stderr, "cella run: {}\n", memory.error().message());
    return run_exit::kCannotStart;
  }
  options.config.memory_bytes = *memory;
  auto engine = parse_engine(options.engine);
  if (!engine) {
    fmt::print(stderr, "cella run: {}\n", engine.error().message());
    return run_exit::kCannotStart;
  }
  options.config.engine = *engine;
  for (const std::string& spec : options.disks) {
    auto disk = parse_disk_spec(spec);
    if (!disk) {
      fmt::print(stderr, "cella run: {}\n", disk.error().message());
      return run_exit::kCannotStart;
    }
    options.config.disks.push_back(*disk);
  }
  auto console_device = parse_console_device(options.console);
  if (!console_device) {
    fmt::print(stderr, "cella run: {}\n", console_device.error().message());
    return run_exit::kCannotStart;
  }
  options.config.console = *console_device;

  auto console = machine::StdioConsole::open(STDIN_FILENO, STDOUT_FILENO);
  if (!console) {
    fmt::print(stderr, "cella run: console: {}\n", console.error().message());
    return run_exit::kCannotStart;
  }
  auto vm = machine::Machine::create(options.config, console->get());
  if (!vm) {
    console->reset();  // restore the terminal before the message
    fmt::print(stderr, "cella run: {}\n", vm.error().message());
    return run_exit::kCannotStart;
  }
  if ((*console)->interactive()) {
    fmt::print(stderr, "cella: {} console on this terminal; Ctrl-A x quits, Ctrl-A h help\r\n",
               options.console);
  }

  g_running.store(vm->get());
  struct sigaction action = {};
  action.sa_handler = on_signal;
  for (int number : {SIGINT, SIGTERM, SIGHUP}) sigaction(number, &action, nullptr);
  const machine::RunOutcome outcome = (*vm)->run();
  g_running.store(nullptr);
  vm->reset();
  console->reset();  // the terminal back to normal before any message

  if (outcome.reason != machine::StopReason::kPowerOff) {
    fmt::print(stderr, "cella run: {}{}{}\n", machine::describe(outcome.reason),
               outcome.detail.empty() ? "" : ": ", outcome.detail);
  }
  if (!outcome.state_dump.empty()) fmt::print(stderr, "{}", outcome.state_dump);
  if (options.stats) {
    fmt::print(stderr, "cella run: {} guest instructions\n", outcome.instructions);
  }
  return exit_code(outcome);
}

}  // namespace

void register_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "boot a Linux kernel in a virtual machine");
  cmd->add_option("--kernel", options->config.kernel_path,
                  "the kernel: a bzImage or an uncompressed vmlinux ELF")
      ->required();
  cmd->add_option("--initrd", options->config.initrd_path, "an initramfs or initrd image");
  cmd->add_option("--append", options->config.cmdline, "the kernel command line");
  cmd->add_option("--memory,-m", options->memory, "guest RAM: MiB, or with a unit (512M, 2G)")
      ->capture_default_str();
  cmd->add_option("--cpus", options->config.cpus, "number of vCPUs (1 in this version)")
      ->capture_default_str();
  cmd->add_option("--engine", options->engine, "soft, kvm or auto")->capture_default_str();
  cmd->add_flag("--guest-decompress", options->config.decompress_in_guest,
                "run a bzImage's own decompressor in the guest (slower; keeps its KASLR) "
                "instead of unpacking the kernel on the host");
  cmd->add_option("--disk", options->disks,
                  "a virtio-blk disk: PATH[,format=FMT][,readonly=on][,serial=ID] "
                  "(repeatable: vda, vdb, ...; format probed when not given)");
  cmd->add_option("--console", options->console,
                  "the console device: serial (ttyS0) or virtio (hvc0)")
      ->capture_default_str();
  cmd->add_flag("--stats", options->stats, "print guest instruction counts at exit");
  cmd->callback([options] {
    const int code = run(*options);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace cella::cli
