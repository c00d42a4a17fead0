// Far control transfers in 64-bit mode: far JMP/CALL through code-segment descriptors, far RET
// (LRETQ), IRET/IRETQ, SYSCALL/SYSRET (SDM Vol. 2A/2B, each instruction's page). Call gates,
// task switches and returns to compatibility mode are not modelled (docs/cpu.md).
#include "engines/soft/exec/system.h"

namespace cella::soft {

namespace {

using namespace attr;
using x86::Segment;
using x86::Vector;
namespace rf = x86::rflags;

void load_cs(SoftCpu& cpu, uint16_t selector, int cpl, uint64_t code) {
  cpu.arch.seg(Segment::kCs) =
      segment_from_descriptor(static_cast<uint16_t>((selector & ~3u) | cpl), code);
  cpu.privilege_changed();
}

// JMP/CALL m16:32 and REX.W m16:64: offset first, then the selector (SDM Vol. 2A JMP, CALL).
// Only code-segment descriptors at the current privilege (conforming: DPL <= CPL).
template <bool kCall, class Offset>
struct FarTransfer {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    const uint64_t address = effective_address(cpu, insn);
    Offset offset{};
    uint16_t selector = 0;
    if (!read_memory(cpu, address, offset) ||
        !read_memory(cpu, address + sizeof(Offset), selector)) {
      return Status::kFault;
    }
    const int cpl = cpu.cpl();
    uint64_t code = 0;
    if (const Status s = check_code_segment(cpu, selector, cpl, false, code); s != Status::kNext) {
      return s;
    }
    const uint64_t target = offset;
    if (!is_canonical(target)) return cpu.raise(Vector::kGeneralProtection, 0);
    if constexpr (kCall) {
      const uint64_t saved_rsp = cpu.gpr[4];
      if (!push<Offset>(cpu, cpu.arch.seg(Segment::kCs).selector) ||
          !push<Offset>(cpu, static_cast<Offset>(next_rip(cpu, insn)))) {
        cpu.gpr[4] = saved_rsp;
        return Status::kFault;
      }
    }
    if (!set_descriptor_bit(cpu, selector, code, descriptor::kAccessed)) return Status::kFault;
    load_cs(cpu, selector, cpl, code);
    cpu.rip = target;
    return Status::kBranch;
  }
};

// Pops `count` stack items of type T at RSP without moving RSP. False: fault raised.
template <class T>
bool peek_stack(SoftCpu& cpu, uint64_t* out, int count) {
  T items[5];
  const uint64_t linear = cpu.gpr[4] + cpu.segment_base[static_cast<int>(Segment::kSs)];
  if (!cpu.read_slow(linear, items, sizeof(T) * count)) return stack_segment_fault(cpu, linear);
  for (int i = 0; i < count; ++i) out[i] = items[i];
  return true;
}

// RET far [imm16] (SDM Vol. 2B RET): to the same privilege, or to an outer one popping SS:RSP.
template <class Item>
struct FarReturn {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    const uint64_t release = kOps.count == 1 ? static_cast<uint16_t>(insn.imm) : 0;
    uint64_t top[2];
    if (!peek_stack<Item>(cpu, top, 2)) return Status::kFault;
    const auto selector = static_cast<uint16_t>(top[1]);
    const int cpl = cpu.cpl(), rpl = selector & 3;
    if ((selector & ~3u) != 0 && rpl < cpl) {
      return cpu.raise(Vector::kGeneralProtection, selector & ~3u);
    }
    uint64_t code = 0;
    if (const Status s = check_code_segment(cpu, selector, rpl, true, code); s != Status::kNext) {
      return s;
    }
    if (!is_canonical(top[0])) return cpu.raise(Vector::kGeneralProtection, 0);
    uint64_t rsp = cpu.gpr[4] + 2 * sizeof(Item) + release;
    x86::SegmentRegister ss = cpu.arch.seg(Segment::kSs);
    if (rpl > cpl) {
      uint64_t outer[2];
      const uint64_t saved = cpu.gpr[4];
      cpu.gpr[4] = rsp;
      const bool ok = peek_stack<Item>(cpu, outer, 2);
      cpu.gpr[4] = saved;
      if (!ok) return Status::kFault;
      if (!check_stack_segment(cpu, static_cast<uint16_t>(outer[1]), rpl, ss)) {
        return Status::kFault;
      }
      rsp = outer[0] + release;
    }
    load_cs(cpu, selector, rpl, code);
    cpu.arch.seg(Segment::kSs) = ss;
    cpu.gpr[4] = rsp;
    cpu.rip = top[0];
    if (rpl > cpl) null_inaccessible_segments(cpu);
    return Status::kBranch;
  }
};

