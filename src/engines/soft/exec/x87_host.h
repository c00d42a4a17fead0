// Running a guest x87 instruction on the host's own x87 unit (docs/cpu.md, "x87").
//
// The host is x86-64, so x87 arithmetic is not emulated: the guest instruction's own escape
// opcode and ModRM byte execute on the host, on copies of the guest's operands, under the
// guest's control word (precision control, rounding control, exception masks). Results,
// rounding, NaN propagation, C0-C3 and the exception flags are therefore bit-exact with
// hardware, transcendental instructions included. The guest's register stack, tags, TOP and
// pending-exception state are never given to the host: the semantics (exec/x87.h) check the
// stack, hand over operand values, and merge the host's status word into the guest's.
//
// One host execution:
//   - the operands are pushed on the host stack: in[1] first, so in[0] is the host's ST(0)
//     and in[1] its ST(1); a guest ST(i) operand is renumbered to ST(1) in the ModRM byte,
//     and a memory operand is `memory`, addressed as [rdx] (ModRM mod = 00, rm = 010);
//   - the instruction runs; the host status word (and for FCOMI, RFLAGS) is captured;
//   - `out_count` values are popped into out[0] (the host's ST(0) afterwards), out[1].
//
// Host state discipline: the host FPU is left exactly as it was found. The x87 stack is empty
// at every call boundary (System V ABI 3.2.1), the control word is saved and restored, and
// exception flags the instruction raised are cleared (FNCLEX) before any waiting instruction,
// so an unmasked guest exception never traps on the host. When the guest unmasks an exception
// (then the host stack depth after the instruction may differ, SDM Vol. 1 8.6) or the host
// already had exception flags set, the whole host environment is saved with FNSTENV and
// restored with FLDENV around the execution.
#pragma once

#include <cstdint>

#include "cpu/x86/arch_state.h"

