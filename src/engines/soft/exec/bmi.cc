// BMI1, the VEX-encoded general-purpose bit manipulation instructions: ANDN BEXTR BLSI
// BLSMSK BLSR (SDM Vol. 2A 2.5.1 and each instruction's page). TZCNT, also BMI1, is in bit.cc.
// VEX.W selects the 32- or 64-bit operand size (the "y" operand code); VEX.L must be 0.
#include "engines/soft/exec/common.h"

namespace cella::soft {

namespace {

using namespace attr;
namespace rf = x86::rflags;

// ZF and SF of a result (PF is undefined for every BMI1 instruction; Cella clears it, as it
// clears every undefined flag of this group).
template <class T>
uint64_t zf_sf(T result) {
  return result_flags(result) & (rf::kZf | rf::kSf);
}

// ANDN: dest = ~src1 & src2; SF ZF from the result, CF OF cleared.
struct AndNot {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    T src2{};
    if (!Arg<kOps, 2, kMem>::template read<T>(cpu, insn, src2)) return Status::kFault;
    const T r = static_cast<T>(~cpu.reg<T>(insn.vvvv) & src2);
    cpu.set_reg<T>(insn.reg, r);
    cpu.flags.set_status(zf_sf(r));
    return Status::kNext;
  }
  static constexpr uint64_t kUndefinedFlags = rf::kAf | rf::kPf;
};

// BEXTR: dest = the bit field of src1 at start src2[7:0] and length src2[15:8] (bits beyond
// the operand read as 0); ZF from the result, CF OF cleared.
struct BitFieldExtract {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    constexpr unsigned kBits = bit_width<T>();
    T src1{};
    if (!Arg<kOps, 1, kMem>::template read<T>(cpu, insn, src1)) return Status::kFault;
    const T control = cpu.reg<T>(insn.vvvv);
    const unsigned start = control & 0xff, length = (control >> 8) & 0xff;
    T r = start < kBits ? static_cast<T>(src1 >> start) : T{0};
    if (length < kBits) r &= static_cast<T>((T{1} << length) - 1);
    cpu.set_reg<T>(insn.reg, r);
    cpu.flags.set_status(r == 0 ? rf::kZf : 0);
    return Status::kNext;
  }
  static constexpr uint64_t kUndefinedFlags = rf::kAf | rf::kSf | rf::kPf;
};

// BLSI (src & -src), BLSMSK (src ^ (src - 1)), BLSR (src & (src - 1)) into VEX.vvvv.
// CF: BLSI sets it for a nonzero source, BLSMSK/BLSR for a zero one. OF cleared; BLSMSK also
// clears ZF.
enum class LowestBit { kIsolate, kMask, kReset };
template <LowestBit kKind>
struct LowestSetBit {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    T src{};
    if (!Arg<kOps, 1, kMem>::template read<T>(cpu, insn, src)) return Status::kFault;
    const T below = static_cast<T>(src - 1);
    T r;
    uint64_t flags;
    if constexpr (kKind == LowestBit::kIsolate) {
      r = static_cast<T>(src & static_cast<T>(T{0} - src));
      flags = zf_sf(r) | (src != 0 ? rf::kCf : 0);
    } else if constexpr (kKind == LowestBit::kMask) {
      r = static_cast<T>(src ^ below);
      flags = (zf_sf(r) & rf::kSf) | (src == 0 ? rf::kCf : 0);
    } else {
      r = static_cast<T>(src & below);
      flags = zf_sf(r) | (src == 0 ? rf::kCf : 0);
    }
    cpu.set_reg<T>(insn.vvvv, r);
    cpu.flags.set_status(flags);
    return Status::kNext;
  }
  static constexpr uint64_t kUndefinedFlags = rf::kAf | rf::kPf;
};

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic  opcode                     operands    attributes semantics
    FORM("ANDN",   "VEX.LZ.0F38.W0 F2 /r", "Gy,By,Ey", kBmi1, AndNot),
    FORM("ANDN",   "VEX.LZ.0F38.W1 F2 /r", "Gy,By,Ey", kBmi1, AndNot),
    FORM("BEXTR",  "VEX.LZ.0F38.W0 F7 /r", "Gy,Ey,By", kBmi1, BitFieldExtract),
    FORM("BEXTR",  "VEX.LZ.0F38.W1 F7 /r", "Gy,Ey,By", kBmi1, BitFieldExtract),
    FORM("BLSR",   "VEX.LZ.0F38.W0 F3 /1", "By,Ey",    kBmi1, LowestSetBit<LowestBit::kReset>),
    FORM("BLSR",   "VEX.LZ.0F38.W1 F3 /1", "By,Ey",    kBmi1, LowestSetBit<LowestBit::kReset>),
    FORM("BLSMSK", "VEX.LZ.0F38.W0 F3 /2", "By,Ey",    kBmi1, LowestSetBit<LowestBit::kMask>),
    FORM("BLSMSK", "VEX.LZ.0F38.W1 F3 /2", "By,Ey",    kBmi1, LowestSetBit<LowestBit::kMask>),
    FORM("BLSI",   "VEX.LZ.0F38.W0 F3 /3", "By,Ey",    kBmi1, LowestSetBit<LowestBit::kIsolate>),
    FORM("BLSI",   "VEX.LZ.0F38.W1 F3 /3", "By,Ey",    kBmi1, LowestSetBit<LowestBit::kIsolate>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> bmi_forms() {
  return kForms;
}

}  // namespace cella::soft
