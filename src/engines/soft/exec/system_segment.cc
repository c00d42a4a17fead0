// Segment registers and system segments in 64-bit mode: MOV Sreg, PUSH/POP FS/GS, LLDT, LTR,
// SLDT, STR, LAR, LSL, VERR, VERW (SDM Vol. 2A/2B, each instruction's page; Vol. 3A 3.4, 5.5-5.8),
// and the descriptor checks far transfers share (exec/system.h).
#include "engines/soft/exec/system.h"

namespace cella::soft {

using x86::Segment;
using x86::Vector;
using namespace descriptor;

x86::SegmentRegister null_segment(uint16_t selector, int dpl) {
  x86::SegmentRegister s;
  s.selector = selector;
  s.base = 0;
  s.limit = 0;
  s.attributes = static_cast<uint16_t>(dpl << 5);  // P = 0: unusable
  return s;
}

bool io_allowed(SoftCpu& cpu, uint16_t port, unsigned size) {
  if (cpu.cpl() <= iopl(cpu)) return true;
  uint16_t map_base = 0;
  if (!read_tss(cpu, kTssIoMapBase, &map_base, sizeof(map_base), 0)) {
    cpu.raise(Vector::kGeneralProtection, 0);
    return false;
  }
  // Two bytes, since the range may span a byte boundary; beyond the TSS limit means denied.
  const uint32_t offset = map_base + port / 8u;
  uint16_t bits = 0xffff;
  if (offset + 1 > cpu.arch.tr.limit ||
      !system_read(cpu, cpu.arch.tr.base + offset, &bits, sizeof(bits))) {
    cpu.raise(Vector::kGeneralProtection, 0);
    return false;
  }
  if ((bits >> (port % 8)) & ((1u << size) - 1)) {
    cpu.raise(Vector::kGeneralProtection, 0);
    return false;
  }
  return true;
}

bool load_data_segment(SoftCpu& cpu, Segment segment, uint16_t selector) {
  const int cpl = cpu.cpl();
  const int rpl = selector & 3;
  const uint32_t error = selector & ~3u;
  x86::SegmentRegister cache;
  if ((selector & ~3u) == 0) {
    // SDM Vol. 3A 3.4.4 / Vol. 2B MOV: a null selector; SS only below CPL 3 with RPL = CPL.
    if (segment == Segment::kSs && (cpl == 3 || rpl != cpl)) {
      cpu.raise(Vector::kGeneralProtection, 0);
      return false;
    }
    // Intel processors clear the FS/GS base on a null load (Cella presents an Intel CPU).
    cache = null_segment(selector, segment == Segment::kSs ? cpl : 0);
  } else {
    uint64_t d = 0;
    if (!read_descriptor(cpu, selector, d, nullptr, 0)) return false;
    const bool code = (d & kCode) != 0;
    if (segment == Segment::kSs) {
      if (!(d & kS) || code || !(d & kWritable) || rpl != cpl || dpl(d) != cpl) {
        cpu.raise(Vector::kGeneralProtection, error);
        return false;
      }
      if (!(d & kPresent)) {
        cpu.raise(Vector::kStackFault, error);
        return false;
      }
    } else {
      const bool usable = (d & kS) && (!code || (d & kWritable));  // data, or readable code
      const bool privileged_enough =
          (code && (d & kConforming)) || (rpl <= dpl(d) && cpl <= dpl(d));
      if (!usable || !privileged_enough) {
        cpu.raise(Vector::kGeneralProtection, error);
        return false;
      }
      if (!(d & kPresent)) {
        cpu.raise(Vector::kSegmentNotPresent, error);
        return false;
      }
    }
    if (!set_descriptor_bit(cpu, selector, d, kAccessed)) return false;
    cache = segment_from_descriptor(selector, d | kAccessed);
  }
  cpu.arch.seg(segment) = cache;
  cpu.sync_segment_bases();
  return true;
}

Status check_code_segment(SoftCpu& cpu, uint16_t selector, int new_cpl, bool returning,
                          uint64_t& code) {
  if ((selector & ~3u) == 0) return cpu.raise(Vector::kGeneralProtection, 0);
  const uint32_t error = selector & ~3u;
  if (!read_descriptor(cpu, selector, code, nullptr, 0)) return Status::kFault;
  if ((code & (kS | kCode)) != (kS | kCode)) return cpu.raise(Vector::kGeneralProtection, error);
  // SDM Vol. 2A JMP / Vol. 2B RET: conforming code needs DPL <= CPL (returns: <= RPL);
  // nonconforming code DPL = CPL (returns: = RPL), and a jump's RPL <= CPL.
  const bool conforming = (code & kConforming) != 0;
  const bool allowed = conforming
                           ? dpl(code) <= new_cpl
                           : dpl(code) == new_cpl && (returning || (selector & 3) <= new_cpl);
  if (!allowed) return cpu.raise(Vector::kGeneralProtection, error);
  if (!(code & kPresent)) return cpu.raise(Vector::kSegmentNotPresent, error);
  if (!(code & kLong) || (code & kDb)) {
    cpu.exit_reason = ExitReason::kUnsupported;
    cpu.exit_detail = "far transfer to compatibility mode (a code segment with L = 0)";
    return Status::kExit;
  }
  return Status::kNext;
}

bool check_stack_segment(SoftCpu& cpu, uint16_t selector, int new_cpl, x86::SegmentRegister& ss) {
  if ((selector & ~3u) == 0) {
    if (new_cpl == 3) {
      cpu.raise(Vector::kGeneralProtection, 0);
      return false;
    }
    ss = null_segment(selector, new_cpl);
    return true;
  }
  const uint32_t error = selector & ~3u;
  uint64_t d = 0;
  if (!read_descriptor(cpu, selector, d, nullptr, 0)) return false;
  if ((selector & 3) != new_cpl || !(d & kS) || (d & kCode) || !(d & kWritable) ||
      dpl(d) != new_cpl) {
    cpu.raise(Vector::kGeneralProtection, error);
    return false;
  }
  if (!(d & kPresent)) {
    cpu.raise(Vector::kStackFault, error);
    return false;
  }
  ss = segment_from_descriptor(selector, d);
  return true;
}

void null_inaccessible_segments(SoftCpu& cpu) {
  const int cpl = cpu.cpl();
  for (Segment s : {Segment::kEs, Segment::kDs, Segment::kFs, Segment::kGs}) {
    const x86::SegmentRegister& r = cpu.arch.seg(s);
    const bool conforming_code = (r.attributes & 0x1c) == 0x1c;  // S, code, conforming
    const int segment_dpl = (r.attributes >> 5) & 3;
    if ((r.selector & ~3u) != 0 && !conforming_code && segment_dpl < cpl) {
      // The selector goes; in 64-bit mode FS/GS keep their base (SDM Vol. 2B IRET note).
      const uint64_t base = r.base;
      cpu.arch.seg(s) = null_segment(0, 0);
      if (s == Segment::kFs || s == Segment::kGs) cpu.arch.seg(s).base = base;
    }
  }
  cpu.sync_segment_bases();
}

namespace {

using namespace attr;

// MOV Sreg, r/m16 (SDM Vol. 2B MOV): CS cannot be loaded (#UD); MOV SS inhibits interrupts
// until the next instruction completes (SDM Vol. 3A 6.8.3).
struct MoveToSegment {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    const auto segment = static_cast<Segment>(insn.reg);
    if (segment == Segment::kCs) return cpu.raise(Vector::kInvalidOpcode);
    uint16_t selector = 0;
    if (!Arg<kOps, 1, kMem>::template read<uint16_t>(cpu, insn, selector)) return Status::kFault;
    if (!load_data_segment(cpu, segment, selector)) return Status::kFault;
    if (segment == Segment::kSs) {
      cpu.interrupt_shadow = true;
      cpu.shadow_rip = next_rip(cpu, insn);
    }
    return Status::kNext;
  }
};

// PUSH FS/GS: the selector, zero-extended to the operand size.
template <Segment kSegment>
struct PushSegment {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    return push<T>(cpu, static_cast<T>(cpu.arch.seg(kSegment).selector)) ? Status::kNext
                                                                         : Status::kFault;
  }
};

