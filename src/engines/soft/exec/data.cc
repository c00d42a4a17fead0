// Data movement: MOV MOVZX MOVSX MOVSXD LEA XCHG CMOVcc SETcc BSWAP CBW/CWDE/CDQE
// CWD/CDQ/CQO PUSH POP PUSHF POPF LAHF SAHF CLC STC CMC CLD STD LEAVE ENTER XLAT
// (SDM Vol. 2A/2B, each instruction's page).
#include "engines/soft/exec/common.h"

namespace cella::soft {

namespace {

using namespace attr;
using x86::Segment;
namespace rf = x86::rflags;

// dst = src, with the source of the destination's type (MOV) or of its own size (MOVZX).
template <class Source = void, bool kSigned = false>
struct Move {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    using S = std::conditional_t<std::is_void_v<Source>, T, Source>;
    S src{};
    if (!Arg<kOps, 1, kMem>::template read<S>(cpu, insn, src)) return Status::kFault;
    T value;
    if constexpr (kSigned)
      value = static_cast<T>(
          static_cast<std::make_signed_t<T>>(static_cast<std::make_signed_t<S>>(src)));
    else
      value = static_cast<T>(src);
    return Arg<kOps, 0, kMem>::template write<T>(cpu, insn, value) ? Status::kNext : Status::kFault;
  }
};

// MOVSXD (63 /r): the source is always a doubleword (read whole, even with 66); REX.W
// sign-extends it, otherwise its low 32 or 16 bits are moved.
struct Movsxd {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    return Move<uint32_t, sizeof(T) == 8>::template exec<T, kMem, kOps>(cpu, insn);
  }
};

// LEA: the effective address, without segment base, truncated to the operand size.
struct Lea {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    cpu.set_reg<T>(insn.reg, static_cast<T>(effective_offset(cpu, insn)));
    return Status::kNext;
  }
};

// XCHG: with a memory operand the exchange is always locked (SDM Vol. 2B XCHG).
struct Xchg {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    using A = Arg<kOps, 0, kMem>;
    using B = Arg<kOps, 1, kMem>;
    if constexpr (kOps[0].kind == OperandKind::kZ) {
      if (insn.rm == 0) return Status::kNext;  // 90: NOP, not XCHG EAX,EAX (no zero-extension)
    }
    T b{};
    B::template read<T>(cpu, insn, b);
    T old{};
    if constexpr (A::kInMemory) {
      if (!modify_memory<T>(cpu, effective_address(cpu, insn), true, [&](T a) {
            old = a;
            return b;
          })) {
        return Status::kFault;
      }
    } else {
      A::template read<T>(cpu, insn, old);
      A::template write<T>(cpu, insn, b);
    }
    B::template write<T>(cpu, insn, old);
    return Status::kNext;
  }
};

// CMOVcc: the source is always read; a 32-bit destination is zero-extended even when the
// condition is false (SDM Vol. 2A CMOVcc, "64-bit mode").
template <Condition kCondition>
struct Cmov {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    T src{};
    if (!Arg<kOps, 1, kMem>::template read<T>(cpu, insn, src)) return Status::kFault;
    const T value = cpu.flags.test(kCondition) ? src : cpu.reg<T>(insn.reg);
    cpu.set_reg<T>(insn.reg, value);
    return Status::kNext;
  }
};

template <Condition kCondition>
struct Setcc {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    const uint8_t value = cpu.flags.test(kCondition) ? 1 : 0;
    return Arg<kOps, 0, kMem>::template write<uint8_t>(cpu, insn, value) ? Status::kNext
                                                                         : Status::kFault;
  }
};

// BSWAP with a 16-bit operand is undefined (SDM Vol. 2A BSWAP); Cella zeroes the low word,
// as current Intel and AMD processors do.
struct Bswap {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    T value = cpu.reg<T>(insn.rm);
    if constexpr (sizeof(T) == 2)
      value = 0;
    else if constexpr (sizeof(T) == 4)
      value = __builtin_bswap32(value);
    else
      value = __builtin_bswap64(value);
    cpu.set_reg<T>(insn.rm, value);
    return Status::kNext;
  }
};

// CBW/CWDE/CDQE: sign-extend the lower half of rAX into rAX.
struct SignExtendAccumulator {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    using Half = std::conditional_t<sizeof(T) == 2, int8_t,
                                    std::conditional_t<sizeof(T) == 4, int16_t, int32_t>>;
    const auto half = static_cast<Half>(cpu.reg<T>(0));
    cpu.set_reg<T>(0, static_cast<T>(static_cast<std::make_signed_t<T>>(half)));
    return Status::kNext;
  }
};

