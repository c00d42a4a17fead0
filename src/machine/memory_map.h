// The guest-physical memory map of a Cella PC: where RAM goes for a given memory size, and the
// E820 map (ACPI 6.5 15, "System Address Map Interfaces") the guest is told. RAM fills the
// first 4 GiB up to the PCI hole, which holds the ECAM window, the 32-bit PCI window, the
// IOAPIC and the local APIC; the rest of RAM continues at 4 GiB.
//
//   0            - 0x9fc00      RAM (boot data: GDT, zero page, page tables, command line)
//   0x9fc00      - 0x100000     reserved: EBDA, legacy video, option ROM and BIOS area; the
//                               ACPI tables live at kAcpiTables (RAM, reported reserved)
//   0x100000     - kPciHoleStart RAM (kernel, initrd)
//   kEcamBase    - +ECAM size   reserved: PCIe ECAM (MCFG), must be E820-reserved (PCI
//                               Firmware 3.2 4.1.2)
//   0xc0000000   - 0xfec00000   32-bit PCI memory window (not in the E820 map)
//   4 GiB        - ...          RAM above the hole
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "machine/boot/linux_boot.h"

namespace cella::machine {

namespace memory_map {
constexpr uint64_t kLowRamEnd = 0x9fc00;         // the EBDA starts here
constexpr uint64_t kHighMemoryStart = 0x100000;  // 1 MiB
constexpr uint64_t kAcpiTables = 0xe0000;        // the RSDP scan area (ACPI 6.5 5.2.5.1)
constexpr uint64_t kAcpiTablesEnd = 0x100000;
constexpr uint64_t kPciHoleStart = 0xb0000000;  // RAM below 4 GiB ends here
constexpr uint64_t kEcamBase = 0xb0000000;
constexpr uint64_t kPciWindow32First = 0xc0000000;
constexpr uint64_t kPciWindow32Last = 0xfebfffff;
constexpr uint64_t kFourGiB = 1ull << 32;
constexpr uint64_t kMinimumRam = 16ull << 20;  // below this no stock kernel boots
constexpr uint64_t kMaximumRam = 1ull << 40;   // 1 TiB: MAXPHYADDR 40 (cpuid policy)
}  // namespace memory_map

struct RamRange {
  uint64_t guest_physical = 0;
  uint64_t size = 0;
};

struct MemoryLayout {
  std::vector<RamRange> ram;    // what GuestMemory backs (one host mapping each)
  std::vector<E820Entry> e820;  // what the guest is told, sorted
  uint64_t below_4g = 0;        // RAM bytes below 4 GiB / above, for the CMOS
  uint64_t above_4g = 0;
};

// `ram_bytes`: a multiple of 1 MiB between kMinimumRam and kMaximumRam. `ecam_bytes`: the
// size of the ECAM window to reserve.
Result<MemoryLayout> plan_memory(uint64_t ram_bytes, uint64_t ecam_bytes);

}  // namespace cella::machine