// IRET/IRETQ in 64-bit mode (SDM Vol. 2B IRET, "IA-32e mode" paths): pops RIP, CS, RFLAGS,
// RSP and SS, to the same or an outer privilege. Ends NMI blocking.
template <class Item>
struct InterruptReturn {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    const uint64_t current = cpu.flags.rflags();
    if (current & rf::kNt) return cpu.raise(Vector::kGeneralProtection, 0);  // no task return
    uint64_t frame[5];
    if (!peek_stack<Item>(cpu, frame, 5)) return Status::kFault;
    const auto selector = static_cast<uint16_t>(frame[1]);
    const int cpl = cpu.cpl(), rpl = selector & 3;
    if ((selector & ~3u) != 0 && rpl < cpl) {
      return cpu.raise(Vector::kGeneralProtection, selector & ~3u);
    }
    uint64_t code = 0;
    if (const Status s = check_code_segment(cpu, selector, rpl, true, code); s != Status::kNext) {
      return s;
    }
    x86::SegmentRegister ss;
    if (!check_stack_segment(cpu, static_cast<uint16_t>(frame[4]), rpl, ss)) return Status::kFault;
    if (!is_canonical(frame[0])) return cpu.raise(Vector::kGeneralProtection, 0);
    // Which RFLAGS bits the popped image may change depends on the old CPL and IOPL.
    uint64_t writable = rf::kStatus | rf::kTf | rf::kDf | rf::kNt | rf::kRf | rf::kAc | rf::kId;
    if (cpl <= iopl(cpu)) writable |= rf::kIf;
    if (cpl == 0) writable |= rf::kIopl | rf::kVif | rf::kVip;
    if constexpr (sizeof(Item) == 4) writable &= 0xffffffff;
    load_cs(cpu, selector, rpl, code);
    cpu.arch.seg(Segment::kSs) = ss;
    cpu.gpr[4] = frame[3];
    cpu.rip = frame[0];
    cpu.flags.set_rflags((current & ~writable) | (frame[2] & writable));
    cpu.nmi_blocked = false;
    if (rpl > cpl) null_inaccessible_segments(cpu);
    return Status::kBranch;
  }
};

// The flat segments SYSCALL and SYSRET load (SDM Vol. 2B SYSCALL, SYSRET): base 0, limit 4 GiB.
x86::SegmentRegister flat_segment(uint16_t selector, bool code, int dpl) {
  x86::SegmentRegister s;
  s.selector = selector;
  s.base = 0;
  s.limit = 0xffffffff;
  // type 11 (execute/read, accessed) with L, or type 3 (read/write, accessed) with B; S, P, G.
  s.attributes = static_cast<uint16_t>((code ? 0x209b : 0x4093) | (dpl << 5) | 0x8000);
  return s;
}

