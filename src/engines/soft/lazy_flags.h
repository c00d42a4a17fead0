// Lazy evaluation of the arithmetic status flags (SDM Vol. 1 3.4.3.1): the common
// flag-setting instructions record their operands and result, and CF/PF/AF/ZF/SF/OF are
// computed only when something reads them (Jcc, SETcc, PUSHF, ADC, ...).
#pragma once

#include <cstdint>

#include "cpu/x86/registers.h"

namespace cella::soft {

// How the pending status flags were produced. kNone: they are materialized in `other`.
// kShl/kShr/kSar: src1 is the operand, src2 the masked nonzero count (exec/shift.cc);
// kMul: result is the low half of the product, src1 is 1 when the product overflows it
// (exec/muldiv.cc).
enum class FlagOp : uint8_t {
  kNone,
  kAdd,
  kAdc,
  kSub,
  kSbb,
  kLogic,
  kInc,
  kDec,
  kShl,
  kShr,
  kSar,
  kMul,
  kCount
};

// Jcc/SETcc/CMOVcc condition codes (SDM Vol. 1 Appendix B, Table B-1), in encoding order.
enum class Condition : uint8_t {
  kO,
  kNo,
  kB,
  kAe,
  kE,
  kNe,
  kBe,
  kA,
  kS,
  kNs,
  kP,
  kNp,
  kL,
  kGe,
  kLe,
  kG
};

// ZF, SF and PF of a result (SDM Vol. 1 3.4.3.1): PF reflects the low byte's parity.
template <class T>
constexpr uint64_t result_flags(T result) {
  using namespace x86::rflags;
  const uint64_t value = result;
  return (value == 0 ? kZf : 0) | (((value >> (sizeof(T) * 8 - 1)) & 1) ? kSf : 0) |
         (__builtin_parity(static_cast<unsigned>(value & 0xff)) ? 0 : kPf);
}

struct LazyFlags {
  uint64_t result = 0;
  uint64_t src1 = 0;
  uint64_t src2 = 0;
  uint64_t carry_in = 0;  // ADC/SBB carry in; INC/DEC: the preserved CF
  // RFLAGS bits that are not pending: all non-status bits always, and the status bits
  // too when op == kNone. Bit 1 is kept set.
  uint64_t other = 0x2;
  FlagOp op = FlagOp::kNone;
  uint8_t size_log2 = 0;  // operand size: 1 << size_log2 bytes

  // The six status flags, computed.
  uint64_t status() const;
  bool carry() const;
  uint64_t rflags() const { return (other & ~x86::rflags::kStatus) | status(); }
  // Replaces every flag (POPF, SAHF, IRET, flags set eagerly by complex instructions).
  void set_rflags(uint64_t value) {
    other = value | x86::rflags::kReserved1;
    op = FlagOp::kNone;
  }
  // Replaces the status flags only.
  void set_status(uint64_t status_bits) {
    other = (other & ~x86::rflags::kStatus) | (status_bits & x86::rflags::kStatus);
    op = FlagOp::kNone;
  }
  // Replaces the status flags in `mask` and keeps the others (ROL/ROR: CF and OF; BT: CF;
  // CMPXCHG8B: ZF), computing the kept ones only if they are still pending.
  void set_status_bits(uint64_t mask, uint64_t bits) {
    const uint64_t kept = op == FlagOp::kNone ? other : status();
    set_status((kept & ~mask) | (bits & mask));
  }

  template <class T>
  void record(FlagOp operation, T res, T a, T b) {
    op = operation;
    size_log2 = static_cast<uint8_t>(__builtin_ctz(sizeof(T)));
    result = res;
    src1 = a;
    src2 = b;
  }

  bool test(Condition condition) const;
};

}  // namespace cella::soft
