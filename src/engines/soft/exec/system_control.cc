// System registers and tables: MOV to/from CR0/CR2/CR3/CR4/CR8 and DR0-DR7, LGDT LIDT SGDT
// SIDT, LMSW SMSW CLTS, INVLPG INVD WBINVD, RDMSR WRMSR, SWAPGS (SDM Vol. 2A/2B, each
// instruction's page; Vol. 3A 2.5 for the control registers, 4.10.4 for TLB invalidation).
#include "cpu/x86/msrs.h"
#include "engines/soft/exec/system.h"

namespace cella::soft {

namespace {

using namespace attr;
using x86::Vector;
namespace cr0 = x86::cr0;
namespace cr4 = x86::cr4;

bool gp(SoftCpu& cpu) {
  cpu.raise(Vector::kGeneralProtection, 0);
  return false;
}

// SDM Vol. 2B MOV to CR0: bits 63:32 set, PG without PE, NW without CD, or clearing PG in
// IA-32e mode raise #GP(0); reserved bits of 31:0 are ignored, ET reads as 1.
bool write_cr0(SoftCpu& cpu, uint64_t value) {
  if (value >> 32) return gp(cpu);
  if (((value & cr0::kPg) && !(value & cr0::kPe)) || ((value & cr0::kNw) && !(value & cr0::kCd))) {
    return gp(cpu);
  }
  if ((cpu.arch.efer & x86::efer::kLma) && !(value & cr0::kPg)) return gp(cpu);
  if (!(cpu.arch.cr0 & cr0::kPg) && (value & cr0::kPg) && (cpu.arch.efer & x86::efer::kLme)) {
    // SDM Vol. 3A 10.8.5: enabling paging with LME activates IA-32e mode (needs CR4.PAE).
    if (!(cpu.arch.cr4 & cr4::kPae)) return gp(cpu);
    cpu.arch.efer |= x86::efer::kLma;
  }
  value = (value & cr0::kDefined) | cr0::kEt;
  const uint64_t changed = value ^ cpu.arch.cr0;
  cpu.arch.cr0 = value;
  if (changed & (cr0::kPg | cr0::kWp | cr0::kPe)) cpu.tlb.flush_all();  // SDM Vol. 3A 4.10.4.1
  return true;
}

bool write_cr2(SoftCpu& cpu, uint64_t value) {
  cpu.arch.cr2 = value;
  return true;
}

// SDM Vol. 3A 4.5: CR3 bits MAXPHYADDR-63 are reserved (PCIDs are not advertised). A write
// flushes every non-global translation (SDM Vol. 3A 4.10.4.1).
bool write_cr3(SoftCpu& cpu, uint64_t value) {
  if (value >> cpu.cpuid.physical_address_bits) return gp(cpu);
  cpu.arch.cr3 = value;
  cpu.tlb.flush_non_global();
  return true;
}

// SDM Vol. 2B MOV to CR4: bits the CPU does not advertise raise #GP(0), as does clearing PAE
// in IA-32e mode; changing a paging bit flushes every translation, global ones included.
bool write_cr4(SoftCpu& cpu, uint64_t value) {
  if (value & ~cr4_settable(cpu.cpuid)) return gp(cpu);
  if ((cpu.arch.efer & x86::efer::kLma) && !(value & cr4::kPae)) return gp(cpu);
  const uint64_t changed = value ^ cpu.arch.cr4;
  cpu.arch.cr4 = value;
  if (changed & cr4::kPagingBits) cpu.tlb.flush_all();
  return true;
}

// SDM Vol. 3A 10.8.6.6: CR8 is the task-priority class; bits 63:4 are reserved.
bool write_cr8(SoftCpu& cpu, uint64_t value) {
  if (value >> 4) return gp(cpu);
  cpu.arch.cr8 = value;
  return true;
}

// The control registers by number: their state and write rules; the others are #UD.
struct ControlRegister {
  uint64_t x86::ArchState::*field;
  bool (*write)(SoftCpu&, uint64_t);
};
constexpr ControlRegister kControlRegisters[16] = {
    {&x86::ArchState::cr0, write_cr0},
    {},
    {&x86::ArchState::cr2, write_cr2},
    {&x86::ArchState::cr3, write_cr3},
    {&x86::ArchState::cr4, write_cr4},
    {},
    {},
    {},
    {&x86::ArchState::cr8, write_cr8},
};

// MOV r64, CRn / MOV CRn, r64: 64-bit operands in 64-bit mode whatever the prefixes (the SDM's
// "Rd,Cd" codes; written q here). The ModRM mod field must be 11b (other encodings #UD).
template <bool kWrite>
struct MoveControl {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    const ControlRegister& cr = kControlRegisters[insn.reg & 15];
    if (cr.field == nullptr) return cpu.raise(Vector::kInvalidOpcode);
    if (!privileged(cpu)) return Status::kFault;
    if constexpr (kWrite) {
      return cr.write(cpu, cpu.reg<uint64_t>(insn.rm)) ? Status::kNext : Status::kFault;
    }
    cpu.set_reg<uint64_t>(insn.rm, cpu.arch.*cr.field);
    return Status::kNext;
  }
};

// MOV to/from DR0-DR7 (SDM Vol. 3B 18.2): DR4/DR5 alias DR6/DR7 unless CR4.DE (then #UD);
// DR6/DR7 bits 63:32 must be zero. Breakpoints are stored, not armed (docs/cpu.md).
template <bool kWrite>
struct MoveDebug {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    unsigned n = insn.reg;
    if (n >= 8) return cpu.raise(Vector::kInvalidOpcode);
    if (!privileged(cpu)) return Status::kFault;
    if (n == 4 || n == 5) {
      if (cpu.arch.cr4 & cr4::kDe) return cpu.raise(Vector::kInvalidOpcode);
      n += 2;
    }
    uint64_t* dr = n < 4 ? &cpu.arch.dr[n] : n == 6 ? &cpu.arch.dr6 : &cpu.arch.dr7;
    if constexpr (kWrite) {
      uint64_t value = cpu.reg<uint64_t>(insn.rm);
      if (n >= 6 && (value >> 32)) return cpu.raise(Vector::kGeneralProtection, 0);
      // SDM Vol. 3B 18.2.3, 18.2.4: fixed bits of DR6 (ones) and DR7 (bit 10).
      if (n == 6) value = (value & 0x1e00f) | 0xfffe0ff0;
      if (n == 7) value = (value & 0xffff2bff) | 0x400;
      *dr = value;
    } else {
      cpu.set_reg<uint64_t>(insn.rm, *dr);
    }
    return Status::kNext;
  }
};

