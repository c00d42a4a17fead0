// ArchState: the architectural state of one x86-64 logical processor, the same struct for
// every engine, so that state moves between engines, snapshots and migration streams.
#pragma once

#include <array>
#include <cstdint>

#include "cpu/x86/registers.h"

namespace cella::x86 {

// A segment register's visible selector and hidden descriptor cache (SDM Vol. 3A 3.4.3).
struct SegmentRegister {
  uint16_t selector = 0;
  uint64_t base = 0;
  uint32_t limit = 0xffff;
  // Descriptor attributes as in the VMCS access-rights format (SDM Vol. 3C 24.4.1, Table 24-2):
  // bits 3:0 type, 4 S, 6:5 DPL, 7 P, 12 AVL, 13 L, 14 D/B, 15 G.
  uint16_t attributes = 0x93;
};

// GDTR / IDTR (SDM Vol. 3A 2.4.1).
struct TableRegister {
  uint64_t base = 0;
  uint16_t limit = 0xffff;
};

// An x87 register in the 80-bit double-extended format (SDM Vol. 1 4.2.2, Figure 4-3):
// a 64-bit significand with explicit integer bit, then sign and 15-bit exponent.
struct Float80 {
  uint64_t significand = 0;
  uint16_t sign_exponent = 0;
  bool operator==(const Float80&) const = default;
};

// SDM Vol. 1 8.1: the x87 FPU execution environment.
struct X87State {
  std::array<Float80, 8> physical{};  // R0..R7; ST(i) is physical[(top + i) % 8]
  uint16_t control = 0x037f;          // FCW after FNINIT (SDM Vol. 1 8.1.5)
  uint16_t status = 0;                // FSW including TOP in bits 13:11 (SDM Vol. 1 8.1.3)
  uint16_t tag = 0xffff;              // full 2-bit tags, 11 = empty (SDM Vol. 1 8.1.7)
  uint16_t last_opcode = 0;           // FOP: 11 bits (SDM Vol. 1 8.1.9)
  uint64_t last_instruction = 0;      // FPU instruction pointer (SDM Vol. 1 8.1.8)
  uint64_t last_data = 0;             // FPU data pointer
  uint16_t last_cs = 0;               // FCS, FDS: the selectors FSTENV/FSAVE store beside the
  uint16_t last_ds = 0;               //   pointers (SDM Vol. 1 8.1.10, Figure 8-9)
  bool operator==(const X87State&) const = default;
};

// One 128-bit XMM register, little-endian lanes.
struct alignas(16) Xmm {
  uint64_t low = 0;
  uint64_t high = 0;
  bool operator==(const Xmm&) const = default;
};

struct ArchState {
  std::array<uint64_t, kGprCount> gpr{};
  uint64_t rip = 0;
  uint64_t rflags = 0x2;  // bit 1 is always set (SDM Vol. 1 3.4.3)

  std::array<SegmentRegister, kSegmentCount> segment{};
  SegmentRegister ldtr{};
  SegmentRegister tr{};
  TableRegister gdtr{};
  TableRegister idtr{};

  // SDM Vol. 3A 2.5: control registers; values after RESET (SDM Vol. 3A 10.1.1, Table 10-1).
  uint64_t cr0 = 0x60000010;
  uint64_t cr2 = 0;
  uint64_t cr3 = 0;
  uint64_t cr4 = 0;
  uint64_t cr8 = 0;
  uint64_t efer = 0;  // IA32_EFER (SDM Vol. 3A 2.2.1)
  // Event blocking, as the VMCS interruptibility state (SDM Vol. 3C 24.4.2, Table 24-3):
  // bit 0 blocking by STI, bit 1 by MOV SS (both until the instruction at RIP completes),
  // bit 3 NMIs blocked until the next IRET.
  uint32_t interruptibility = 0;
  uint64_t xcr0 = 1;  // XFEATURE_ENABLED_MASK (SDM Vol. 1 13.3): x87 always enabled

  X87State x87{};
  std::array<Xmm, 16> xmm{};
  uint32_t mxcsr = 0x1f80;  // SDM Vol. 1 10.2.3: all exceptions masked, round to nearest

  // System MSRs kept by the engine (SDM Vol. 4 2.1).
  uint64_t star = 0, lstar = 0, cstar = 0, sfmask = 0, kernel_gs_base = 0;
  uint64_t sysenter_cs = 0, sysenter_esp = 0, sysenter_eip = 0;
  uint64_t pat = 0x0007040600070406;  // IA32_PAT power-up value (SDM Vol. 3A 12.12.4)
  uint64_t tsc_aux = 0;
  uint64_t tsc_offset = 0;         // guest TSC = time source + tsc_offset (WRMSR to the TSC)
  uint64_t tsc_adjust = 0;         // IA32_TSC_ADJUST: what WRMSRs added to the TSC (SDM Vol.
                                   // 3B 18.17.3)
  uint64_t misc_enable = 0x1801;   // IA32_MISC_ENABLE: fast strings, no BTS, no PEBS
  uint64_t feature_control = 0x1;  // IA32_FEATURE_CONTROL: locked, VMX off (SDM Vol. 4 2.1)
  // IA32_ARCH_CAPABILITIES (SDM Vol. 4 Table 2-2), read-only: a software CPU does not speculate
  // and has no microarchitectural buffers, so it is not affected by RDCL (bit 0), SSB (4),
  // MDS (5), page-size-change machine checks (6), TAA (8), SBDR/SSDP (13), FBSDP (14),
  // PSDP (15), BHI (20), PBRSB (24), GDS (26) or RFDS (27). Guests then skip the mitigations
  // (page-table isolation costs a CR3 write per kernel entry and exit).
  uint64_t arch_capabilities = (1u << 0) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) |
                               (1u << 13) | (1u << 14) | (1u << 15) | (1u << 20) | (1u << 24) |
                               (1u << 26) | (1u << 27);

  // SDM Vol. 3B 18.2: debug registers DR0-DR3, DR6, DR7 (values after RESET).
  std::array<uint64_t, 4> dr{};
  uint64_t dr6 = 0xffff0ff0;
  uint64_t dr7 = 0x400;

  uint64_t& reg(Gpr r) { return gpr[static_cast<int>(r)]; }
  uint64_t reg(Gpr r) const { return gpr[static_cast<int>(r)]; }
  SegmentRegister& seg(Segment s) { return segment[static_cast<int>(s)]; }
  const SegmentRegister& seg(Segment s) const { return segment[static_cast<int>(s)]; }
};

}  // namespace cella::x86