// CWD/CDQ/CQO: rDX = the sign of rAX, replicated.
struct SignExtendIntoRdx {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    const T sign = msb(cpu.reg<T>(0)) ? static_cast<T>(~T{0}) : T{0};
    cpu.set_reg<T>(2 * 8, sign);
    return Status::kNext;
  }
};

struct Push {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    T value{};
    if (!Arg<kOps, 0, kMem>::template read<T>(cpu, insn, value)) return Status::kFault;
    return push<T>(cpu, value) ? Status::kNext : Status::kFault;
  }
};

// POP: with RSP as the base of a memory destination, the address uses the incremented RSP
// (SDM Vol. 2B POP).
struct Pop {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    const uint64_t old_rsp = cpu.gpr[4];
    T value{};
    if (!pop<T>(cpu, value)) return Status::kFault;
    if (!Arg<kOps, 0, kMem>::template write<T>(cpu, insn, value)) {
      cpu.gpr[4] = old_rsp;
      return Status::kFault;
    }
    return Status::kNext;
  }
};

// PUSHF: RFLAGS with VM and RF cleared (SDM Vol. 2B PUSHF).
struct Pushf {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    const T value = static_cast<T>(cpu.flags.rflags() & ~(rf::kVm | rf::kRf));
    return push<T>(cpu, value) ? Status::kNext : Status::kFault;
  }
};

int current_privilege_level(const SoftCpu& cpu) {
  return cpu.arch.seg(Segment::kCs).selector & 3;
}

// POPF (SDM Vol. 2B POPF, Table 4-16): which bits change depends on CPL and IOPL.
struct Popf {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    T popped{};
    if (!pop<T>(cpu, popped)) return Status::kFault;
    uint64_t writable = rf::kStatus | rf::kTf | rf::kDf | rf::kNt | rf::kAc | rf::kId;
    const uint64_t current = cpu.flags.rflags();
    const int cpl = current_privilege_level(cpu);
    const int iopl = static_cast<int>((current & rf::kIopl) >> rf::kIoplShift);
    if (cpl == 0) writable |= rf::kIopl;
    if (cpl <= iopl) writable |= rf::kIf;
    if constexpr (sizeof(T) == 2) writable &= 0xffff;
    cpu.flags.set_rflags((current & ~writable) | (popped & writable));
    return Status::kNext;
  }
};

// SAHF/LAHF: SF ZF AF PF CF <-> AH (SDM Vol. 2B SAHF).
constexpr uint64_t kAhFlags = rf::kSf | rf::kZf | rf::kAf | rf::kPf | rf::kCf;
struct Sahf {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    const uint64_t ah = (cpu.gpr[0] >> 8) & 0xff;
    const uint64_t status = cpu.flags.status();
    cpu.flags.set_status((status & ~kAhFlags) | (ah & kAhFlags));
    return Status::kNext;
  }
};
struct Lahf {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    const uint64_t ah = (cpu.flags.status() & kAhFlags) | rf::kReserved1;
    cpu.gpr[0] = (cpu.gpr[0] & ~uint64_t{0xff00}) | (ah << 8);
    return Status::kNext;
  }
};

// CLC STC CMC CLD STD: set, clear or complement one flag.
enum class FlagChange { kClear, kSet, kComplement };
template <uint64_t kFlag, FlagChange kChange>
struct ChangeFlag {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    uint64_t value = cpu.flags.rflags();
    if constexpr (kChange == FlagChange::kClear)
      value &= ~kFlag;
    else if constexpr (kChange == FlagChange::kSet)
      value |= kFlag;
    else
      value ^= kFlag;
    cpu.flags.set_rflags(value);
    return Status::kNext;
  }
};

// LEAVE: RSP = RBP; pop RBP.
struct Leave {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    const uint64_t saved_rsp = cpu.gpr[4];
    cpu.gpr[4] = cpu.gpr[5];
    T rbp{};
    if (!pop<T>(cpu, rbp)) {
      cpu.gpr[4] = saved_rsp;
      return Status::kFault;
    }
    cpu.set_reg<T>(5 * 8, rbp);
    return Status::kNext;
  }
};

// ENTER size, level (SDM Vol. 2A ENTER, 64-bit mode operation).
struct Enter {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    const uint64_t size = static_cast<uint16_t>(insn.imm);
    const unsigned level = insn.imm2 % 32;
    const uint64_t saved_rsp = cpu.gpr[4], saved_rbp = cpu.gpr[5];
    auto fail = [&] {
      cpu.gpr[4] = saved_rsp;
      cpu.gpr[5] = saved_rbp;
      return Status::kFault;
    };
    if (!push<T>(cpu, static_cast<T>(cpu.gpr[5]))) return fail();
    const uint64_t frame = cpu.gpr[4];
    uint64_t rbp = saved_rbp;
    for (unsigned i = 1; i < level; ++i) {
      rbp -= sizeof(T);
      T value{};
      if (!read_memory(cpu, rbp, value) || !push<T>(cpu, value)) return fail();
    }
    if (level > 0 && !push<T>(cpu, static_cast<T>(frame))) return fail();
    PageTranslation probe;  // the new stack top must be writable (#PF/#SS before any change)
    if (size > 0 && !cpu.translate(cpu.gpr[4] - size, Access::kWrite, probe)) return fail();
    cpu.set_reg<T>(5 * 8, static_cast<T>(frame));
    cpu.gpr[4] -= size;
    return Status::kNext;
  }
};

