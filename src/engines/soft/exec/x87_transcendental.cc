// x87 transcendental instructions: FSIN FCOS FSINCOS FPTAN FPATAN F2XM1 FYL2X FYL2XP1
// (SDM Vol. 2A, each instruction's page; SDM Vol. 1 8.3.10). They run on the host x87 unit
// (exec/x87_op.h), so their results are exactly the hardware's, including its argument
// reduction and its out-of-range response (C2 = 1, operand unchanged).
#include "engines/soft/exec/x87_op.h"

namespace cella::soft {

namespace {

using namespace attr;
using namespace x87;

// FSIN/FCOS: ST(0) = f(ST(0)); C2 reports an operand beyond +-2^63 (SDM Vol. 2A FSIN).
constexpr Shape kTrigonometric{
    .in = {Reg::kSt0}, .out = {Reg::kSt0}, .host_out = 1, .conditions = fsw::kC1 | fsw::kC2};
// FPTAN: ST(0) = tan, push 1.0; FSINCOS: ST(0) = sin, push cos. Out of range: C2 = 1 and
// nothing is pushed.
constexpr Shape kTrigonometricPair{.in = {Reg::kSt0},
                                   .out = {Reg::kPush, Reg::kSt0},
                                   .host_out = 2,
                                   .conditions = fsw::kC1 | fsw::kC2,
                                   .after = HostAfter::kPushUnlessC2};
// F2XM1: ST(0) = 2^ST(0) - 1.
constexpr Shape kUnary{.in = {Reg::kSt0}, .out = {Reg::kSt0}, .host_out = 1};
// FPATAN, FYL2X, FYL2XP1: ST(1) = f(ST(1), ST(0)), then pop.
constexpr Shape kIntoSt1Pop{
    .in = {Reg::kSt0, Reg::kSt1}, .out = {Reg::kSt1}, .host_out = 1, .pops = 1};

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic   opcode   operands attributes semantics
    FORM("F2XM1",   "D9 F0", "", kX87, X87Op<fixed_op(0xD9, 0xF0), kUnary>),
    FORM("FYL2X",   "D9 F1", "", kX87, X87Op<fixed_op(0xD9, 0xF1), kIntoSt1Pop>),
    FORM("FPTAN",   "D9 F2", "", kX87, X87Op<fixed_op(0xD9, 0xF2), kTrigonometricPair>),
    FORM("FPATAN",  "D9 F3", "", kX87, X87Op<fixed_op(0xD9, 0xF3), kIntoSt1Pop>),
    FORM("FYL2XP1", "D9 F9", "", kX87, X87Op<fixed_op(0xD9, 0xF9), kIntoSt1Pop>),
    FORM("FSINCOS", "D9 FB", "", kX87, X87Op<fixed_op(0xD9, 0xFB), kTrigonometricPair>),
    FORM("FSIN",    "D9 FE", "", kX87, X87Op<fixed_op(0xD9, 0xFE), kTrigonometric>),
    FORM("FCOS",    "D9 FF", "", kX87, X87Op<fixed_op(0xD9, 0xFF), kTrigonometric>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> x87_transcendental_forms() {
  return kForms;
}

}  // namespace cella::soft
