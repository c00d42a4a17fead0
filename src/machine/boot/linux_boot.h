// Plans a Linux boot through the 64-bit boot protocol (Documentation/arch/x86/boot.rst,
// "64-bit BOOT PROTOCOL"): where the kernel, the initrd, the command line and the zero page
// (struct boot_params, Documentation/arch/x86/zero-page.rst) go in guest-physical memory, the
// identity-mapping page tables and the GDT the protocol requires, and the boot CPU's state at
// the entry point. The plan is data: the machine copies its segments into RAM and loads the
// state into the boot vCPU, whatever the engine.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "cpu/x86/arch_state.h"
#include "machine/boot/kernel_image.h"

namespace cella::machine {

// E820 address range types (ACPI 6.5 15.3, Table 15.312).
enum class E820Type : uint32_t { kRam = 1, kReserved = 2, kAcpi = 3, kNvs = 4, kUnusable = 5 };

struct E820Entry {
  uint64_t address = 0;
  uint64_t size = 0;
  E820Type type = E820Type::kRam;
};

struct BootConfig {
  std::vector<E820Entry> memory_map;  // sorted, non-overlapping; what the guest is told
  std::string cmdline;
  std::span<const uint8_t> initrd;
  uint64_t rsdp_address = 0;  // boot_params.acpi_rsdp_addr; 0: the guest scans for it
};

// The fixed low-memory layout of a Cella boot (all below the 640 KiB EBDA, in RAM).
namespace boot_layout {
constexpr uint64_t kGdt = 0x500;
constexpr uint64_t kStackTop = 0x6ff0;
constexpr uint64_t kZeroPage = 0x7000;
constexpr uint64_t kPml4 = 0x9000;
constexpr uint64_t kPdpt = 0xa000;
constexpr uint64_t kPageDirectories = 0xb000;  // four, identity-mapping 4 GiB in 2 MiB pages
constexpr uint64_t kCmdline = 0x20000;
constexpr uint64_t kLowMemoryEnd = 0x9fc00;  // the EBDA starts here
// Boot protocol "64-bit BOOT PROTOCOL": selectors __BOOT_CS and __BOOT_DS.
constexpr uint16_t kBootCs = 0x10;
constexpr uint16_t kBootDs = 0x18;
}  // namespace boot_layout

struct BootPlan {
  std::vector<LoadSegment> segments;  // copy into guest RAM (each lies inside RAM)
  x86::ArchState cpu;                 // the boot CPU at the kernel's 64-bit entry
  uint64_t kernel_address = 0;
  uint64_t initrd_address = 0;  // 0 without an initrd
};

Result<BootPlan> plan_linux_boot(const KernelImage& kernel, const BootConfig& config);

}  // namespace cella::machine
