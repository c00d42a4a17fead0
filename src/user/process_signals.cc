// Signals in the process: host signals taken into the guest's pending set, delivery to
// handlers or default actions between instructions (with Linux's system-call restart rules),
// and guest exceptions turned into the signals Linux sends for them.
#include <sys/syscall.h>

#include <cerrno>

#include "user/host_signals.h"
#include "user/linux_abi.h"
#include "user/process.h"
#include "user/signal_frame.h"

namespace cella::user {

namespace {

using x86::Gpr;

// The SIGFPE code of a floating-point exception: the first unmasked exception flag in the
// order Linux reports them (arch/x86/kernel/fpu/core.c fpu__exception_code).
int32_t fpe_code(uint32_t unmasked) {
  if (unmasked & 0x01) return abi::kFpeFltinv;
  if (unmasked & 0x04) return abi::kFpeFltdiv;
  if (unmasked & 0x08) return abi::kFpeFltovf;
  if (unmasked & 0x12) return abi::kFpeFltund;
  if (unmasked & 0x20) return abi::kFpeFltres;
  return 0;
}

}  // namespace

bool Process::take_host_signals() {
  return user::take_host_signals([this](const abi::Siginfo& info) { signals_.queue(info); });
}

bool Process::signal_pending(uint64_t mask) {
  take_host_signals();
  return signals_.next_deliverable(mask) != 0;
}

void Process::wait_for_signal() {
  safe_syscall(SYS_pause);
}

void Process::discard_pending_signals() {
  user::take_host_signals([](const abi::Siginfo&) {});
  signals_.clear_pending();
}
void Process::deliver_signals(int64_t restart, uint64_t number) {
  soft::SoftCpu& cpu = *cpu_;
  // arch/x86/kernel/signal.c arch_do_signal_or_restart: a call interrupted by a signal is
  // restarted (RIP back on SYSCALL, RAX = its number) unless a handler runs and the call's
  // restart code says EINTR.
  const auto resolve_restart = [&](bool handler, uint64_t flags) {
    if (restart == 0) return;
    const bool again = !handler || restart == kErestartnointr ||
                       (restart == kErestartsys && (flags & abi::kSaRestart));
    if (again) {
      cpu.rip -= 2;  // SYSCALL is 0F 05
      cpu.gpr[static_cast<int>(Gpr::kRax)] = number;
    }
    restart = 0;
  };
  bool handled = false;
  while (const int signal = signals_.next_deliverable()) {
    const abi::Siginfo info = signals_.dequeue(signal);
    abi::KernelSigaction action = signals_.action(signal);
    if (action.handler == abi::kSigDfl) {
      if (default_action(signal) == DefaultAction::kStop) {
        stop_by_signal(signal);
        continue;
      }
      die_by_signal(signal);  // terminate or dump core, as a native process would
    }
    resolve_restart(true, action.flags);
    const uint64_t saved = signals_.saved_mask.value_or(signals_.blocked());
    signals_.saved_mask.reset();
    if (!push_signal_frame(*this, signal, info, action, saved)) {
      // Linux force_sigsegv: a frame that cannot be written kills with SIGSEGV.
      if (signal == abi::kSigsegv) die_by_signal(abi::kSigsegv);
      abi::Siginfo segv{};
      segv.signo = abi::kSigsegv;
      segv.code = abi::kSiKernel;
      signals_.force(segv);
      continue;
    }
    if (signal == trap_signal) trap_signal = 0;
    uint64_t blocked = signals_.blocked() | action.mask;
    if (!(action.flags & abi::kSaNodefer)) blocked |= abi::sigbit(signal);
    signals_.set_blocked(blocked);
    if (action.flags & abi::kSaResethand) {
      action.handler = abi::kSigDfl;
      signals_.set_action(signal, action);
      set_host_disposition(signal, abi::kSigDfl, 0);
    }
    handled = true;
  }
  resolve_restart(false, 0);
  if (!handled && signals_.saved_mask) {  // no handler ran: the temporary mask ends here
    signals_.set_blocked(*signals_.saved_mask);
    signals_.saved_mask.reset();
  }
}

void Process::handle_fault() {
  const x86::Fault fault = cpu_->fault;
  abi::Siginfo info{};
  info.fields.fault_address = cpu_->rip;
  TrapInfo t{static_cast<uint64_t>(fault.vector), fault.has_error_code ? fault.error_code : 0, 0};
  // Linux arch/x86/kernel/traps.c and mm/fault.c: which signal each exception becomes.
  switch (fault.vector) {
    case x86::Vector::kPageFault:
      info.signo = abi::kSigsegv;
      info.code =
          memory_->areas().find(fault.address) != nullptr ? abi::kSegvAccerr : abi::kSegvMaperr;
      info.fields.fault_address = fault.address;
      t.cr2 = fault.address;
      break;
    case x86::Vector::kInvalidOpcode:
      info.signo = abi::kSigill;
      info.code = abi::kIllIllopn;
      report_invalid_opcode();
      break;
    case x86::Vector::kDivideError:
      info.signo = abi::kSigfpe;
      info.code = abi::kFpeIntdiv;
      break;
    case x86::Vector::kX87FloatingPoint: {
      const x86::ArchState state = cpu_->state();
      info.signo = abi::kSigfpe;
      info.code = fpe_code(state.x87.status & ~state.x87.control & 0x3f);
      break;
    }
    case x86::Vector::kSimdFloatingPoint: {
      const uint32_t mxcsr = cpu_->state().mxcsr;
      info.signo = abi::kSigfpe;
      info.code = fpe_code(mxcsr & ~(mxcsr >> 7) & 0x3f);
      break;
    }
    case x86::Vector::kBreakpoint:
      info.signo = abi::kSigtrap;
      info.code = abi::kSiKernel;
      info.fields.fault_address = 0;
      break;
    case x86::Vector::kDebug:
      info.signo = abi::kSigtrap;
      info.code = abi::kTrapBrkpt;
      break;
    case x86::Vector::kAlignmentCheck:
      info.signo = abi::kSigbus;
      info.code = abi::kBusAdraln;
      break;
    case x86::Vector::kStackFault:
      info.signo = abi::kSigbus;
      info.code = abi::kSiKernel;
      info.fields.fault_address = 0;
      break;
    default:  // #GP and anything else: SIGSEGV from the kernel, no address
      info.signo = abi::kSigsegv;
      info.code = abi::kSiKernel;
      info.fields.fault_address = 0;
      break;
  }
  trap = t;
  trap_signal = info.signo;
  signals_.force(info);
}

}  // namespace cella::user
