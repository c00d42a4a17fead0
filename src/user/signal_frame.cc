#include "user/signal_frame.h"

#include <cstddef>

#include "cpu/x86/fxsave.h"

namespace cella::user {

namespace {

using x86::Gpr;
namespace rf = x86::rflags;

constexpr uint64_t kRedZone = 128;  // psABI 3.2.2
// arch/x86/kernel/signal_64.c: the RFLAGS bits a sigreturn may change (FIX_EFLAGS).
constexpr uint64_t kRestorableFlags = rf::kAc | rf::kOf | rf::kDf | rf::kTf | rf::kSf | rf::kZf |
                                      rf::kAf | rf::kPf | rf::kCf | rf::kRf;

// The FPU state a handler starts with (Linux fpu__clear_user_states: the init state).
void reset_fpu(x86::ArchState& state) {
  state.x87 = x86::X87State{};
  state.xmm = {};
  state.mxcsr = x86::ArchState{}.mxcsr;
}

}  // namespace

abi::Sigcontext capture_sigcontext(const soft::SoftCpu& cpu, const TrapInfo& trap, uint64_t mask) {
  const auto r = [&](Gpr g) { return cpu.gpr[static_cast<int>(g)]; };
  abi::Sigcontext sc{};
  sc.r8 = r(Gpr::kR8), sc.r9 = r(Gpr::kR9), sc.r10 = r(Gpr::kR10), sc.r11 = r(Gpr::kR11);
  sc.r12 = r(Gpr::kR12), sc.r13 = r(Gpr::kR13), sc.r14 = r(Gpr::kR14), sc.r15 = r(Gpr::kR15);
  sc.rdi = r(Gpr::kRdi), sc.rsi = r(Gpr::kRsi), sc.rbp = r(Gpr::kRbp), sc.rbx = r(Gpr::kRbx);
  sc.rdx = r(Gpr::kRdx), sc.rax = r(Gpr::kRax), sc.rcx = r(Gpr::kRcx), sc.rsp = r(Gpr::kRsp);
  sc.rip = cpu.rip;
  sc.eflags = cpu.flags.rflags();
  sc.cs = abi::kUserCs;
  sc.ss = abi::kUserDs;
  sc.err = trap.error_code;
  sc.trapno = trap.trapno;
  sc.oldmask = mask;
  sc.cr2 = trap.cr2;
  return sc;
}

bool push_signal_frame(Process& process, int signal, const abi::Siginfo& info,
                       const abi::KernelSigaction& action, uint64_t saved_mask) {
  soft::SoftCpu& cpu = process.cpu();
  SignalState& signals = process.signals();
  // arch/x86/kernel/signal_64.c: a 64-bit frame returns through sa_restorer; without one the
  // frame cannot be set up.
  if (!(action.flags & abi::kSaRestorer)) return false;

  const uint64_t rsp = cpu.gpr[static_cast<int>(Gpr::kRsp)];
  abi::StackT reported = signals.altstack_report(rsp);
  uint64_t sp = rsp - kRedZone;
  if ((action.flags & abi::kSaOnstack) && signals.altstack_enabled() && !signals.on_altstack(rsp)) {
    sp = signals.altstack.sp + signals.altstack.size;
    if (signals.altstack.flags & static_cast<int32_t>(abi::kSsAutodisarm)) {
      signals.altstack = abi::StackT{0, abi::kSsDisable, 0, 0};
    }
  }
  const uint64_t fpstate = (sp - x86::kFxsaveSize) & ~uint64_t{63};
  const uint64_t frame = ((fpstate - sizeof(abi::RtSigframe)) & ~uint64_t{15}) - 8;

  const TrapInfo trap = signal == process.trap_signal ? process.trap : TrapInfo{};
  abi::RtSigframe f{};
  f.pretcode = action.restorer;
  f.uc.flags = abi::kUcSigcontextSs | abi::kUcStrictRestoreSs;
  f.uc.stack = reported;
  f.uc.mcontext = capture_sigcontext(cpu, trap, saved_mask);
  f.uc.mcontext.fpstate = fpstate;
  f.uc.sigmask = saved_mask;
  f.info = info;
  x86::ArchState state = cpu.state();
  const auto image = x86::fxsave_image(state, x86::FxsaveFormat::k64);
  if (!process.memory().copy_out(fpstate, image.data(), image.size()) ||
      !process.memory().copy_out(frame, &f, sizeof f)) {
    return false;
  }
  // Handler entry: RDI = signal, RSI = &info, RDX = &uc, RAX = 0 (arch/x86/kernel/signal_64.c);
  // DF, TF and RF are cleared.
  state.reg(Gpr::kRdi) = static_cast<uint64_t>(signal);
  state.reg(Gpr::kRsi) = frame + offsetof(abi::RtSigframe, info);
  state.reg(Gpr::kRdx) = frame + offsetof(abi::RtSigframe, uc);
  state.reg(Gpr::kRax) = 0;
  state.reg(Gpr::kRsp) = frame;
  state.rip = action.handler;
  state.rflags &= ~(rf::kDf | rf::kTf | rf::kRf);
  reset_fpu(state);
  cpu.set_state(state);
  return true;
}

bool pop_signal_frame(Process& process) {
  soft::SoftCpu& cpu = process.cpu();
  const uint64_t frame = cpu.gpr[static_cast<int>(Gpr::kRsp)] - 8;
  abi::RtSigframe f;
  if (!process.memory().copy_in(&f, frame, sizeof f)) return false;
  const abi::Sigcontext& sc = f.uc.mcontext;
  x86::ArchState state = cpu.state();
  const auto set = [&](Gpr g, uint64_t v) { state.reg(g) = v; };
  set(Gpr::kR8, sc.r8), set(Gpr::kR9, sc.r9), set(Gpr::kR10, sc.r10), set(Gpr::kR11, sc.r11);
  set(Gpr::kR12, sc.r12), set(Gpr::kR13, sc.r13), set(Gpr::kR14, sc.r14), set(Gpr::kR15, sc.r15);
  set(Gpr::kRdi, sc.rdi), set(Gpr::kRsi, sc.rsi), set(Gpr::kRbp, sc.rbp), set(Gpr::kRbx, sc.rbx);
  set(Gpr::kRdx, sc.rdx), set(Gpr::kRax, sc.rax), set(Gpr::kRcx, sc.rcx), set(Gpr::kRsp, sc.rsp);
  state.rip = sc.rip;
  state.rflags = (state.rflags & ~kRestorableFlags) | (sc.eflags & kRestorableFlags);
  if (sc.fpstate != 0) {
    std::array<uint8_t, x86::kFxsaveSize> image;
    if (!process.memory().copy_in(image.data(), sc.fpstate, image.size()) ||
        !x86::load_fxsave_image(state, image, x86::FxsaveFormat::k64)) {
      return false;
    }
  } else {
    reset_fpu(state);
  }
  process.signals().set_blocked(f.uc.sigmask);
  process.signals().set_altstack(f.uc.stack, sc.rsp);  // errors ignored, as in restore_altstack
  cpu.set_state(state);
  return true;
}

}  // namespace cella::user
