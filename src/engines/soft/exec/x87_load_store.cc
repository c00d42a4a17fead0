// x87 data transfer: FLD FST FSTP FILD FIST FISTP FISTTP FBLD FBSTP FXCH, and the constants
// FLD1 FLDL2T FLDL2E FLDPI FLDLG2 FLDLN2 FLDZ (SDM Vol. 2A, each instruction's page). They run
// on the host x87 unit (exec/x87_op.h): conversions round as the guest's control word says,
// and the constants are rounded as hardware rounds them (SDM Vol. 1 8.3.8).
#include "engines/soft/exec/x87_op.h"

namespace cella::soft {

namespace {

using namespace attr;
using namespace x87;

// Push a value converted from memory (m32fp m64fp m80fp m16int m32int m64int m80bcd).
template <uint8_t kBytes>
constexpr Shape kLoad{.out = {Reg::kPush}, .host_out = 1, .mem = Mem::kLoad, .mem_bytes = kBytes};
// Store ST(0) to memory converted to the format, popping kPops registers.
template <uint8_t kBytes, uint8_t kPops>
constexpr Shape kStore{.in = {Reg::kSt0},
                       .host_out = static_cast<uint8_t>(1 - kPops),
                       .pops = kPops,
                       .mem = Mem::kStore,
                       .mem_bytes = kBytes};
// FLD ST(i): push a copy of ST(i) (the host copies its ST(0)).
constexpr Shape kLoadRegister{.in = {Reg::kSti}, .out = {Reg::kPush}, .host_out = 2};
// FST/FSTP ST(i): ST(i) = ST(0), then pop for FSTP (the host copies its ST(0) onto itself).
template <uint8_t kPops>
constexpr Shape kStoreRegister{.in = {Reg::kSt0}, .out = {Reg::kSti}, .host_out = 1, .pops = kPops};
// FLD1 ... FLDZ: push a constant.
constexpr Shape kConstant{.out = {Reg::kPush}, .host_out = 1};

constexpr HostOp kCopy = fixed_op(0xD9, 0xC0);      // FLD ST(0)
constexpr HostOp kCopyOver = fixed_op(0xDD, 0xD0);  // FST ST(0)

// FXCH ST(i): exchange, C1 = 0. An empty register takes part as the indefinite when the
// stack underflow is masked (SDM Vol. 2A FXCH).
template <uint8_t kEscape>
struct Exchange {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (!begin(cpu)) return Status::kFault;
    X87State& s = cpu.arch.x87;
    const unsigned i = insn.rm & 7;
    record<kEscape>(cpu, insn);
    const bool empty0 = is_empty(s, 0), empty_i = is_empty(s, i);
    if (empty0 || empty_i) {
      if (!stack_fault(s, false)) return Status::kNext;
    } else {
      set_status(s, fsw::kC1, 0, 0);
    }
    const Float80 a = empty0 ? kIndefinite : st(s, 0);
    const Float80 b = empty_i ? kIndefinite : st(s, i);
    set_st(s, 0, b);
    set_st(s, i, a);
    return Status::kNext;
  }
};

// D9 D8+i, the "FSTP1" alias (SDM Vol. 2D Table A-15 leaves it reserved): FSTP ST(i), except
// that the host processor pops an empty ST(0) without a stack fault or a store (C1 = 0).
struct StoreRegisterAlias {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    X87State& s = cpu.arch.x87;
    if (!is_empty(s, 0))
      return X87Op<kCopyOver, kStoreRegister<1>, 0xD9>::template exec<T, kMem, kOps>(cpu, insn);
    if (!begin(cpu)) return Status::kFault;
    record<0xD9>(cpu, insn);
    pop(s);
    set_status(s, fsw::kC1, 0, 0);
    return Status::kNext;
  }
};

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic  opcode     operands  attributes semantics
    FORM("FLD",    "D9 /0",   "Md",  kX87,  X87Op<mem_op(0xD9, 0), kLoad<4>>),
    FORM("FST",    "D9 /2",   "Md",  kX87,  X87Op<mem_op(0xD9, 2), kStore<4, 0>>),
    FORM("FSTP",   "D9 /3",   "Md",  kX87,  X87Op<mem_op(0xD9, 3), kStore<4, 1>>),
    FORM("FLD",    "D9 C0+i", "STi", kX87,  X87Op<kCopy, kLoadRegister>),
    FORM("FXCH",   "D9 C8+i", "STi", kX87,  Exchange<0xD9>),
    // SDM Vol. 2D Tables leave D9 D8-DF, DF D0-DF, DD C8-CF and DF C8-CF
    // reserved; processors execute them as FSTP ST(i) and FXCH ST(i).
    FORM("FSTP",   "D9 D8+i", "STi", kX87,  StoreRegisterAlias),
    FORM("FLD1",   "D9 E8",   "",    kX87,  X87Op<fixed_op(0xD9, 0xE8), kConstant>),
    FORM("FLDL2T", "D9 E9",   "",    kX87,  X87Op<fixed_op(0xD9, 0xE9), kConstant>),
    FORM("FLDL2E", "D9 EA",   "",    kX87,  X87Op<fixed_op(0xD9, 0xEA), kConstant>),
    FORM("FLDPI",  "D9 EB",   "",    kX87,  X87Op<fixed_op(0xD9, 0xEB), kConstant>),
    FORM("FLDLG2", "D9 EC",   "",    kX87,  X87Op<fixed_op(0xD9, 0xEC), kConstant>),
    FORM("FLDLN2", "D9 ED",   "",    kX87,  X87Op<fixed_op(0xD9, 0xED), kConstant>),
    FORM("FLDZ",   "D9 EE",   "",    kX87,  X87Op<fixed_op(0xD9, 0xEE), kConstant>),
    FORM("FILD",   "DB /0",   "Md",  kX87,  X87Op<mem_op(0xDB, 0), kLoad<4>>),
    FORM("FISTTP", "DB /1",   "Md",  kSse3, X87Op<mem_op(0xDB, 1), kStore<4, 1>>),
    FORM("FIST",   "DB /2",   "Md",  kX87,  X87Op<mem_op(0xDB, 2), kStore<4, 0>>),
    FORM("FISTP",  "DB /3",   "Md",  kX87,  X87Op<mem_op(0xDB, 3), kStore<4, 1>>),
    FORM("FLD",    "DB /5",   "M",   kX87,  X87Op<mem_op(0xDB, 5), kLoad<10>>),
    FORM("FSTP",   "DB /7",   "M",   kX87,  X87Op<mem_op(0xDB, 7), kStore<10, 1>>),
    FORM("FLD",    "DD /0",   "Mq",  kX87,  X87Op<mem_op(0xDD, 0), kLoad<8>>),
    FORM("FISTTP", "DD /1",   "Mq",  kSse3, X87Op<mem_op(0xDD, 1), kStore<8, 1>>),
    FORM("FST",    "DD /2",   "Mq",  kX87,  X87Op<mem_op(0xDD, 2), kStore<8, 0>>),
    FORM("FSTP",   "DD /3",   "Mq",  kX87,  X87Op<mem_op(0xDD, 3), kStore<8, 1>>),
    FORM("FXCH",   "DD C8+i", "STi", kX87,  Exchange<0xDD>),
    FORM("FST",    "DD D0+i", "STi", kX87,  X87Op<kCopyOver, kStoreRegister<0>>),
    FORM("FSTP",   "DD D8+i", "STi", kX87,  X87Op<kCopyOver, kStoreRegister<1>>),
    FORM("FILD",   "DF /0",   "Mw",  kX87,  X87Op<mem_op(0xDF, 0), kLoad<2>>),
    FORM("FISTTP", "DF /1",   "Mw",  kSse3, X87Op<mem_op(0xDF, 1), kStore<2, 1>>),
    FORM("FIST",   "DF /2",   "Mw",  kX87,  X87Op<mem_op(0xDF, 2), kStore<2, 0>>),
    FORM("FISTP",  "DF /3",   "Mw",  kX87,  X87Op<mem_op(0xDF, 3), kStore<2, 1>>),
    FORM("FBLD",   "DF /4",   "M",   kX87,  X87Op<mem_op(0xDF, 4), kLoad<10>>),
    FORM("FILD",   "DF /5",   "Mq",  kX87,  X87Op<mem_op(0xDF, 5), kLoad<8>>),
    FORM("FBSTP",  "DF /6",   "M",   kX87,  X87Op<mem_op(0xDF, 6), kStore<10, 1>>),
    FORM("FISTP",  "DF /7",   "Mq",  kX87,  X87Op<mem_op(0xDF, 7), kStore<8, 1>>),
    FORM("FXCH",   "DF C8+i", "STi", kX87,  Exchange<0xDF>),
    FORM("FSTP",   "DF D0+i", "STi", kX87,  X87Op<kCopyOver, kStoreRegister<1>, 0xDF>),
    FORM("FSTP",   "DF D8+i", "STi", kX87,  X87Op<kCopyOver, kStoreRegister<1>, 0xDF>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> x87_load_store_forms() {
  return kForms;
}

}  // namespace cella::soft