// XLAT: AL = [rBX + AL].
struct Xlat {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    uint64_t address = cpu.gpr[3] + (cpu.gpr[0] & 0xff);
    if (insn.prefixes & prefix::kAddr32) address = static_cast<uint32_t>(address);
    uint8_t value = 0;
    if (!read_memory(cpu, address + cpu.segment_base[insn.segment], value)) return Status::kFault;
    cpu.set_reg<uint8_t>(0, value);
    return Status::kNext;
  }
};

// MOV r/m, Sreg: the selector, zero-extended in a register (SDM Vol. 2B MOV).
struct MoveFromSegment {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    const uint16_t selector = cpu.arch.segment[insn.reg].selector;
    if constexpr (kMem)
      return write_memory(cpu, effective_address(cpu, insn), selector) ? Status::kNext
                                                                       : Status::kFault;
    cpu.set_reg<T>(insn.rm, static_cast<T>(selector));
    return Status::kNext;
  }
};

using C = Condition;
constexpr uint64_t kCf = rf::kCf, kDf = rf::kDf;

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic  opcode      operands   attributes  semantics
    FORM("MOV",    "88 /r",    "Eb,Gb",  0,       Move<>),
    FORM("MOV",    "89 /r",    "Ev,Gv",  0,       Move<>),
    FORM("MOV",    "8A /r",    "Gb,Eb",  0,       Move<>),
    FORM("MOV",    "8B /r",    "Gv,Ev",  0,       Move<>),
    FORM("MOV",    "8C /r",    "Ev,Sw",  kNoDiff, MoveFromSegment),
    FORM("MOV",    "A0",       "AL,Ob",  0,       Move<>),
    FORM("MOV",    "A1",       "rAX,Ov", 0,       Move<>),
    FORM("MOV",    "A2",       "Ob,AL",  0,       Move<>),
    FORM("MOV",    "A3",       "Ov,rAX", 0,       Move<>),
    FORM("MOV",    "B0+r",     "Zb,Ib",  0,       Move<>),
    FORM("MOV",    "B8+r",     "Zv,Iv",  0,       Move<>),
    FORM("MOV",    "C6 /0",    "Eb,Ib",  0,       Move<>),
    FORM("MOV",    "C7 /0",    "Ev,Iz",  0,       Move<>),
    FORM("MOVZX",  "0F B6 /r", "Gv,Eb",  0,       Move<uint8_t>),
    FORM("MOVZX",  "0F B7 /r", "Gv,Ew",  0,       Move<uint16_t>),
    FORM("MOVSX",  "0F BE /r", "Gv,Eb",  0,       Move<uint8_t, true>),
    FORM("MOVSX",  "0F BF /r", "Gv,Ew",  0,       Move<uint16_t, true>),
    FORM("MOVSXD", "63 /r",    "Gv,Ed",  0,       Movsxd),
    FORM("LEA",    "8D /r",    "Gv,M",   0,       Lea),
    FORM("XCHG",   "86 /r",    "Eb,Gb",  kLock,   Xchg),
    FORM("XCHG",   "87 /r",    "Ev,Gv",  kLock,   Xchg),
    FORM("XCHG",   "90+r",     "Zv,rAX", 0,       Xchg),
    // PAUSE is F3 + the NOP encoding: with REX.B it is XCHG r8 (SDM Vol. 2B PAUSE, NOP).
    FORM("PAUSE",  "F3 90",    "Zv,rAX", 0,       Xchg),
    FORM("CMOVO",  "0F 40 /r", "Gv,Ev",  kCmov,   Cmov<C::kO>),
    FORM("CMOVNO", "0F 41 /r", "Gv,Ev",  kCmov,   Cmov<C::kNo>),
    FORM("CMOVB",  "0F 42 /r", "Gv,Ev",  kCmov,   Cmov<C::kB>),
    FORM("CMOVAE", "0F 43 /r", "Gv,Ev",  kCmov,   Cmov<C::kAe>),
    FORM("CMOVE",  "0F 44 /r", "Gv,Ev",  kCmov,   Cmov<C::kE>),
    FORM("CMOVNE", "0F 45 /r", "Gv,Ev",  kCmov,   Cmov<C::kNe>),
    FORM("CMOVBE", "0F 46 /r", "Gv,Ev",  kCmov,   Cmov<C::kBe>),
    FORM("CMOVA",  "0F 47 /r", "Gv,Ev",  kCmov,   Cmov<C::kA>),
    FORM("CMOVS",  "0F 48 /r", "Gv,Ev",  kCmov,   Cmov<C::kS>),
    FORM("CMOVNS", "0F 49 /r", "Gv,Ev",  kCmov,   Cmov<C::kNs>),
    FORM("CMOVP",  "0F 4A /r", "Gv,Ev",  kCmov,   Cmov<C::kP>),
    FORM("CMOVNP", "0F 4B /r", "Gv,Ev",  kCmov,   Cmov<C::kNp>),
    FORM("CMOVL",  "0F 4C /r", "Gv,Ev",  kCmov,   Cmov<C::kL>),
    FORM("CMOVGE", "0F 4D /r", "Gv,Ev",  kCmov,   Cmov<C::kGe>),
    FORM("CMOVLE", "0F 4E /r", "Gv,Ev",  kCmov,   Cmov<C::kLe>),
    FORM("CMOVG",  "0F 4F /r", "Gv,Ev",  kCmov,   Cmov<C::kG>),
    FORM("SETO",   "0F 90 /r", "Eb",     0,       Setcc<C::kO>),
    FORM("SETNO",  "0F 91 /r", "Eb",     0,       Setcc<C::kNo>),
    FORM("SETB",   "0F 92 /r", "Eb",     0,       Setcc<C::kB>),
    FORM("SETAE",  "0F 93 /r", "Eb",     0,       Setcc<C::kAe>),
    FORM("SETE",   "0F 94 /r", "Eb",     0,       Setcc<C::kE>),
    FORM("SETNE",  "0F 95 /r", "Eb",     0,       Setcc<C::kNe>),
    FORM("SETBE",  "0F 96 /r", "Eb",     0,       Setcc<C::kBe>),
    FORM("SETA",   "0F 97 /r", "Eb",     0,       Setcc<C::kA>),
    FORM("SETS",   "0F 98 /r", "Eb",     0,       Setcc<C::kS>),
    FORM("SETNS",  "0F 99 /r", "Eb",     0,       Setcc<C::kNs>),
    FORM("SETP",   "0F 9A /r", "Eb",     0,       Setcc<C::kP>),
    FORM("SETNP",  "0F 9B /r", "Eb",     0,       Setcc<C::kNp>),
    FORM("SETL",   "0F 9C /r", "Eb",     0,       Setcc<C::kL>),
    FORM("SETGE",  "0F 9D /r", "Eb",     0,       Setcc<C::kGe>),
    FORM("SETLE",  "0F 9E /r", "Eb",     0,       Setcc<C::kLe>),
    FORM("SETG",   "0F 9F /r", "Eb",     0,       Setcc<C::kG>),
    FORM("BSWAP",  "0F C8+r",  "Zv",     0,       Bswap),
    FORM("CBW",    "98",       "rAX",    0,       SignExtendAccumulator),
    FORM("CWD",    "99",       "rAX",    0,       SignExtendIntoRdx),
    FORM("PUSH",   "50+r",     "Zv",     kD64,    Push),
    FORM("POP",    "58+r",     "Zv",     kD64,    Pop),
    FORM("PUSH",   "68",       "Iz",     kD64,    Push),
    FORM("PUSH",   "6A",       "Ib",     kD64,    Push),
    FORM("PUSH",   "FF /6",    "Ev",     kD64,    Push),
    FORM("POP",    "8F /0",    "Ev",     kD64,    Pop),
    FORM("PUSHF",  "9C",       "",       kD64,    Pushf),
    FORM("POPF",   "9D",       "",       kD64,    Popf),
    FORM("SAHF",   "9E",       "",       kLahf,   Sahf),
    FORM("LAHF",   "9F",       "",       kLahf,   Lahf),
    FORM("CMC",    "F5",       "",       0,       ChangeFlag<kCf, FlagChange::kComplement>),
    FORM("CLC",    "F8",       "",       0,       ChangeFlag<kCf, FlagChange::kClear>),
    FORM("STC",    "F9",       "",       0,       ChangeFlag<kCf, FlagChange::kSet>),
    FORM("CLD",    "FC",       "",       0,       ChangeFlag<kDf, FlagChange::kClear>),
    FORM("STD",    "FD",       "",       0,       ChangeFlag<kDf, FlagChange::kSet>),
    FORM("LEAVE",  "C9",       "",       kD64,    Leave),
    FORM("ENTER",  "C8",       "Iw,Ib",  kD64,    Enter),
    FORM("XLAT",   "D7",       "",       0,       Xlat),
};
// clang-format on

}  // namespace

std::span<const FormSpec> data_forms() {
  return kForms;
}

}  // namespace cella::soft
