// Port I/O and the interrupt flag: IN OUT CLI STI (SDM Vol. 2A/2B, each instruction's page;
// Vol. 1 19.5 for I/O permissions). INS/OUTS are string instructions (exec/string.cc).
#include "engines/soft/exec/system.h"

namespace cella::soft {

namespace {

using namespace attr;
using x86::Vector;
namespace rf = x86::rflags;

// IN AL/AX/EAX, imm8 or DX.
struct In {
  template <class Wide, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    using T = PortOperand<Wide>;
    uint16_t port = 0;
    Arg<kOps, 1, kMem>::template read<uint16_t>(cpu, insn, port);
    port = kOps[1].kind == OperandKind::kI ? static_cast<uint8_t>(port) : port;
    if (!io_allowed(cpu, port, sizeof(T))) return Status::kFault;
    cpu.set_reg<T>(0, static_cast<T>(cpu.platform().port_read(port, sizeof(T))));
    return Status::kNext;
  }
};

// OUT imm8 or DX, AL/AX/EAX.
struct Out {
  template <class Wide, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    using T = PortOperand<Wide>;
    uint16_t port = 0;
    Arg<kOps, 0, kMem>::template read<uint16_t>(cpu, insn, port);
    port = kOps[0].kind == OperandKind::kI ? static_cast<uint8_t>(port) : port;
    if (!io_allowed(cpu, port, sizeof(T))) return Status::kFault;
    cpu.platform().port_write(port, sizeof(T), cpu.reg<T>(0));
    return Status::kNext;
  }
};

// CLI / STI in protected mode without VME/PVI: allowed when CPL <= IOPL, else #GP(0). STI that
// sets IF inhibits interrupts until the next instruction completes (SDM Vol. 2B STI).
template <bool kSet>
struct InterruptFlag {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (cpu.cpl() > iopl(cpu)) return cpu.raise(Vector::kGeneralProtection, 0);
    const uint64_t flags = cpu.flags.rflags();
    if constexpr (kSet) {
      if (!(flags & rf::kIf)) {
        cpu.interrupt_shadow = true;
        cpu.shadow_rip = next_rip(cpu, insn);
      }
      cpu.flags.set_rflags(flags | rf::kIf);
    } else {
      cpu.flags.set_rflags(flags & ~rf::kIf);
    }
    return Status::kNext;
  }
};

constexpr uint64_t kIo = kNoDiff;

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic opcode operands  attributes      semantics
    FORM("IN",  "E4", "AL,Ib",  kIo,                  In),
    FORM("IN",  "E5", "eAX,Ib", kIo,                  In),
    FORM("IN",  "EC", "AL,DX",  kIo,                  In),
    FORM("IN",  "ED", "eAX,DX", kIo,                  In),
    FORM("OUT", "E6", "Ib,AL",  kIo,                  Out),
    FORM("OUT", "E7", "Ib,eAX", kIo,                  Out),
    FORM("OUT", "EE", "DX,AL",  kIo,                  Out),
    FORM("OUT", "EF", "DX,eAX", kIo,                  Out),
    FORM("CLI", "FA", "",       kNoDiff,              InterruptFlag<false>),
    FORM("STI", "FB", "",       kNoDiff | kEndsBlock, InterruptFlag<true>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> system_io_forms() {
  return kForms;
}

}  // namespace cella::soft
