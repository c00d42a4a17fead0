#include "machine/machine.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <iterator>

#include "base/file.h"
#include "cpu/x86/state_dump.h"
#include "machine/acpi/tables.h"
#include "machine/boot/kernel_image.h"
#include "machine/boot/kernel_payload.h"
#include "machine/boot/linux_boot.h"
#include "machine/memory_map.h"

namespace cella::machine {
namespace {

RunOutcome outcome(StopReason reason, std::string detail) {
  RunOutcome result;
  result.reason = reason;
  result.detail = std::move(detail);
  return result;
}

}  // namespace

const char* describe(StopReason reason) {
  // Indexed by StopReason, in its order.
  static constexpr const char* kDescriptions[] = {
      "the guest powered off",
      "the guest reset the machine",
      "triple fault: the vCPU shut down",
      "the guest halted with interrupts disabled",
      "unsupported guest state",
      "stopped from the console",
      "stopped by a signal",
  };
  static_assert(std::size(kDescriptions) == static_cast<size_t>(StopReason::kStopRequested) + 1);
  return kDescriptions[static_cast<size_t>(reason)];
}

uint64_t Machine::GuestTsc::base() const {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(clock_.now_ns()) * kTscHz /
                               1'000'000'000);
}

uint64_t Machine::read_tsc(void* machine) {
  return static_cast<Machine*>(machine)->tsc_.base();
}

Machine::Machine(const MachineConfig& config, StdioConsole* console)
    : config_(config), console_(console) {}

Machine::~Machine() = default;

Result<std::unique_ptr<Machine>> Machine::create(const MachineConfig& config,
                                                 StdioConsole* console) {
  if (config.cpus != 1) {
    return make_error("--cpus {}: this version of Cella runs one vCPU per machine", config.cpus);
  }
  if (config.engine == Engine::kKvm) {
    return make_error("--engine kvm: the KVM engine is not available yet; use --engine soft");
  }
  std::unique_ptr<Machine> machine(new Machine(config, console));
  CELLA_TRY(machine->build());
  return machine;
}

Result<void> Machine::build() {
  wakeup_ = UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wakeup_.valid()) return errno_error("eventfd");
  PlatformConfig platform_config;
  platform_config.tsc_hz = kTscHz;
  platform_config.physical_address_bits = machine_cpuid_policy(kTscHz / 1000).physical_address_bits;
  const bool virtio_console = config_.console == ConsoleDevice::kVirtio;
  platform_config.serial = virtio_console ? nullptr : console_;
  CELLA_TRY_ASSIGN(layout, plan_memory(config_.memory_bytes, pci::Ecam::kBytesPerBus));
  platform_config.below_4g_ram = layout.below_4g;
  platform_config.above_4g_ram = layout.above_4g;
  for (const RamRange& range : layout.ram) {
    CELLA_TRY(memory_.add_ram(range.guest_physical, range.size));
  }

  PlatformEvents events;
  events.power_off = [this] {
    if (!stop_) stop_ = outcome(StopReason::kPowerOff, "");
    vcpu_->cpu().request_stop();
  };
  events.reset = [this] {
    if (!stop_) {
      stop_ = outcome(StopReason::kReset, "a reboot, or a kernel panic with panic=N");
    }
    vcpu_->cpu().request_stop();
  };
  events.after_access = [this] { update_interrupt_request(); };
  platform_ = std::make_unique<PcPlatform>(platform_config, timers_, tsc_, std::move(events));
  CELLA_TRY(platform_->attach());
  platform_->firmware_setup();

  vcpu_ = std::make_unique<SoftVcpu>(memory_, *platform_, kTscHz / 1000, &Machine::read_tsc, this);
  tsc_.set_offset(&vcpu_->cpu().arch.tsc_offset);
  // Devices write guest memory behind the CPU's back (disk reads into page-cache pages that
  // may have held code): decoded code on those pages must go.
  memory_.set_dma_write_observer(
      [this](uint64_t physical, uint64_t size) { vcpu_->invalidate_code(physical, size); });

  CELLA_TRY_ASSIGN(completions, devices::CompletionQueue::create());
  completions_ = std::move(completions);
  // A finished disk request ends the vCPU's slice, so its interrupt is not late.
  completions_->set_kick([this] { vcpu_->cpu().request_stop(); });
  CELLA_TRY_ASSIGN(pci_devices, PciDevices::create(config_, *platform_, memory_, *completions_,
                                                   virtio_console ? console_ : nullptr));
  pci_devices_ = std::move(pci_devices);
  devices::CharFrontend& console_device =
      virtio_console ? static_cast<devices::CharFrontend&>(*pci_devices_->console())
                     : platform_->serial();
  console_input_ = std::make_unique<devices::CharInputQueue>(console_device);
  console_device.set_on_receive_room([this] { console_input_->pump(); });

  // ACPI tables in the reserved BIOS area below 1 MiB (guests find the RSDP there too).
  const acpi::AcpiBlob tables =
      acpi::build_acpi_tables(platform_->acpi_config(), memory_map::kAcpiTables);
  if (tables.bytes.size() > memory_map::kAcpiTablesEnd - memory_map::kAcpiTables) {
    return make_error("ACPI tables of {} bytes do not fit below 1 MiB", tables.bytes.size());
  }
  CELLA_TRY(memory_.write(tables.base, tables.bytes));

  BootConfig boot;
  boot.memory_map = layout.e820;
  boot.cmdline = config_.cmdline;
  boot.rsdp_address = tables.rsdp_address();
  return load_linux(boot);
}

