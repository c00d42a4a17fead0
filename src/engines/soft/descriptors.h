// Segment descriptors and system tables as the software CPU reads them: implicit
// supervisor-mode accesses to the GDT, LDT, IDT and TSS (SDM Vol. 3A 4.6.1), descriptor
// fields (SDM Vol. 3A 3.4.5, Figure 3-8), and the segment-register caches loaded from them.
#pragma once

#include <cstdint>

#include "cpu/x86/arch_state.h"
#include "engines/soft/cpu.h"

namespace cella::soft {

// SDM Vol. 3A 3.4.5: fields of the high doubleword of a segment descriptor, shifted to the
// 64-bit descriptor value (bits 63:32).
namespace descriptor {
inline constexpr uint64_t kAccessed = uint64_t{1} << 40;  // type bit 0 of code/data
inline constexpr uint64_t kWritable = uint64_t{1} << 41;  // data: writable; code: readable
inline constexpr uint64_t kConforming = uint64_t{1} << 42;
inline constexpr uint64_t kCode = uint64_t{1} << 43;
inline constexpr uint64_t kTssBusy = uint64_t{1} << 41;  // system type 9 -> 11
inline constexpr uint64_t kS = uint64_t{1} << 44;        // code or data (not system)
inline constexpr uint64_t kPresent = uint64_t{1} << 47;
inline constexpr uint64_t kLong = uint64_t{1} << 53;  // L: 64-bit code
inline constexpr uint64_t kDb = uint64_t{1} << 54;
constexpr unsigned type(uint64_t d) {
  return static_cast<unsigned>(d >> 40) & 0xf;
}
constexpr int dpl(uint64_t d) {
  return static_cast<int>(d >> 45) & 3;
}
// SDM Vol. 3A Table 3-2: system descriptor types in IA-32e mode.
inline constexpr unsigned kLdtType = 2, kTssAvailable = 9, kTssBusyType = 11;
inline constexpr unsigned kInterruptGate = 14, kTrapGate = 15;
}  // namespace descriptor

// VMCS access-rights layout of SegmentRegister::attributes (SDM Vol. 3C Table 24-2).
namespace attributes {
inline constexpr uint16_t kLong = 1u << 13;
inline constexpr uint16_t kDb = 1u << 14;
inline constexpr uint16_t kPresent = 1u << 7;
}  // namespace attributes

// Runs `f` with supervisor-mode access rights: accesses to system tables are implicit
// supervisor-mode accesses whatever the CPL (SDM Vol. 3A 4.6.1).
template <class F>
auto as_supervisor(SoftCpu& cpu, F&& f) {
  const bool user = cpu.tlb.user();
  cpu.tlb.set_user(false);
  auto result = f();
  cpu.tlb.set_user(user);
  return result;
}

bool system_read(SoftCpu& cpu, uint64_t linear, void* data, size_t size);
bool system_write(SoftCpu& cpu, uint64_t linear, const void* data, size_t size);

// Reads the 8-byte descriptor of `selector` from the GDT or LDT (TI). A selector beyond the
// table limit raises #GP(selector & ~3 | ext). `high` (optional) receives the next 8 bytes,
// for the 16-byte system descriptors of IA-32e mode (SDM Vol. 3A 7.2.3); its address is
// checked against the limit too.
bool read_descriptor(SoftCpu& cpu, uint16_t selector, uint64_t& low, uint64_t* high, uint32_t ext);
// Sets the accessed bit (or the TSS busy bit) in the descriptor of `selector` in memory,
// atomically, unless it is already set.
bool set_descriptor_bit(SoftCpu& cpu, uint16_t selector, uint64_t low, uint64_t bit);

// The segment-register cache for a code/data descriptor (SDM Vol. 3A 3.4.3).
x86::SegmentRegister segment_from_descriptor(uint16_t selector, uint64_t low);
// The cache for a 16-byte system descriptor (LDT, TSS): the base has 64 bits.
x86::SegmentRegister system_segment_from_descriptor(uint16_t selector, uint64_t low, uint64_t high);

// The 64-bit TSS (SDM Vol. 3A 7.7, Figure 7-11): RSP0-2 at 4, 12, 20; IST1-7 at 36 + 8 (n-1);
// the I/O map base at 102.
inline constexpr uint32_t kTssRsp0 = 4, kTssIst1 = 36, kTssIoMapBase = 102;
// Reads `size` bytes at `offset` in the current TSS; beyond its limit raises #TS(TR | ext).
bool read_tss(SoftCpu& cpu, uint32_t offset, void* data, size_t size, uint32_t ext);

}  // namespace cella::soft
