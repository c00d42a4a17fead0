// Machine: one virtual PC. It owns guest memory, the platform devices, the boot vCPU and the
// host side of the serial console; create() assembles it for a Linux kernel (memory map,
// ACPI tables, the 64-bit boot protocol) and run() executes the guest until it powers off,
// resets, dies, or the host stops it.
//
// The run loop is single-threaded: the vCPU runs in slices of at most kSliceInstructions, and
// between slices (and whenever the guest halts) the machine runs the completions of device
// I/O threads (disk requests), fires the device timers that are due, reads console input,
// flushes console output and hands the local APIC's interrupts to the vCPU. A halted vCPU
// sleeps in poll() until the next timer deadline, console input or an I/O completion; a
// completion also ends the running slice early.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/file.h"
#include "base/result.h"
#include "devices/chardev.h"
#include "devices/io_thread.h"
#include "devices/timer_queue.h"
#include "machine/boot/linux_boot.h"
#include "machine/machine_config.h"
#include "machine/pc_platform.h"
#include "machine/pci_devices.h"
#include "machine/soft_vcpu.h"
#include "machine/stdio_console.h"
#include "memory/guest_memory.h"

namespace cella::machine {

// Why run() returned.
enum class StopReason {
  kPowerOff,       // the guest entered ACPI S5 (poweroff)
  kReset,          // the guest reset the machine: reboot, or a panic with panic=N
  kTripleFault,    // the vCPU shut down (SDM Vol. 3A 6.15, #DF)
  kHaltedForever,  // HLT with interrupts disabled and nothing that could wake it
  kUnsupported,    // guest state the engine does not model (detail names it)
  kUserQuit,       // the console's quit sequence
  kStopRequested,  // request_stop() (a host signal)
};

struct RunOutcome {
  StopReason reason = StopReason::kPowerOff;
  std::string detail;      // what happened, for the user
  std::string state_dump;  // the vCPU's registers when the guest died, else empty
  uint64_t instructions = 0;
  bool guest_failed() const {
    return reason == StopReason::kReset || reason == StopReason::kTripleFault ||
           reason == StopReason::kHaltedForever || reason == StopReason::kUnsupported;
  }
};

class Machine {
 public:
  // The guest TSC runs at this fixed frequency (CPUID 15H/16H), derived from host time.
  static constexpr uint64_t kTscHz = 2'000'000'000;
  static constexpr uint64_t kSliceInstructions = 200'000;

  // `console` is COM1's host side (may be null: output discarded, no input).
  static Result<std::unique_ptr<Machine>> create(const MachineConfig& config,
                                                 StdioConsole* console);
  ~Machine();

  RunOutcome run();
  // From any thread or a signal handler: stop at the next slice boundary.
  void request_stop();

 private:
  class GuestTsc final : public devices::TscSource {
   public:
    explicit GuestTsc(const Clock& clock) : clock_(clock) {}
    // The vCPU's IA32_TSC offset (its WRMSRs to the TSC), once the vCPU exists.
    void set_offset(const uint64_t* offset) { offset_ = offset; }
    uint64_t base() const;  // host monotonic time counted at kTscHz
    uint64_t tsc() const override { return base() + (offset_ != nullptr ? *offset_ : 0); }
    uint64_t tsc_hz() const override { return kTscHz; }

   private:
    const Clock& clock_;
    const uint64_t* offset_ = nullptr;
  };

  Machine(const MachineConfig& config, StdioConsole* console);
  Result<void> build();
  Result<void> load_linux(BootConfig boot);
  static uint64_t read_tsc(void* machine);

  void service_devices();  // timers, console, interrupts
  void update_interrupt_request();
  // A halted vCPU: waits for an interrupt it can take. Returns false when none can come.
  bool wait_for_interrupt();
  void sleep_until_event(std::optional<uint64_t> deadline_ns);
  std::optional<RunOutcome> take_stop();

  MachineConfig config_;
  StdioConsole* console_;
  HostClock clock_;
  devices::TimerQueue timers_{clock_};
  memory::GuestMemory memory_;
  GuestTsc tsc_{clock_};
  std::unique_ptr<PcPlatform> platform_;
  std::unique_ptr<SoftVcpu> vcpu_;
  // Before the PCI devices: their I/O threads post here until they are gone.
  std::unique_ptr<devices::CompletionQueue> completions_;
  std::unique_ptr<PciDevices> pci_devices_;
  // Console input, queued for the device the console is on (UART or virtio-console).
  std::unique_ptr<devices::CharInputQueue> console_input_;

  std::optional<RunOutcome> stop_;  // set by device events (power off, reset)
  std::atomic<bool> stop_requested_{false};
  // Wakes a halted vCPU's poll() when request_stop() comes from another thread or a signal
  // handler (an eventfd: writing it is async-signal-safe).
  UniqueFd wakeup_;
};

const char* describe(StopReason reason);

}  // namespace cella::machine