// SYSCALL (SDM Vol. 2B SYSCALL): in a process VM the host performs the system call; in a
// machine it enters the kernel at LSTAR with CS/SS from STAR[47:32] and RFLAGS masked by FMASK.
struct Syscall {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    const uint64_t rflags = cpu.flags.rflags() & ~rf::kRf;
    if (cpu.environment.syscall_exits) {
      cpu.rip = next_rip(cpu, insn);
      cpu.gpr[1] = cpu.rip;
      cpu.gpr[11] = rflags;
      cpu.exit_reason = ExitReason::kSyscall;
      return Status::kExit;
    }
    if (!(cpu.arch.efer & x86::efer::kSce)) return cpu.raise(Vector::kInvalidOpcode);
    cpu.gpr[1] = next_rip(cpu, insn);
    cpu.gpr[11] = rflags;
    const auto selector = static_cast<uint16_t>(cpu.arch.star >> 32);
    cpu.arch.seg(Segment::kCs) = flat_segment(selector & 0xfffc, true, 0);
    cpu.arch.seg(Segment::kSs) = flat_segment(static_cast<uint16_t>(selector + 8), false, 0);
    cpu.flags.set_rflags(rflags & ~cpu.arch.sfmask);
    cpu.rip = cpu.arch.lstar;  // canonical: WRMSR checks it
    cpu.privilege_changed();
    return Status::kBranch;
  }
};

// SYSRET with REX.W (SDM Vol. 2B SYSRET): back to 64-bit CPL 3 code at RCX with RFLAGS from
// R11; CS = STAR[63:48] + 16, SS = STAR[63:48] + 8, RPL 3. A non-canonical RCX raises #GP(0)
// at CPL 0, as Intel processors do.
struct Sysret {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    if (!(cpu.arch.efer & x86::efer::kSce)) return cpu.raise(Vector::kInvalidOpcode);
    if (!privileged(cpu)) return Status::kFault;
    if (!is_canonical(cpu.gpr[1])) return cpu.raise(Vector::kGeneralProtection, 0);
    const auto selector = static_cast<uint16_t>(cpu.arch.star >> 48);
    cpu.arch.seg(Segment::kCs) = flat_segment(static_cast<uint16_t>((selector + 16) | 3), true, 3);
    cpu.arch.seg(Segment::kSs) = flat_segment(static_cast<uint16_t>((selector + 8) | 3), false, 3);
    cpu.flags.set_rflags((cpu.gpr[11] & 0x3c7fd7) | rf::kReserved1);
    cpu.rip = cpu.gpr[1];
    cpu.privilege_changed();
    return Status::kBranch;
  }
};

constexpr uint64_t kFar = kEndsBlock | kNoDiff;

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic  opcode           operands attributes                semantics
    FORM("JMP",     "FF /5",       "M",  kFar,                   FarTransfer<false, uint32_t>),
    FORM("JMP",     "REX.W FF /5", "M",  kFar,                   FarTransfer<false, uint64_t>),
    FORM("CALL",    "FF /3",       "M",  kFar,                   FarTransfer<true, uint32_t>),
    FORM("CALL",    "REX.W FF /3", "M",  kFar,                   FarTransfer<true, uint64_t>),
    FORM("RETF",    "CB",          "",   kFar,                   FarReturn<uint32_t>),
    FORM("RETF",    "REX.W CB",    "",   kFar,                   FarReturn<uint64_t>),
    FORM("RETF",    "CA",          "Iw", kFar,                   FarReturn<uint32_t>),
    FORM("RETF",    "REX.W CA",    "Iw", kFar,                   FarReturn<uint64_t>),
    FORM("IRETD",   "CF",          "",   kFar,                   InterruptReturn<uint32_t>),
    FORM("IRETQ",   "REX.W CF",    "",   kFar,                   InterruptReturn<uint64_t>),
    FORM("SYSCALL", "0F 05",       "",   kFar | kSyscallFeature, Syscall),
    FORM("SYSRET",  "REX.W 0F 07", "",   kFar | kSyscallFeature, Sysret),
};
// clang-format on

}  // namespace

std::span<const FormSpec> system_transfer_forms() {
  return kForms;
}

}  // namespace cella::soft
