// X87Op: the semantics shared by every x87 instruction that computes (arithmetic, loads and
// stores, comparisons, transcendentals). A form is described by its host instruction (the
// guest's own opcode, exec/x87_host.h) and a Shape: which stack registers and memory operand
// go in, where the host's results go, how many registers are popped, which condition codes the
// result defines. The semantics then follow SDM Vol. 1 8.5 - 8.7 in one place:
//   1. waiting-instruction checks (#NM, pending #MF), then the memory operand (#PF);
//   2. the stack check: an empty source is an underflow, a full push target an overflow
//      (SDM Vol. 1 8.5.1.1); masked, every destination receives the indefinite;
//   3. otherwise the instruction runs on the host under the guest's control word;
//   4. an unmasked exception may withhold the results (x87::delivers);
//   5. a memory destination is written (#PF changes nothing), then FIP/FOP/FDP, registers,
//      tags, TOP and the status word are committed.
#pragma once

#include <cstring>

#include "engines/soft/exec/x87.h"
#include "engines/soft/exec/x87_host.h"

namespace cella::soft::x87 {

// A stack operand or destination, relative to TOP before the instruction.
enum class Reg : uint8_t {
  kNone,
  kSt0,
  kSt1,
  kSti,   // ST(i) from ModRM.rm
  kPush,  // the register a push loads (ST(7) before the push); TOP is decremented
};

enum class Mem : uint8_t { kNone, kLoad, kStore };

struct Shape {
  Reg in[2] = {Reg::kNone, Reg::kNone};   // the host's ST(0) and ST(1) operands
  Reg out[2] = {Reg::kNone, Reg::kNone};  // where the host's ST(0), ST(1) afterwards go
  uint8_t host_out = 0;                   // values the host instruction leaves on its stack
  uint8_t pops = 0;                       // guest pops after the results are written
  Mem mem = Mem::kNone;                   // the memory operand and its size
  uint8_t mem_bytes = 0;                  //   (2, 4, 8 or 10)
  uint16_t conditions = fsw::kC1;         // condition codes the instruction defines
  uint16_t unordered = 0;                 // compares: C3 C2 C0 on a masked stack fault
  bool rflags = false;                    // FCOMI family: ZF PF CF from the comparison
  HostAfter after = HostAfter::kNothing;  // host fixup (FPTAN, FSINCOS, FCOMI)
  // Condition codes that depend on the operands in ways a mask cannot say (FPREM leaves C0 C3
  // alone for a NaN result): the host starts from the guest's (exec/x87_host.h).
  bool exact_conditions = false;

  constexpr int host_in() const { return (in[0] != Reg::kNone) + (in[1] != Reg::kNone); }
  constexpr bool pushes() const { return out[0] == Reg::kPush || out[1] == Reg::kPush; }
};

template <size_t kBytes>
struct Bytes {
  uint8_t b[kBytes];
};

// Reads the memory operand into `out`.
template <size_t kBytes>
inline bool read_operand(SoftCpu& cpu, const Insn& insn, uint8_t* out) {
  Bytes<kBytes> value;
  if (!read_memory(cpu, effective_address(cpu, insn), value)) return false;
  std::memcpy(out, value.b, kBytes);
  return true;
}
template <size_t kBytes>
inline bool write_operand(SoftCpu& cpu, const Insn& insn, const uint8_t* in) {
  Bytes<kBytes> value;
  std::memcpy(value.b, in, kBytes);
  return write_memory(cpu, effective_address(cpu, insn), value);
}

// A store's destination is checked for writing before the instruction computes: it raises #PF
// even when an unmasked exception then withholds the store, as the host processor does. The
// fault address is the first inaccessible byte, as for the store itself.
template <size_t kBytes>
inline bool probe_store(SoftCpu& cpu, const Insn& insn) {
  const uint64_t linear = effective_address(cpu, insn);
  PageTranslation page;
  if (!cpu.translate(linear, Access::kWrite, page)) return false;
  const uint64_t last = linear + kBytes - 1;
  if (((last ^ linear) & ~kPageOffsetMask) == 0) return true;
  return cpu.translate(last & ~kPageOffsetMask, Access::kWrite, page);
}

// SDM Vol. 1 8.1.2: the physical register named by `reg` for an instruction on ST(i).
inline unsigned physical_of(const X87State& s, Reg reg, unsigned i) {
  switch (reg) {
    case Reg::kSt1:
      return physical(s, 1);
    case Reg::kSti:
      return physical(s, i);
    case Reg::kPush:
      return physical(s, 7);
    default:
      return physical(s, 0);
  }
}

// SDM Vol. 3A 4.1.2 / Vol. 1 3.4.3: the FCOMI family sets ZF, PF and CF from the comparison
// and clears OF, SF and AF (SDM Vol. 2A FCOMI).
inline void set_compare_flags(SoftCpu& cpu, uint64_t zf_pf_cf) {
  namespace rf = x86::rflags;
  cpu.flags.set_status(zf_pf_cf & (rf::kZf | rf::kPf | rf::kCf));
}

// kEscape: the guest's escape byte (D8-DF) for FOP, when the host runs an equivalent
// instruction of another escape (the FXCH and FSTP aliases).
template <HostOp kOp, Shape kShape, uint8_t kEscape = kOp.opcode>
struct X87Op {
  static constexpr bool kToMemory = kShape.mem == Mem::kStore;

  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (!begin(cpu)) return Status::kFault;
    X87State& s = cpu.arch.x87;
    HostFrame frame;
    if constexpr (kShape.mem == Mem::kLoad) {
      if (!read_operand<kShape.mem_bytes>(cpu, insn, frame.memory)) return Status::kFault;
    } else if constexpr (kToMemory) {
      if (!probe_store<kShape.mem_bytes>(cpu, insn)) return Status::kFault;
    }
    const unsigned i = insn.rm & 7;
    bool underflow = false;
    for (int k = 0; k < 2; ++k) {
      if (kShape.in[k] == Reg::kNone) continue;
      const unsigned p = physical_of(s, kShape.in[k], i);
      if (tag_of_physical(s, p) == kTagEmpty) underflow = true;
      frame.in[k] = s.physical[p];
    }
    const bool overflow = kShape.pushes() && !can_push(s);
    if (underflow || overflow) [[unlikely]]
      return stack_fault_response(cpu, insn, frame, overflow && !underflow);