// POP FS/GS: RSP moves only if the segment load succeeds.
template <Segment kSegment>
struct PopSegment {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    const uint64_t saved_rsp = cpu.gpr[4];
    T value{};
    if (!pop<T>(cpu, value)) return Status::kFault;
    if (!load_data_segment(cpu, kSegment, static_cast<uint16_t>(value))) {
      cpu.gpr[4] = saved_rsp;
      return Status::kFault;
    }
    return Status::kNext;
  }
};

// LLDT / LTR (SDM Vol. 2A LLDT, LTR): 16-byte system descriptors in IA-32e mode; LTR marks the
// TSS busy. A null selector empties LDTR and is #GP(0) for LTR.
template <bool kTask>
struct LoadSystemSegment {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (!privileged(cpu)) return Status::kFault;
    uint16_t selector = 0;
    if (!Arg<kOps, 0, kMem>::template read<uint16_t>(cpu, insn, selector)) return Status::kFault;
    const uint32_t error = selector & ~3u;
    if ((selector & ~3u) == 0) {
      if constexpr (kTask) return cpu.raise(Vector::kGeneralProtection, 0);
      cpu.arch.ldtr = null_segment(selector, 0);
      return Status::kNext;
    }
    if (selector & 4) return cpu.raise(Vector::kGeneralProtection, error);  // must be in GDT
    uint64_t low = 0, high = 0;
    if (!read_descriptor(cpu, selector, low, &high, 0)) return Status::kFault;
    const unsigned wanted = kTask ? kTssAvailable : kLdtType;
    // SDM Vol. 3A 8.2.3, Figure 8-4: bits 12:8 of the descriptor's fourth doubleword (bits
    // 44:40 of `high`; bits 31:0 of `high` are base 63:32) must be zero.
    if ((low & kS) || type(low) != wanted || ((high >> 40) & 0x1f) != 0) {
      return cpu.raise(Vector::kGeneralProtection, error);
    }
    if (!(low & kPresent)) return cpu.raise(Vector::kSegmentNotPresent, error);
    x86::SegmentRegister cache = system_segment_from_descriptor(selector, low, high);
    if (!is_canonical(cache.base)) return cpu.raise(Vector::kGeneralProtection, error);
    if constexpr (kTask) {
      if (!set_descriptor_bit(cpu, selector, low, kTssBusy)) return Status::kFault;
      cache.attributes |= 2;  // busy
      cpu.arch.tr = cache;
    } else {
      cpu.arch.ldtr = cache;
    }
    return Status::kNext;
  }
};

