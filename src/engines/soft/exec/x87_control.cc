// x87 control: FINCSTP FDECSTP FFREE FFREEP FNOP FWAIT FNINIT FNCLEX FNSTSW FNSTCW FLDCW, and
// the 8087/80287 leftovers FNENI FNDISI FNSETPM (SDM Vol. 2A, each instruction's page; SDM
// Vol. 1 8.3.11 - 8.3.13). The FN forms and FWAIT are control instructions: they leave the
// last-instruction pointers alone (SDM Vol. 1 8.1.8), and the FN forms do not deliver a pending
// exception first (SDM Vol. 1 8.3.11).
#include "engines/soft/exec/x87.h"

namespace cella::soft {

namespace {

using namespace attr;
using namespace x87;

// FINCSTP / FDECSTP: TOP +- 1, tags and registers unchanged, C1 = 0.
template <int kDelta>
struct MoveTop {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (!begin(cpu)) return Status::kFault;
    X87State& s = cpu.arch.x87;
    record<0xD9>(cpu, insn);
    set_top(s, top(s) + kDelta);
    set_status(s, fsw::kC1, 0, 0);
    return Status::kNext;
  }
};

// FFREE ST(i): tag ST(i) empty; FFREEP also pops. C1 = 0 (the SDM leaves the condition codes
// undefined; this is what the host processor does).
template <uint8_t kEscape, bool kPop>
struct Free {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (!begin(cpu)) return Status::kFault;
    X87State& s = cpu.arch.x87;
    record<kEscape>(cpu, insn);
    free_physical(s, physical(s, insn.rm & 7));
    if constexpr (kPop) pop(s);
    set_status(s, fsw::kC1, 0, 0);
    return Status::kNext;
  }
};

// FNOP: a waiting, non-control instruction that does nothing else.
struct NoOperation {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (!begin(cpu)) return Status::kFault;
    record<0xD9>(cpu, insn);
    return Status::kNext;
  }
};

// FWAIT: delivers a pending unmasked exception; #NM only with CR0.MP and CR0.TS both set
// (SDM Vol. 3A 2.5, Table 2-2).
struct Wait {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    if ((cpu.arch.cr0 & (x86::cr0::kMp | x86::cr0::kTs)) == (x86::cr0::kMp | x86::cr0::kTs))
      return cpu.raise(x86::Vector::kDeviceNotAvailable);
    return deliver_pending(cpu) ? Status::kNext : Status::kFault;
  }
};

// FNENI, FNDISI, FNSETPM: 8087/80287 controls that later processors execute as no-ops,
// without waiting (SDM Vol. 2D Table A-18 footnote; observed on the host processor).
struct Obsolete {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    return available(cpu) ? Status::kNext : Status::kFault;
  }
};

// FNINIT.
struct Initialize {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    if (!available(cpu)) return Status::kFault;
    initialize(cpu.arch.x87);
    return Status::kNext;
  }
};

// FNCLEX: clears the exception flags, SF, ES and B (SDM Vol. 2A FCLEX/FNCLEX).
struct ClearExceptions {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    if (!available(cpu)) return Status::kFault;
    X87State& s = cpu.arch.x87;
    s.status &= static_cast<uint16_t>(~(fsw::kExceptions | fsw::kSf | fsw::kEs | fsw::kB));
    return Status::kNext;
  }
};

// FNSTSW m16 / AX, FNSTCW m16.
template <bool kControlWord>
struct StoreWord {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (!available(cpu)) return Status::kFault;
    const X87State& s = cpu.arch.x87;
    const uint16_t value = kControlWord ? s.control : s.status;
    if constexpr (kMem) {
      return write_memory(cpu, effective_address(cpu, insn), value) ? Status::kNext
                                                                    : Status::kFault;
    } else {
      cpu.set_reg<uint16_t>(0, value);  // FNSTSW AX
      return Status::kNext;
    }
  }
};

// FLDCW m16: a waiting instruction; unmasking a flagged exception makes it pending (ES) for
// the next waiting instruction (SDM Vol. 2A FLDCW).
struct LoadControlWord {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (!begin(cpu)) return Status::kFault;
    uint16_t value = 0;
    if (!read_memory(cpu, effective_address(cpu, insn), value)) return Status::kFault;
    X87State& s = cpu.arch.x87;
    s.control = loadable_control(value);
    update_summary(s);
    return Status::kNext;
  }
};

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic   opcode     operands attributes semantics
    FORM("FLDCW",   "D9 /5",   "Mw",  kX87, LoadControlWord),
    FORM("FNSTCW",  "D9 /7",   "Mw",  kX87, StoreWord<true>),
    FORM("FNOP",    "D9 D0",   "",    kX87, NoOperation),
    FORM("FDECSTP", "D9 F6",   "",    kX87, MoveTop<-1>),
    FORM("FINCSTP", "D9 F7",   "",    kX87, MoveTop<1>),
    FORM("FNENI",   "DB E0",   "",    kX87, Obsolete),
    FORM("FNDISI",  "DB E1",   "",    kX87, Obsolete),
    FORM("FNCLEX",  "DB E2",   "",    kX87, ClearExceptions),
    FORM("FNINIT",  "DB E3",   "",    kX87, Initialize),
    FORM("FNSETPM", "DB E4",   "",    kX87, Obsolete),
    FORM("FFREE",   "DD C0+i", "STi", kX87, Free<0xDD, false>),
    FORM("FNSTSW",  "DD /7",   "Mw",  kX87, StoreWord<false>),
    FORM("FFREEP",  "DF C0+i", "STi", kX87, Free<0xDF, true>),
    FORM("FNSTSW",  "DF E0",   "AX",  kX87, StoreWord<false>),
    FORM("FWAIT",   "9B",      "",    kX87, Wait),
};
// clang-format on

}  // namespace

std::span<const FormSpec> x87_control_forms() {
  return kForms;
}

}  // namespace cella::soft