    run_on_host(s, frame);
    // The instruction changed the stack as documented (an unmasked exception may have stopped
    // it first; FPTAN/FSINCOS push nothing for an out-of-range operand, C2 = 1).
    const bool complete = frame.delta == kShape.host_out - kShape.host_in() &&
                          !(kShape.after == HostAfter::kPushUnlessC2 && (frame.status & fsw::kC2));
    if constexpr (kToMemory) {
      if (complete && delivers(frame.status, s.control, true) &&
          !write_operand<kShape.mem_bytes>(cpu, insn, frame.memory)) {
        return Status::kFault;
      }
    }
    record<kEscape>(cpu, insn);
    if (complete) commit(s, i, frame.out);
    if constexpr (kShape.rflags) set_compare_flags(cpu, frame.rflags);
    // The host's loads clear C1, so C1 is exact only where the instruction defines it.
    const uint16_t conditions = frame.exact_conditions
                                    ? (fsw::kC0 | fsw::kC2 | fsw::kC3 | kShape.conditions)
                                    : kShape.conditions;
    set_status(s, conditions, frame.status, frame.status & fsw::kExceptions);
    return Status::kNext;
  }

  static void run_on_host(const X87State& s, HostFrame& frame) {
    host_execute<kOp, kShape.host_in(), kShape.host_out, kShape.after, kShape.exact_conditions>(
        s.control, s.status, frame);
  }

  // Writes the results to their registers, then moves TOP (pushes and pops).
  static void commit(X87State& s, unsigned i, const Float80* values) {
    unsigned destination[2] = {0, 0};
    for (int k = 0; k < 2; ++k) destination[k] = physical_of(s, kShape.out[k], i);
    for (int k = 0; k < 2; ++k) {
      if (kShape.out[k] != Reg::kNone) write_physical(s, destination[k], values[k]);
    }
    if constexpr (kShape.pushes()) set_top(s, top(s) - 1);
    for (int k = 0; k < kShape.pops; ++k) pop(s);
  }

  // SDM Vol. 1 8.5.1.1: the masked response to a stack fault is the indefinite in every
  // destination (a memory destination receives the indefinite of its format, which the host
  // produces from the indefinite), and an unordered result for comparisons.
  static Status stack_fault_response(SoftCpu& cpu, const Insn& insn, HostFrame& frame,
                                     bool overflow) {
    X87State& s = cpu.arch.x87;
    const bool masked = (s.control & fsw::kIe) != 0;
    if constexpr (kToMemory) {
      if (masked) {
        frame.in[0] = frame.in[1] = kIndefinite;
        run_on_host(s, frame);
        if (!write_operand<kShape.mem_bytes>(cpu, insn, frame.memory)) return Status::kFault;
      }
    }
    record<kEscape>(cpu, insn);
    stack_fault(s, overflow);
    // Masked or not (as the host processor does), comparisons report "unordered" (C3 C2 C0,
    // or ZF PF CF), and an instruction that defines C2 clears it (FSIN, FPREM).
    set_status(s, kShape.unordered ? kShape.unordered : kShape.conditions & fsw::kC2,
               kShape.unordered, 0);
    if constexpr (kShape.rflags) {
      namespace rf = x86::rflags;
      set_compare_flags(cpu, rf::kZf | rf::kPf | rf::kCf);
    }
    if (!masked) return Status::kNext;
    const Float80 indefinite[2] = {kIndefinite, kIndefinite};
    commit(s, insn.rm & 7, indefinite);
    return Status::kNext;
  }
};

}  // namespace cella::soft::x87