// SLDT / STR: the selector; a register destination receives it zero-extended.
template <bool kTask>
struct StoreSystemSegment {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    const uint16_t selector = kTask ? cpu.arch.tr.selector : cpu.arch.ldtr.selector;
    if constexpr (kMem) {
      return Arg<kOps, 0, kMem>::template write<uint16_t>(cpu, insn, selector) ? Status::kNext
                                                                               : Status::kFault;
    }
    Arg<kOps, 0, kMem>::template write<T>(cpu, insn, static_cast<T>(selector));
    return Status::kNext;
  }
};

// The descriptor LAR, LSL, VERR and VERW examine, if the selector names one within its table
// (these instructions report a bad selector in ZF instead of faulting; SDM Vol. 2A LAR).
bool probe_descriptor(SoftCpu& cpu, uint16_t selector, uint64_t& d, bool& found) {
  found = false;
  if ((selector & ~3u) == 0) return true;
  const bool local = (selector & 4) != 0;
  const uint64_t limit = local ? cpu.arch.ldtr.limit : cpu.arch.gdtr.limit;
  if ((local && !(cpu.arch.ldtr.attributes & attributes::kPresent)) ||
      (selector & ~7u) + 7u > limit) {
    return true;
  }
  if (!read_descriptor(cpu, selector, d, nullptr, 0)) return false;  // e.g. #PF on the table
  found = true;
  return true;
}

