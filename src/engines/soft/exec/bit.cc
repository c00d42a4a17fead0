// Bit test and scan: BT BTS BTR BTC BSF BSR TZCNT LZCNT POPCNT (SDM Vol. 2A BSF, BSR, BT,
// BTC, BTR, BTS, LZCNT; Vol. 2B POPCNT, TZCNT).
#include <bit>

#include "engines/soft/exec/common.h"

namespace cella::soft {

namespace {

using namespace attr;
namespace rf = x86::rflags;

// ---- BT BTS BTR BTC: CF = the selected bit, which BTS/BTR/BTC then set/clear/complement ----

struct TestOp {
  static constexpr bool kWrites = false;
  template <class T>
  static T apply(T value, T) {
    return value;
  }
};
struct SetOp {
  static constexpr bool kWrites = true;
  template <class T>
  static T apply(T value, T mask) {
    return value | mask;
  }
};
struct ResetOp {
  static constexpr bool kWrites = true;
  template <class T>
  static T apply(T value, T mask) {
    return value & static_cast<T>(~mask);
  }
};
struct ComplementOp {
  static constexpr bool kWrites = true;
  template <class T>
  static T apply(T value, T mask) {
    return value ^ mask;
  }
};

// SDM Vol. 2A BT: an immediate offset is taken modulo the operand width; a register offset
// with a memory operand is a signed bit string offset: the operand-size unit at
// address + (offset >> log2(width)) * size holds bit (offset mod width).
template <class Op>
struct BitTest {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    using Dst = Arg<kOps, 0, kMem>;
    constexpr unsigned kBits = bit_width<T>();
    T offset{};
    Arg<kOps, 1, kMem>::template read<T>(cpu, insn, offset);
    const T mask = static_cast<T>(T{1} << (offset & (kBits - 1)));
    bool bit = false;
    auto op = [&](T value) {
      bit = (value & mask) != 0;
      return Op::template apply<T>(value, mask);
    };
    if constexpr (Dst::kInMemory) {
      uint64_t ea = effective_offset(cpu, insn);
      if constexpr (kOps[1].kind != OperandKind::kI) {
        const auto signed_offset = static_cast<int64_t>(static_cast<std::make_signed_t<T>>(offset));
        ea += static_cast<uint64_t>((signed_offset >> std::countr_zero(kBits)) *
                                    static_cast<int64_t>(sizeof(T)));
        if (insn.prefixes & prefix::kAddr32) ea = static_cast<uint32_t>(ea);
      }
      const uint64_t address = ea + cpu.segment_base[insn.segment];
      if constexpr (Op::kWrites) {
        if (!modify_memory<T>(cpu, address, (insn.prefixes & prefix::kLock) != 0, op)) {
          return Status::kFault;
        }
      } else {
        T value{};
        if (!read_memory(cpu, address, value)) return Status::kFault;
        op(value);
      }
    } else if constexpr (Op::kWrites) {
      Dst::template update<T>(cpu, insn, op);
    } else {
      op(cpu.reg<T>(insn.rm));  // BT writes nothing: a 32-bit register keeps its upper half
    }
    // ZF is unaffected; OF SF AF PF are undefined: Cella leaves them unchanged.
    cpu.flags.set_status_bits(rf::kCf, bit ? rf::kCf : 0);
    return Status::kNext;
  }
  static constexpr uint64_t kUndefinedFlags = rf::kOf | rf::kSf | rf::kAf | rf::kPf;
};

// ---- BSF BSR TZCNT LZCNT POPCNT: dest = f(src) ----

// BSF/BSR: ZF = (src == 0), and a zero source leaves the destination register entirely
// unchanged (Intel and AMD; the SDM says undefined). CF OF SF AF PF are undefined: cleared.
template <bool kReverse>
struct BitScan {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    T src{};
    if (!Arg<kOps, 1, kMem>::template read<T>(cpu, insn, src)) return Status::kFault;
    if (src == 0) {
      cpu.flags.set_status(rf::kZf);
      return Status::kNext;
    }
    const int index = kReverse ? bit_width<T>() - 1 - std::countl_zero(src) : std::countr_zero(src);
    cpu.set_reg<T>(insn.reg, static_cast<T>(index));
    cpu.flags.set_status(0);
    return Status::kNext;
  }
  static constexpr uint64_t kUndefinedFlags = rf::kCf | rf::kOf | rf::kSf | rf::kAf | rf::kPf;
};

// TZCNT/LZCNT: the count of trailing/leading zero bits (the width for 0); CF = (src == 0),
// ZF = (result == 0). OF SF AF PF are undefined: cleared.
template <bool kLeading>
struct CountZeros {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    T src{};
    if (!Arg<kOps, 1, kMem>::template read<T>(cpu, insn, src)) return Status::kFault;
    const auto count = static_cast<T>(kLeading ? std::countl_zero(src) : std::countr_zero(src));
    cpu.set_reg<T>(insn.reg, count);
    cpu.flags.set_status((src == 0 ? rf::kCf : 0) | (count == 0 ? rf::kZf : 0));
    return Status::kNext;
  }
  static constexpr uint64_t kUndefinedFlags = rf::kOf | rf::kSf | rf::kAf | rf::kPf;
};

// POPCNT: ZF = (src == 0); OF SF AF CF PF are cleared.
struct PopulationCount {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    T src{};
    if (!Arg<kOps, 1, kMem>::template read<T>(cpu, insn, src)) return Status::kFault;
    cpu.set_reg<T>(insn.reg, static_cast<T>(std::popcount(src)));
    cpu.flags.set_status(src == 0 ? rf::kZf : 0);
    return Status::kNext;
  }
};

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic  opcode         operands attributes semantics
    FORM("BT",     "0F A3 /r",    "Ev,Gv", 0,       BitTest<TestOp>),
    FORM("BTS",    "0F AB /r",    "Ev,Gv", kLock,   BitTest<SetOp>),
    FORM("BTR",    "0F B3 /r",    "Ev,Gv", kLock,   BitTest<ResetOp>),
    FORM("BTC",    "0F BB /r",    "Ev,Gv", kLock,   BitTest<ComplementOp>),
    FORM("BT",     "0F BA /4",    "Ev,Ib", 0,       BitTest<TestOp>),
    FORM("BTS",    "0F BA /5",    "Ev,Ib", kLock,   BitTest<SetOp>),
    FORM("BTR",    "0F BA /6",    "Ev,Ib", kLock,   BitTest<ResetOp>),
    FORM("BTC",    "0F BA /7",    "Ev,Ib", kLock,   BitTest<ComplementOp>),
    FORM("BSF",    "0F BC /r",    "Gv,Ev", 0,       BitScan<false>),
    FORM("BSR",    "0F BD /r",    "Gv,Ev", 0,       BitScan<true>),
    FORM("TZCNT",  "F3 0F BC /r", "Gv,Ev", kBmi1,   CountZeros<false>),
    FORM("LZCNT",  "F3 0F BD /r", "Gv,Ev", kLzcnt,  CountZeros<true>),
    FORM("POPCNT", "F3 0F B8 /r", "Gv,Ev", kPopcnt, PopulationCount),
};
// clang-format on

}  // namespace

std::span<const FormSpec> bit_forms() {
  return kForms;
}

}  // namespace cella::soft