// LGDT/LIDT m16&64, SGDT/SIDT m16&64 (64-bit mode: always an 8-byte base). Loading is
// privileged and needs a canonical base; storing is allowed at any CPL (UMIP not advertised).
template <bool kLoad, x86::TableRegister x86::ArchState::*kTable>
struct DescriptorTable {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    const uint64_t address = effective_address(cpu, insn);
    if constexpr (kLoad) {
      if (!privileged(cpu)) return Status::kFault;
      uint16_t limit = 0;
      uint64_t base = 0;
      if (!read_memory(cpu, address, limit) || !read_memory(cpu, address + 2, base)) {
        return Status::kFault;
      }
      if (!is_canonical(base)) return cpu.raise(Vector::kGeneralProtection, 0);
      cpu.arch.*kTable = x86::TableRegister{base, limit};
      return Status::kNext;
    }
    uint8_t image[10];
    const x86::TableRegister& table = cpu.arch.*kTable;
    __builtin_memcpy(image, &table.limit, 2);
    __builtin_memcpy(image + 2, &table.base, 8);
    return cpu.write_slow(address, image, sizeof(image)) ? Status::kNext : Status::kFault;
  }
};

// LMSW: loads CR0 bits 3:0 (PE MP EM TS); PE can be set but not cleared (SDM Vol. 2A LMSW).
struct LoadMachineStatus {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (!privileged(cpu)) return Status::kFault;
    uint16_t value = 0;
    if (!Arg<kOps, 0, kMem>::template read<uint16_t>(cpu, insn, value)) return Status::kFault;
    const uint64_t low = cr0::kPe | cr0::kMp | cr0::kEm | cr0::kTs;
    cpu.arch.cr0 = (cpu.arch.cr0 & ~(low & ~cr0::kPe)) | (value & low);
    return Status::kNext;
  }
};

// SMSW: CR0 (16 bits to memory, the operand size to a register).
struct StoreMachineStatus {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if constexpr (kMem) {
      const auto value = static_cast<uint16_t>(cpu.arch.cr0);
      return Arg<kOps, 0, kMem>::template write<uint16_t>(cpu, insn, value) ? Status::kNext
                                                                            : Status::kFault;
    }
    Arg<kOps, 0, kMem>::template write<T>(cpu, insn, static_cast<T>(cpu.arch.cr0));
    return Status::kNext;
  }
};

struct ClearTaskSwitched {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    if (!privileged(cpu)) return Status::kFault;
    cpu.arch.cr0 &= ~cr0::kTs;
    return Status::kNext;
  }
};

// INVLPG m: no fault even for an unmapped or non-canonical address (SDM Vol. 2A INVLPG).
struct InvalidatePage {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (!privileged(cpu)) return Status::kFault;
    cpu.tlb.flush_page(effective_address(cpu, insn));
    return Status::kNext;
  }
};