// Whether CPL and RPL may see the descriptor: conforming code always, otherwise DPL must be
// at least both (SDM Vol. 2A LAR, LSL; Vol. 2B VERR/VERW).
bool visible(const SoftCpu& cpu, uint16_t selector, uint64_t d) {
  if ((d & (kS | kCode | kConforming)) == (kS | kCode | kConforming)) return true;
  return dpl(d) >= cpu.cpl() && dpl(d) >= (selector & 3);
}

// LAR / LSL (SDM Vol. 2A LAR, LSL): in 64-bit mode code and data descriptors, the LDT and
// 64-bit TSSs are valid (LAR also accepts call gates); ZF reports success.
template <bool kLimit>
struct LoadSegmentInfo {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    uint16_t selector = 0;
    if (!Arg<kOps, 1, kMem>::template read<uint16_t>(cpu, insn, selector)) return Status::kFault;
    uint64_t d = 0;
    bool found = false;
    if (!probe_descriptor(cpu, selector, d, found)) return Status::kFault;
    const unsigned t = type(d);
    const bool system_ok =
        t == kLdtType || t == kTssAvailable || t == kTssBusyType || (!kLimit && t == 12);
    const bool ok = found && ((d & kS) || system_ok) && visible(cpu, selector, d);
    cpu.flags.set_status_bits(x86::rflags::kZf, ok ? x86::rflags::kZf : 0);
    if (!ok) return Status::kNext;
    uint64_t value;
    if constexpr (kLimit) {
      value = segment_from_descriptor(selector, d).limit;
    } else {
      value = (d >> 32) & 0x00f0ff00;  // the access-rights bytes of the high doubleword
    }
    Arg<kOps, 0, kMem>::template write<T>(cpu, insn, static_cast<T>(value));
    return Status::kNext;
  }
};

// VERR / VERW (SDM Vol. 2B VERR/VERW): ZF = 1 when the segment is readable (code must be
// readable) or writable (data only) at the current privilege.
template <bool kWrite>
struct VerifySegment {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    uint16_t selector = 0;
    if (!Arg<kOps, 0, kMem>::template read<uint16_t>(cpu, insn, selector)) return Status::kFault;
    uint64_t d = 0;
    bool found = false;
    if (!probe_descriptor(cpu, selector, d, found)) return Status::kFault;
    const bool code = (d & kCode) != 0;
    const bool usable = kWrite ? !code && (d & kWritable) : !code || (d & kWritable);
    const bool ok = found && (d & kS) && usable && visible(cpu, selector, d);
    cpu.flags.set_status_bits(x86::rflags::kZf, ok ? x86::rflags::kZf : 0);
    return Status::kNext;
  }
};

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic opcode      operands attributes      semantics
    FORM("MOV",  "8E /r",    "Sw,Ew", kNoDiff,        MoveToSegment),
    FORM("PUSH", "0F A0",    "",      kD64 | kNoDiff, PushSegment<Segment::kFs>),
    FORM("POP",  "0F A1",    "",      kD64 | kNoDiff, PopSegment<Segment::kFs>),
    FORM("PUSH", "0F A8",    "",      kD64 | kNoDiff, PushSegment<Segment::kGs>),
    FORM("POP",  "0F A9",    "",      kD64 | kNoDiff, PopSegment<Segment::kGs>),
    FORM("SLDT", "0F 00 /0", "Ev",    kNoDiff,        StoreSystemSegment<false>),
    FORM("STR",  "0F 00 /1", "Ev",    kNoDiff,        StoreSystemSegment<true>),
    FORM("LLDT", "0F 00 /2", "Ew",    kNoDiff,        LoadSystemSegment<false>),
    FORM("LTR",  "0F 00 /3", "Ew",    kNoDiff,        LoadSystemSegment<true>),
    FORM("VERR", "0F 00 /4", "Ew",    kNoDiff,        VerifySegment<false>),
    FORM("VERW", "0F 00 /5", "Ew",    kNoDiff,        VerifySegment<true>),
    FORM("LAR",  "0F 02 /r", "Gv,Ew", kNoDiff,        LoadSegmentInfo<false>),
    FORM("LSL",  "0F 03 /r", "Gv,Ew", kNoDiff,        LoadSegmentInfo<true>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> system_segment_forms() {
  return kForms;
}

}  // namespace cella::soft