namespace cella::soft::x87 {

struct HostFrame {
  x86::Float80 in[2];
  x86::Float80 out[2];
  alignas(16) uint8_t memory[16] = {};
  uint16_t status = 0;  // the host FSW after the instruction
  uint64_t rflags = 0;  // the host RFLAGS after the instruction (FCOMI family only)
  // Values the instruction pushed (negative: popped). With every exception masked this is
  // always its documented effect; an unmasked exception can stop the instruction before it
  // changes the stack (SDM Vol. 1 8.6), which the host's TOP then shows.
  int delta = 0;
  // The host started from the guest's condition codes, so all of C0-C3 in `status` are the
  // guest's after the instruction, including those it leaves unchanged.
  bool exact_conditions = false;
};

// The host's ModRM byte for a guest form: a memory operand moves to [rdx]; ST(i) becomes ST(1).
constexpr uint8_t host_memory_modrm(unsigned digit) {
  return static_cast<uint8_t>(digit << 3 | 2);
}
constexpr uint8_t host_register_modrm(uint8_t modrm_base) {
  return static_cast<uint8_t>(modrm_base | 1);
}

// The guest instruction executed on the host: escape opcode (D8-DF) and host ModRM byte.
struct HostOp {
  uint8_t opcode;
  uint8_t modrm;
};
// "D8 /0": a memory form.
constexpr HostOp mem_op(uint8_t opcode, unsigned digit) {
  return {opcode, host_memory_modrm(digit)};
}
// "D8 C0+i": a register form on ST(i).
constexpr HostOp reg_op(uint8_t opcode, uint8_t modrm_base) {
  return {opcode, host_register_modrm(modrm_base)};
}
// "D9 E0": a form with a fixed ModRM byte.
constexpr HostOp fixed_op(uint8_t opcode, uint8_t modrm) {
  return {opcode, modrm};
}

// What the host does after the instruction, before popping the outputs.
enum class HostAfter : uint8_t {
  kNothing,
  kReadRflags,    // FCOMI family: capture RFLAGS
  kPushUnlessC2,  // FPTAN/FSINCOS push nothing when C2 reports an out-of-range operand
                  // (SDM Vol. 2A FPTAN): push a placeholder so out_count holds
};

namespace detail {

// The exception flags of the host status word are clear.
inline bool host_flags_clear() {
  uint16_t status;
  asm volatile("fnstsw %0" : "=a"(status));
  return (status & 0x3f) == 0;
}

// SDM Vol. 1 8.1.10, Figure 8-9: the 28-byte environment FNSTENV stores.
struct alignas(4) HostEnvironment {
  uint8_t bytes[28];
};

// The host instruction sequence. `loads`, `flags` (RFLAGS capture, before anything changes
// them), `fixup` (after the exception flags are cleared) and `stores` are assembler text
// chosen by the operand counts; everything else is common.
#define CELLA_X87_HOST_ASM(loads, flags, fixup, stores)                                    \
  asm volatile(                                                                            \
      "fnstcw %[saved]\n\t"                                                                \
      "fldcw %[control]\n\t" loads                                                         \
      ".byte %c[opcode], %c[modrm]\n\t"                                                    \
      "fnstsw %%ax\n\t" flags                                                              \
      "testb $0x3f, %%al\n\t"                                                              \
      "jz 1f\n\t"                                                                          \
      "fnclex\n"                                                                           \
      "1:\n\t"                                                                             \
      "fldcw %[masked]\n\t" fixup stores                                                   \
      "fldcw %[saved]\n\t"                                                                 \
      "movw %%ax, %[status]"                                                               \
      : [status] "=m"(frame.status), [out0] "=m"(frame.out[0]), [out1] "=m"(frame.out[1]), \
        [saved] "=m"(saved), [rflags] "=&r"(frame.rflags)                                  \
      : [control] "m"(control), [masked] "m"(masked), [in0] "m"(frame.in[0]),              \
        [in1] "m"(frame.in[1]), [opcode] "i"(kOp.opcode), [modrm] "i"(kOp.modrm),          \
        [memory] "d"(frame.memory)                                                         \
      : "rax", "cc", "memory", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", \
        "st(7)")

#define CELLA_X87_LOAD0 ""
#define CELLA_X87_LOAD1 "fldt %[in0]\n\t"
#define CELLA_X87_LOAD2 "fldt %[in1]\n\tfldt %[in0]\n\t"
#define CELLA_X87_STORE0 ""
#define CELLA_X87_STORE1 "fstpt %[out0]\n\t"
#define CELLA_X87_STORE2 "fstpt %[out0]\n\tfstpt %[out1]\n\t"
// RFLAGS through the stack, stepping over the red zone (System V ABI 3.2.2).
#define CELLA_X87_RFLAGS \
  "lea -128(%%rsp), %%rsp\n\tpushfq\n\tpopq %[rflags]\n\tlea 128(%%rsp), %%rsp\n\t"
#define CELLA_X87_PUSH_UNLESS_C2 "testb $4, %%ah\n\tjz 2f\n\tfldz\n2:\n\t"

template <HostOp kOp, int kIn, int kOut, HostAfter kAfter>
inline void host_body(uint16_t control, HostFrame& frame) {
  const uint16_t masked = control | 0x3f;
  uint16_t saved;
  if constexpr (kAfter == HostAfter::kReadRflags) {
    static_assert(kIn == 2, "FCOMI forms take two operands");
    if constexpr (kOut == 2)
      CELLA_X87_HOST_ASM(CELLA_X87_LOAD2, CELLA_X87_RFLAGS, "", CELLA_X87_STORE2);
    else
      CELLA_X87_HOST_ASM(CELLA_X87_LOAD2, CELLA_X87_RFLAGS, "", CELLA_X87_STORE1);
  } else if constexpr (kAfter == HostAfter::kPushUnlessC2) {
    static_assert(kIn == 1 && kOut == 2, "FPTAN/FSINCOS replace one value by two");
    CELLA_X87_HOST_ASM(CELLA_X87_LOAD1, "", CELLA_X87_PUSH_UNLESS_C2, CELLA_X87_STORE2);
  } else if constexpr (kIn == 0 && kOut == 1) {
    CELLA_X87_HOST_ASM(CELLA_X87_LOAD0, "", "", CELLA_X87_STORE1);
  } else if constexpr (kIn == 1 && kOut == 0) {
    CELLA_X87_HOST_ASM(CELLA_X87_LOAD1, "", "", CELLA_X87_STORE0);
  } else if constexpr (kIn == 1 && kOut == 1) {
    CELLA_X87_HOST_ASM(CELLA_X87_LOAD1, "", "", CELLA_X87_STORE1);
  } else if constexpr (kIn == 1 && kOut == 2) {
    CELLA_X87_HOST_ASM(CELLA_X87_LOAD1, "", "", CELLA_X87_STORE2);
  } else if constexpr (kIn == 2 && kOut == 0) {
    CELLA_X87_HOST_ASM(CELLA_X87_LOAD2, "", "", CELLA_X87_STORE0);
  } else if constexpr (kIn == 2 && kOut == 1) {
    CELLA_X87_HOST_ASM(CELLA_X87_LOAD2, "", "", CELLA_X87_STORE1);
  } else {
    static_assert(kIn == 2 && kOut == 2, "unsupported host operand counts");
    CELLA_X87_HOST_ASM(CELLA_X87_LOAD2, "", "", CELLA_X87_STORE2);
  }
}

#undef CELLA_X87_HOST_ASM
#undef CELLA_X87_LOAD0
#undef CELLA_X87_LOAD1
#undef CELLA_X87_LOAD2
#undef CELLA_X87_STORE0
#undef CELLA_X87_STORE1
#undef CELLA_X87_STORE2
#undef CELLA_X87_RFLAGS
#undef CELLA_X87_PUSH_UNLESS_C2

}  // namespace detail

// Executes kOp on the host: kIn operands in, kOut values out (see the top of this file).
// `status` is the guest's status word: with kExactConditions (or whenever the environment is
// saved anyway), the host starts from its condition codes.
template <HostOp kOp, int kIn, int kOut, HostAfter kAfter = HostAfter::kNothing,
          bool kExactConditions = false>
inline void host_execute(uint16_t control, uint16_t status, HostFrame& frame) {
  if (!kExactConditions && (control & 0x3f) == 0x3f && detail::host_flags_clear()) [[likely]] {
    detail::host_body<kOp, kIn, kOut, kAfter>(control, frame);
    frame.delta = kOut - kIn;
    frame.exact_conditions = false;
    return;
  }
  // Save the host environment, and start from a copy with the guest's condition codes and no
  // exception flags (SDM Vol. 1 Figure 8-9: the status word is at byte 4).
  detail::HostEnvironment saved, start;
  asm volatile("fnstenv %0" : "=m"(saved));
  start = saved;
  const uint16_t host_status = static_cast<uint16_t>(saved.bytes[4] | saved.bytes[5] << 8);
  const uint16_t start_status = static_cast<uint16_t>((host_status & 0x3800) | (status & 0x4700));
  start.bytes[4] = static_cast<uint8_t>(start_status);
  start.bytes[5] = static_cast<uint8_t>(start_status >> 8);
  asm volatile("fldenv %0" : : "m"(start) : "memory");
  detail::host_body<kOp, kIn, kOut, kAfter>(control, frame);
  asm volatile("fldenv %0" : : "m"(saved) : "memory");
  // TOP at entry, after the loads, and after the instruction.
  const unsigned entry_top = (host_status >> 11) & 7;
  const unsigned after_top = (frame.status >> 11) & 7;
  frame.delta = static_cast<int>((entry_top - kIn - after_top) & 7);
  if (frame.delta > 4) frame.delta -= 8;
  frame.exact_conditions = true;
}

}  // namespace cella::soft::x87
