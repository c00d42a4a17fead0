// x87 comparisons and conditional moves: FCOM FCOMP FCOMPP FUCOM FUCOMP FUCOMPP FICOM FICOMP
// FCOMI FCOMIP FUCOMI FUCOMIP FTST FXAM FCMOVcc (SDM Vol. 2A, each instruction's page).
// The comparisons run on the host x87 unit (exec/x87_op.h): C3 C2 C0 (or ZF PF CF) are the
// hardware's, and a masked stack fault reports "unordered".
#include "engines/soft/exec/x87_op.h"

namespace cella::soft {

namespace {

using namespace attr;
using namespace x87;
using C = Condition;

constexpr uint16_t kUnordered = fsw::kC0 | fsw::kC2 | fsw::kC3;

// ST(0) against ST(i) (or ST(1)), popping `kPops` registers: C3 C2 C0, C1 = 0.
template <Reg kOther, uint8_t kPops>
constexpr Shape kWithRegister{.in = {Reg::kSt0, kOther},
                              .host_out = static_cast<uint8_t>(2 - kPops),
                              .pops = kPops,
                              .conditions = fsw::kConditions,
                              .unordered = kUnordered};
// ST(0) against m32fp, m64fp, m16int, m32int.
template <uint8_t kBytes, uint8_t kPops>
constexpr Shape kWithMemory{.in = {Reg::kSt0},
                            .host_out = static_cast<uint8_t>(1 - kPops),
                            .pops = kPops,
                            .mem = Mem::kLoad,
                            .mem_bytes = kBytes,
                            .conditions = fsw::kConditions,
                            .unordered = kUnordered};
// FTST: ST(0) against 0.0.
constexpr Shape kTest{
    .in = {Reg::kSt0}, .host_out = 1, .conditions = fsw::kConditions, .unordered = kUnordered};
// FCOMI family: ZF PF CF; the condition codes are left as they are, as the host processor
// does (the SDM gives C1 = 0; its value is not a comparison result).
template <uint8_t kPops>
constexpr Shape kToRflags{.in = {Reg::kSt0, Reg::kSti},
                          .host_out = static_cast<uint8_t>(2 - kPops),
                          .pops = kPops,
                          .conditions = 0,
                          .rflags = true,
                          .after = HostAfter::kReadRflags};

constexpr auto kSti = kWithRegister<Reg::kSti, 0>, kStiPop = kWithRegister<Reg::kSti, 1>;
constexpr auto kSt1Pop2 = kWithRegister<Reg::kSt1, 2>;
constexpr auto kM32 = kWithMemory<4, 0>, kM32Pop = kWithMemory<4, 1>;
constexpr auto kM64 = kWithMemory<8, 0>, kM64Pop = kWithMemory<8, 1>;
constexpr auto kM16 = kWithMemory<2, 0>, kM16Pop = kWithMemory<2, 1>;

// FXAM: the class of ST(0) in C3 C2 C0 and its sign in C1 (SDM Vol. 2A FXAM, Table 3-23).
// An empty register is a class (C3 C2 C0 = 101), not a stack fault; C1 is still the sign bit
// of the register's contents.
struct Examine {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (!begin(cpu)) return Status::kFault;
    X87State& s = cpu.arch.x87;
    record<0xD9>(cpu, insn);
    if (is_empty(s, 0)) {
      const bool negative = (st(s, 0).sign_exponent & 0x8000) != 0;
      set_status(s, fsw::kConditions, fsw::kC3 | fsw::kC0 | (negative ? fsw::kC1 : 0), 0);
      return Status::kNext;
    }
    HostFrame frame;
    frame.in[0] = st(s, 0);
    host_execute<fixed_op(0xD9, 0xE5), 1, 1>(s.control, s.status, frame);
    set_status(s, fsw::kConditions, frame.status, frame.status & fsw::kExceptions);
    return Status::kNext;
  }
};

// FCMOVcc: ST(0) = ST(i) if the EFLAGS condition holds (SDM Vol. 2A FCMOVcc). Both registers
// are checked for underflow whatever the condition; the masked response loads the indefinite.
template <uint8_t kEscape, Condition kCondition>
struct ConditionalMove {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (!begin(cpu)) return Status::kFault;
    X87State& s = cpu.arch.x87;
    const unsigned i = insn.rm & 7;
    record<kEscape>(cpu, insn);
    if (is_empty(s, 0) || is_empty(s, i)) {
      if (stack_fault(s, false)) set_st(s, 0, kIndefinite);
      return Status::kNext;
    }
    if (cpu.flags.test(kCondition)) set_st(s, 0, st(s, i));
    return Status::kNext;
  }
};

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic   opcode     operands   attributes semantics
    FORM("FCOM",     "D8 /2",   "Md",      kX87,  X87Op<mem_op(0xD8, 2), kM32>),
    FORM("FCOMP",    "D8 /3",   "Md",      kX87,  X87Op<mem_op(0xD8, 3), kM32Pop>),
    FORM("FCOM",     "D8 D0+i", "ST0,STi", kX87,  X87Op<reg_op(0xD8, 0xD0), kSti>),
    FORM("FCOMP",    "D8 D8+i", "ST0,STi", kX87,  X87Op<reg_op(0xD8, 0xD8), kStiPop>),
    FORM("FTST",     "D9 E4",   "",        kX87,  X87Op<fixed_op(0xD9, 0xE4), kTest>),
    FORM("FXAM",     "D9 E5",   "",        kX87,  Examine),
    FORM("FICOM",    "DA /2",   "Md",      kX87,  X87Op<mem_op(0xDA, 2), kM32>),
    FORM("FICOMP",   "DA /3",   "Md",      kX87,  X87Op<mem_op(0xDA, 3), kM32Pop>),
    FORM("FCMOVB",   "DA C0+i", "ST0,STi", kCmov, ConditionalMove<0xDA, C::kB>),
    FORM("FCMOVE",   "DA C8+i", "ST0,STi", kCmov, ConditionalMove<0xDA, C::kE>),
    FORM("FCMOVBE",  "DA D0+i", "ST0,STi", kCmov, ConditionalMove<0xDA, C::kBe>),
    FORM("FCMOVU",   "DA D8+i", "ST0,STi", kCmov, ConditionalMove<0xDA, C::kP>),
    FORM("FUCOMPP",  "DA E9",   "",        kX87,  X87Op<fixed_op(0xDA, 0xE9), kSt1Pop2>),
    FORM("FCMOVNB",  "DB C0+i", "ST0,STi", kCmov, ConditionalMove<0xDB, C::kAe>),
    FORM("FCMOVNE",  "DB C8+i", "ST0,STi", kCmov, ConditionalMove<0xDB, C::kNe>),
    FORM("FCMOVNBE", "DB D0+i", "ST0,STi", kCmov, ConditionalMove<0xDB, C::kA>),
    FORM("FCMOVNU",  "DB D8+i", "ST0,STi", kCmov, ConditionalMove<0xDB, C::kNp>),
    FORM("FUCOMI",   "DB E8+i", "ST0,STi", kCmov, X87Op<reg_op(0xDB, 0xE8), kToRflags<0>>),
    FORM("FCOMI",    "DB F0+i", "ST0,STi", kCmov, X87Op<reg_op(0xDB, 0xF0), kToRflags<0>>),
    FORM("FCOM",     "DC /2",   "Mq",      kX87,  X87Op<mem_op(0xDC, 2), kM64>),
    FORM("FCOMP",    "DC /3",   "Mq",      kX87,  X87Op<mem_op(0xDC, 3), kM64Pop>),
    // SDM Vol. 2D Table A-21 leaves DC D0-DF, DE D0-D7 reserved; processors execute them as
    // FCOM and FCOMP (the "FCOM2", "FCOMP3", "FCOMP5" aliases).
    FORM("FCOM",     "DC D0+i", "ST0,STi", kX87,  X87Op<reg_op(0xDC, 0xD0), kSti>),
    FORM("FCOMP",    "DC D8+i", "ST0,STi", kX87,  X87Op<reg_op(0xDC, 0xD8), kStiPop>),
    FORM("FUCOM",    "DD E0+i", "ST0,STi", kX87,  X87Op<reg_op(0xDD, 0xE0), kSti>),
    FORM("FUCOMP",   "DD E8+i", "ST0,STi", kX87,  X87Op<reg_op(0xDD, 0xE8), kStiPop>),
    FORM("FICOM",    "DE /2",   "Mw",      kX87,  X87Op<mem_op(0xDE, 2), kM16>),
    FORM("FICOMP",   "DE /3",   "Mw",      kX87,  X87Op<mem_op(0xDE, 3), kM16Pop>),
    FORM("FCOMP",    "DE D0+i", "ST0,STi", kX87,  X87Op<reg_op(0xDE, 0xD0), kStiPop>),
    FORM("FCOMPP",   "DE D9",   "",        kX87,  X87Op<fixed_op(0xDE, 0xD9), kSt1Pop2>),
    FORM("FUCOMIP",  "DF E8+i", "ST0,STi", kCmov, X87Op<reg_op(0xDF, 0xE8), kToRflags<1>>),
    FORM("FCOMIP",   "DF F0+i", "ST0,STi", kCmov, X87Op<reg_op(0xDF, 0xF0), kToRflags<1>>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> x87_compare_forms() {
  return kForms;
}

}  // namespace cella::soft