Result<void> Machine::load_linux(BootConfig boot) {
  auto kernel_file = read_file(config_.kernel_path);
  if (!kernel_file) return kernel_file.error().context(config_.kernel_path);
  auto kernel = parse_kernel(*kernel_file);
  if (!kernel) return kernel.error().context(config_.kernel_path);
  if (!config_.decompress_in_guest) {
    auto unpacked = unpack_bzimage_kernel(*kernel);
    if (!unpacked) return unpacked.error().context(config_.kernel_path);
    if (*unpacked) kernel = std::move(**unpacked);
  }
  std::vector<uint8_t> initrd;
  if (!config_.initrd_path.empty()) {
    auto initrd_file = read_file(config_.initrd_path);
    if (!initrd_file) return initrd_file.error().context(config_.initrd_path);
    initrd = std::move(*initrd_file);
  }
  boot.initrd = initrd;
  auto plan = plan_linux_boot(*kernel, boot);
  if (!plan) return plan.error().context(config_.kernel_path);
  for (const LoadSegment& segment : plan->segments) {
    CELLA_TRY(memory_.write(segment.physical, segment.bytes));
    // Fresh RAM reads as zeros, so the part past the bytes (.bss) needs no clearing.
  }
  vcpu_->cpu().set_state(plan->cpu);
  return ok();
}

void Machine::request_stop() {
  stop_requested_.store(true, std::memory_order_relaxed);
  if (vcpu_) vcpu_->cpu().request_stop();
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t written = ::write(wakeup_.get(), &one, sizeof(one));
}

void Machine::update_interrupt_request() {
  if (!vcpu_) return;
  vcpu_->cpu().request_interrupt(platform_->lapic().has_interrupt());
}

void Machine::service_devices() {
  completions_->run_posted();
  timers_.run_due();
  if (console_ != nullptr) {
    if (console_->read_input(*console_input_) == StdioConsole::Input::kQuit && !stop_) {
      stop_ = outcome(StopReason::kUserQuit, "");
    }
    console_->flush();
  }
  devices::Lapic& lapic = platform_->lapic();
  if (lapic.nmi_pending() && vcpu_->cpu().deliver_nmi()) lapic.take_nmi();
  update_interrupt_request();
}

void Machine::sleep_until_event(std::optional<uint64_t> deadline_ns) {
  int timeout_ms = -1;
  if (deadline_ns) {
    const uint64_t now = clock_.now_ns();
    // Rounded up, so that the deadline has passed when poll() returns.
    timeout_ms = *deadline_ns <= now ? 0
                                     : static_cast<int>(std::min<uint64_t>(
                                           (*deadline_ns - now + 999'999) / 1'000'000, 1000));
  }
  pollfd fds[3] = {{console_ != nullptr ? console_->input_fd() : -1, POLLIN, 0},
                   {wakeup_.get(), POLLIN, 0},
                   {completions_->fd(), POLLIN, 0}};
  ::poll(fds, 3, timeout_ms);  // EINTR (a signal) just ends the sleep early
  if (fds[1].revents & POLLIN) {
    uint64_t count;
    [[maybe_unused]] ssize_t drained = ::read(wakeup_.get(), &count, sizeof(count));
  }
}

bool Machine::wait_for_interrupt() {
  soft::SoftCpu& cpu = vcpu_->cpu();
  devices::Lapic& lapic = platform_->lapic();
  for (;;) {
    service_devices();
    if (stop_ || stop_requested_.load(std::memory_order_relaxed)) return true;
    if (lapic.nmi_pending()) return true;
    const bool interrupts_enabled = (cpu.flags.other & x86::rflags::kIf) != 0;
    // With IF clear only an NMI could wake the vCPU, and nothing in this machine sends one.
    if (!interrupts_enabled) return false;
    if (lapic.has_interrupt()) return true;
    sleep_until_event(timers_.next_deadline_ns());
  }
}

std::optional<RunOutcome> Machine::take_stop() {
  if (stop_) return std::exchange(stop_, std::nullopt);
  if (stop_requested_.exchange(false)) return outcome(StopReason::kStopRequested, "");
  return std::nullopt;
}

RunOutcome Machine::run() {
  soft::SoftCpu& cpu = vcpu_->cpu();
  devices::Lapic& lapic = platform_->lapic();
  auto died = [&](StopReason reason, std::string detail) {
    RunOutcome result = outcome(reason, std::move(detail));
    result.state_dump = x86::format_state(cpu.state());
    result.instructions = cpu.retired;
    if (console_ != nullptr) console_->flush();
    return result;
  };
  for (;;) {
    service_devices();
    if (auto stop = take_stop()) {
      stop->instructions = cpu.retired;
      if (console_ != nullptr) console_->flush();
      return *stop;
    }
    switch (cpu.run(kSliceInstructions)) {
      case soft::ExitReason::kBudget:
      case soft::ExitReason::kStopRequest:
        break;
      case soft::ExitReason::kInterruptWindow:
        if (lapic.has_interrupt()) cpu.deliver_interrupt(lapic.acknowledge());
        update_interrupt_request();
        break;
      case soft::ExitReason::kHalt:
        if (!wait_for_interrupt()) {
          return died(StopReason::kHaltedForever,
                      "HLT with RFLAGS.IF clear: nothing can wake the vCPU");
        }
        break;
      case soft::ExitReason::kTripleFault:
        return died(StopReason::kTripleFault, "an exception while delivering a double fault");
      case soft::ExitReason::kMmioFetch:
        return died(
            StopReason::kUnsupported,
            fmt::format("instruction fetch at RIP {:#x} from memory that is not RAM", cpu.rip));
      case soft::ExitReason::kUnsupported:
        return died(StopReason::kUnsupported, cpu.exit_detail);
      case soft::ExitReason::kNone:
      case soft::ExitReason::kSyscall:
      case soft::ExitReason::kFault:
        return died(StopReason::kUnsupported, "the software CPU left its run loop unexpectedly");
    }
  }
}

}  // namespace cella::machine
