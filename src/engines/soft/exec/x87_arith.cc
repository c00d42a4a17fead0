// x87 arithmetic: FADD FADDP FIADD FSUB FSUBP FISUB FSUBR FSUBRP FISUBR FMUL FMULP FIMUL FDIV
// FDIVP FIDIV FDIVR FDIVRP FIDIVR FCHS FABS FSQRT FRNDINT FSCALE FXTRACT FPREM FPREM1
// (SDM Vol. 2A, each instruction's page; SDM Vol. 2D A.4.2, Tables: the escape
// opcode maps). Every form runs on the host x87 unit (exec/x87_op.h).
#include "engines/soft/exec/x87_op.h"

namespace cella::soft {

namespace {

using namespace attr;
using namespace x87;

// D8 forms: ST(0) = ST(0) op ST(i).
constexpr Shape kToSt0{.in = {Reg::kSt0, Reg::kSti}, .out = {Reg::kSt0}, .host_out = 2};
// DC forms: ST(i) = ST(i) op ST(0).
constexpr Shape kToSti{.in = {Reg::kSt0, Reg::kSti}, .out = {Reg::kNone, Reg::kSti}, .host_out = 2};
// DE forms: ST(i) = ST(i) op ST(0), then pop.
constexpr Shape kToStiPop{
    .in = {Reg::kSt0, Reg::kSti}, .out = {Reg::kSti}, .host_out = 1, .pops = 1};
// ST(0) = ST(0) op m32fp / m64fp / m16int / m32int.
template <uint8_t kBytes>
constexpr Shape kWithMemory{
    .in = {Reg::kSt0}, .out = {Reg::kSt0}, .host_out = 1, .mem = Mem::kLoad, .mem_bytes = kBytes};
constexpr Shape kM32 = kWithMemory<4>, kM64 = kWithMemory<8>, kM16 = kWithMemory<2>;
// ST(0) = f(ST(0)).
constexpr Shape kUnary{.in = {Reg::kSt0}, .out = {Reg::kSt0}, .host_out = 1};
// ST(0) = f(ST(0), ST(1)): FSCALE.
constexpr Shape kWithSt1{.in = {Reg::kSt0, Reg::kSt1}, .out = {Reg::kSt0}, .host_out = 2};
// FPREM/FPREM1: C2 = incomplete reduction, C0 C3 C1 = quotient bits Q2 Q1 Q0 (SDM Vol. 2A FPREM).
constexpr Shape kRemainder{.in = {Reg::kSt0, Reg::kSt1},
                           .out = {Reg::kSt0},
                           .host_out = 2,
                           .conditions = fsw::kConditions,
                           .exact_conditions = true};
// FXTRACT: ST(0) = exponent, then push the significand (SDM Vol. 2A FXTRACT).
constexpr Shape kExtract{.in = {Reg::kSt0}, .out = {Reg::kPush, Reg::kSt0}, .host_out = 2};

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic   opcode     operands   attributes semantics
    FORM("FADD",    "D8 /0",   "Md",      kX87, X87Op<mem_op(0xD8, 0), kM32>),
    FORM("FMUL",    "D8 /1",   "Md",      kX87, X87Op<mem_op(0xD8, 1), kM32>),
    FORM("FSUB",    "D8 /4",   "Md",      kX87, X87Op<mem_op(0xD8, 4), kM32>),
    FORM("FSUBR",   "D8 /5",   "Md",      kX87, X87Op<mem_op(0xD8, 5), kM32>),
    FORM("FDIV",    "D8 /6",   "Md",      kX87, X87Op<mem_op(0xD8, 6), kM32>),
    FORM("FDIVR",   "D8 /7",   "Md",      kX87, X87Op<mem_op(0xD8, 7), kM32>),
    FORM("FADD",    "D8 C0+i", "ST0,STi", kX87, X87Op<reg_op(0xD8, 0xC0), kToSt0>),
    FORM("FMUL",    "D8 C8+i", "ST0,STi", kX87, X87Op<reg_op(0xD8, 0xC8), kToSt0>),
    FORM("FSUB",    "D8 E0+i", "ST0,STi", kX87, X87Op<reg_op(0xD8, 0xE0), kToSt0>),
    FORM("FSUBR",   "D8 E8+i", "ST0,STi", kX87, X87Op<reg_op(0xD8, 0xE8), kToSt0>),
    FORM("FDIV",    "D8 F0+i", "ST0,STi", kX87, X87Op<reg_op(0xD8, 0xF0), kToSt0>),
    FORM("FDIVR",   "D8 F8+i", "ST0,STi", kX87, X87Op<reg_op(0xD8, 0xF8), kToSt0>),
    FORM("FIADD",   "DA /0",   "Md",      kX87, X87Op<mem_op(0xDA, 0), kM32>),
    FORM("FIMUL",   "DA /1",   "Md",      kX87, X87Op<mem_op(0xDA, 1), kM32>),
    FORM("FISUB",   "DA /4",   "Md",      kX87, X87Op<mem_op(0xDA, 4), kM32>),
    FORM("FISUBR",  "DA /5",   "Md",      kX87, X87Op<mem_op(0xDA, 5), kM32>),
    FORM("FIDIV",   "DA /6",   "Md",      kX87, X87Op<mem_op(0xDA, 6), kM32>),
    FORM("FIDIVR",  "DA /7",   "Md",      kX87, X87Op<mem_op(0xDA, 7), kM32>),
    FORM("FADD",    "DC /0",   "Mq",      kX87, X87Op<mem_op(0xDC, 0), kM64>),
    FORM("FMUL",    "DC /1",   "Mq",      kX87, X87Op<mem_op(0xDC, 1), kM64>),
    FORM("FSUB",    "DC /4",   "Mq",      kX87, X87Op<mem_op(0xDC, 4), kM64>),
    FORM("FSUBR",   "DC /5",   "Mq",      kX87, X87Op<mem_op(0xDC, 5), kM64>),
    FORM("FDIV",    "DC /6",   "Mq",      kX87, X87Op<mem_op(0xDC, 6), kM64>),
    FORM("FDIVR",   "DC /7",   "Mq",      kX87, X87Op<mem_op(0xDC, 7), kM64>),
    FORM("FADD",    "DC C0+i", "STi,ST0", kX87, X87Op<reg_op(0xDC, 0xC0), kToSti>),
    FORM("FMUL",    "DC C8+i", "STi,ST0", kX87, X87Op<reg_op(0xDC, 0xC8), kToSti>),
    FORM("FSUBR",   "DC E0+i", "STi,ST0", kX87, X87Op<reg_op(0xDC, 0xE0), kToSti>),
    FORM("FSUB",    "DC E8+i", "STi,ST0", kX87, X87Op<reg_op(0xDC, 0xE8), kToSti>),
    FORM("FDIVR",   "DC F0+i", "STi,ST0", kX87, X87Op<reg_op(0xDC, 0xF0), kToSti>),
    FORM("FDIV",    "DC F8+i", "STi,ST0", kX87, X87Op<reg_op(0xDC, 0xF8), kToSti>),
    FORM("FIADD",   "DE /0",   "Mw",      kX87, X87Op<mem_op(0xDE, 0), kM16>),
    FORM("FIMUL",   "DE /1",   "Mw",      kX87, X87Op<mem_op(0xDE, 1), kM16>),
    FORM("FISUB",   "DE /4",   "Mw",      kX87, X87Op<mem_op(0xDE, 4), kM16>),
    FORM("FISUBR",  "DE /5",   "Mw",      kX87, X87Op<mem_op(0xDE, 5), kM16>),
    FORM("FIDIV",   "DE /6",   "Mw",      kX87, X87Op<mem_op(0xDE, 6), kM16>),
    FORM("FIDIVR",  "DE /7",   "Mw",      kX87, X87Op<mem_op(0xDE, 7), kM16>),
    FORM("FADDP",   "DE C0+i", "STi,ST0", kX87, X87Op<reg_op(0xDE, 0xC0), kToStiPop>),
    FORM("FMULP",   "DE C8+i", "STi,ST0", kX87, X87Op<reg_op(0xDE, 0xC8), kToStiPop>),
    FORM("FSUBRP",  "DE E0+i", "STi,ST0", kX87, X87Op<reg_op(0xDE, 0xE0), kToStiPop>),
    FORM("FSUBP",   "DE E8+i", "STi,ST0", kX87, X87Op<reg_op(0xDE, 0xE8), kToStiPop>),
    FORM("FDIVRP",  "DE F0+i", "STi,ST0", kX87, X87Op<reg_op(0xDE, 0xF0), kToStiPop>),
    FORM("FDIVP",   "DE F8+i", "STi,ST0", kX87, X87Op<reg_op(0xDE, 0xF8), kToStiPop>),
    FORM("FCHS",    "D9 E0",   "",        kX87, X87Op<fixed_op(0xD9, 0xE0), kUnary>),
    FORM("FABS",    "D9 E1",   "",        kX87, X87Op<fixed_op(0xD9, 0xE1), kUnary>),
    FORM("FXTRACT", "D9 F4",   "",        kX87, X87Op<fixed_op(0xD9, 0xF4), kExtract>),
    FORM("FPREM1",  "D9 F5",   "",        kX87, X87Op<fixed_op(0xD9, 0xF5), kRemainder>),
    FORM("FPREM",   "D9 F8",   "",        kX87, X87Op<fixed_op(0xD9, 0xF8), kRemainder>),
    FORM("FSQRT",   "D9 FA",   "",        kX87, X87Op<fixed_op(0xD9, 0xFA), kUnary>),
    FORM("FRNDINT", "D9 FC",   "",        kX87, X87Op<fixed_op(0xD9, 0xFC), kUnary>),
    FORM("FSCALE",  "D9 FD",   "",        kX87, X87Op<fixed_op(0xD9, 0xFD), kWithSt1>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> x87_arith_forms() {
  return kForms;
}

}  // namespace cella::soft
