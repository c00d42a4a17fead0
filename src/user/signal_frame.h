// Linux x86-64 signal frames (arch/x86/kernel/signal.c and signal_64.c): what the guest's
// handler finds on its stack, and what rt_sigreturn restores.
//
// Below the interrupted stack pointer (minus the 128-byte red zone of psABI 3.2.2, or at the
// top of the alternate stack with SA_ONSTACK) come the FXSAVE image of the x87/SSE state,
// 64-byte aligned, then the rt_sigframe (return address = sa_restorer, ucontext, siginfo),
// placed so that the handler starts with RSP + 8 16-byte aligned, as after a CALL.
#pragma once

#include <cstdint>

#include "user/linux_abi.h"
#include "user/process.h"

namespace cella::user {

// Sets up the handler frame for `signal` and points the CPU at the handler. `saved_mask` is
// the mask rt_sigreturn restores. Returns false when the frame cannot be written (the caller
// then forces SIGSEGV, as Linux does).
bool push_signal_frame(Process& process, int signal, const abi::Siginfo& info,
                       const abi::KernelSigaction& action, uint64_t saved_mask);

// rt_sigreturn: restores registers, FPU state, signal mask and alternate stack from the frame
// at RSP - 8. Returns false when the frame is unreadable or invalid (SIGSEGV).
bool pop_signal_frame(Process& process);

// The interrupted context in sigcontext form (also used for tracing).
abi::Sigcontext capture_sigcontext(const soft::SoftCpu& cpu, const TrapInfo& trap, uint64_t mask);

}  // namespace cella::user