// INVD / WBINVD: there is no cache; privileged.
struct InvalidateCaches {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    return privileged(cpu) ? Status::kNext : Status::kFault;
  }
};

x86::MsrContext msr_context(SoftCpu& cpu) {
  return x86::MsrContext{&cpu.platform(), &cpu.cpuid, cpu.time_source()};
}

// RDMSR: EDX:EAX = MSR[ECX] through the MSR table (cpu/x86/msrs.inc); #GP(0) if absent.
struct ReadMsr {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    if (!privileged(cpu)) return Status::kFault;
    uint64_t value = 0;
    if (!x86::read_msr(cpu.arch, msr_context(cpu), static_cast<uint32_t>(cpu.gpr[1]), value)) {
      return cpu.raise(Vector::kGeneralProtection, 0);
    }
    cpu.gpr[0] = static_cast<uint32_t>(value);
    cpu.gpr[2] = value >> 32;
    return Status::kNext;
  }
};

// WRMSR: MSR[ECX] = EDX:EAX; the CPU then follows the state it caches (FS/GS bases, and
// translations when EFER.NXE changes: SDM Vol. 3A 4.10.4.1 lists no such rule, but cached
// permissions depend on it).
struct WriteMsr {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    if (!privileged(cpu)) return Status::kFault;
    const uint64_t value = (cpu.gpr[2] << 32) | static_cast<uint32_t>(cpu.gpr[0]);
    const uint64_t efer = cpu.arch.efer;
    if (!x86::write_msr(cpu.arch, msr_context(cpu), static_cast<uint32_t>(cpu.gpr[1]), value)) {
      return cpu.raise(Vector::kGeneralProtection, 0);
    }
    cpu.sync_segment_bases();
    if ((efer ^ cpu.arch.efer) & x86::efer::kNxe) cpu.tlb.flush_all();
    return Status::kNext;
  }
};

// SWAPGS: exchanges the GS base with IA32_KERNEL_GS_BASE (SDM Vol. 2B SWAPGS).
struct SwapGs {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    if (!privileged(cpu)) return Status::kFault;
    std::swap(cpu.arch.seg(x86::Segment::kGs).base, cpu.arch.kernel_gs_base);
    cpu.sync_segment_bases();
    return Status::kNext;
  }
};

using x86::ArchState;
constexpr uint64_t kMsr = feature(x86::Feature::kMsr);
constexpr uint64_t kSystem = kEndsBlock | kNoDiff;  // may change translations or privilege

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic  opcode      operands attributes        semantics
    FORM("MOV",    "0F 20 /r", "Rq,Cq", kNoDiff,        MoveControl<false>),
    FORM("MOV",    "0F 22 /r", "Cq,Rq", kSystem,        MoveControl<true>),
    FORM("MOV",    "0F 21 /r", "Rq,Dq", kNoDiff,        MoveDebug<false>),
    FORM("MOV",    "0F 23 /r", "Dq,Rq", kNoDiff,        MoveDebug<true>),
    FORM("SGDT",   "0F 01 /0", "M",     kNoDiff,        DescriptorTable<false, &ArchState::gdtr>),
    FORM("SIDT",   "0F 01 /1", "M",     kNoDiff,        DescriptorTable<false, &ArchState::idtr>),
    FORM("LGDT",   "0F 01 /2", "M",     kNoDiff,        DescriptorTable<true, &ArchState::gdtr>),
    FORM("LIDT",   "0F 01 /3", "M",     kNoDiff,        DescriptorTable<true, &ArchState::idtr>),
    FORM("SMSW",   "0F 01 /4", "Ev",    kNoDiff,        StoreMachineStatus),
    FORM("LMSW",   "0F 01 /6", "Ew",    kSystem,        LoadMachineStatus),
    FORM("INVLPG", "0F 01 /7", "Mb",    kSystem,        InvalidatePage),
    FORM("SWAPGS", "0F 01 F8", "",      kNoDiff,        SwapGs),
    FORM("CLTS",   "0F 06",    "",      kNoDiff,        ClearTaskSwitched),
    FORM("INVD",   "0F 08",    "",      kNoDiff,        InvalidateCaches),
    FORM("WBINVD", "0F 09",    "",      kNoDiff,        InvalidateCaches),
    FORM("WRMSR",  "0F 30",    "",      kSystem | kMsr, WriteMsr),
    FORM("RDMSR",  "0F 32",    "",      kNoDiff | kMsr, ReadMsr),
};
// clang-format on

}  // namespace

std::span<const FormSpec> system_control_forms() {
  return kForms;
}

}  // namespace cella::soft
