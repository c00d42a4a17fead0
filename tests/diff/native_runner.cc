// Runs one instruction on the host processor: a generated stub loads the input state
// (FXRSTOR64, POPFQ, every GPR), jumps to the instruction, whose NOP sled ends in a jump to the
// epilogue that stores the state back. Exceptions arrive as signals, whose ucontext holds the
// state at the fault and the hardware's vector and error code (REG_TRAPNO, REG_ERR).
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <xbyak/xbyak.h>
#include <xmmintrin.h>

#include <cstdio>
#include <cstring>

#include "tests/diff/layout.h"
#include "tests/diff/runners.h"

namespace cella::diff {

namespace {

// GPR order of ucontext's gregs for RAX..R15 (sys/ucontext.h).
constexpr int kGregOf[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                             REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                             REG_R12, REG_R13, REG_R14, REG_R15};

sigjmp_buf g_jump;
volatile sig_atomic_t g_active = 0;
Outcome* g_fault_outcome = nullptr;

void on_fault(int signo, siginfo_t* info, void* context) {
  if (!g_active) {  // a crash of the harness itself: say where, then let it crash
    const auto* crash = static_cast<ucontext_t*>(context);
    char message[128];
    const int n = std::snprintf(
        message, sizeof(message), "diff harness: signal %d at rip %#llx, address %p\n", signo,
        static_cast<unsigned long long>(crash->uc_mcontext.gregs[REG_RIP]), info->si_addr);
    if (n > 0) (void)!::write(2, message, static_cast<size_t>(n));
    signal(signo, SIG_DFL);
    raise(signo);
    return;
  }
  auto* uc = static_cast<ucontext_t*>(context);
  Outcome& out = *g_fault_outcome;
  const greg_t* g = uc->uc_mcontext.gregs;
  for (int i = 0; i < 16; ++i) out.state.gpr[i] = static_cast<uint64_t>(g[kGregOf[i]]);
  out.state.rflags = static_cast<uint64_t>(g[REG_EFL]);
  out.rip = static_cast<uint64_t>(g[REG_RIP]);
  out.vector = static_cast<int>(g[REG_TRAPNO]);
  out.error_code = static_cast<uint32_t>(g[REG_ERR]);
  out.fault_address = reinterpret_cast<uint64_t>(info->si_addr);
  if (uc->uc_mcontext.fpregs != nullptr) {
    std::memcpy(out.state.fx.data(), uc->uc_mcontext.fpregs, x86::kFxsaveSize);
  }
  g_active = 0;
  siglongjmp(g_jump, 1);
}

void install_handlers() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  static std::vector<uint8_t> alt_stack(1 << 16);
  stack_t ss{};
  ss.ss_sp = alt_stack.data();
  ss.ss_size = alt_stack.size();
  sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  for (int signo : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP}) sigaction(signo, &sa, nullptr);
}

}  // namespace

struct NativeRunner::Stub : Xbyak::CodeGenerator {
  Xbyak::Label in_gpr, in_rflags, in_fx, out_gpr, out_rflags, out_fx, host_rsp, scratch_top,
      code_target, epilogue;

  explicit Stub(void* at) : Xbyak::CodeGenerator(kHarnessSize, at) {
    using namespace Xbyak;
    const Reg64 regs[16] = {rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi,
                            r8,  r9,  r10, r11, r12, r13, r14, r15};
    // entry: save the host's callee-saved registers and stack, load the guest state.
    push(rbx), push(rbp), push(r12), push(r13), push(r14), push(r15);
    mov(ptr[rip + host_rsp], rsp);
    fxrstor64(ptr[rip + in_fx]);
    lea(rsp, ptr[rip + scratch_top]);
    push(qword[rip + in_rflags]);
    popfq();
    for (int i = 0; i < 16; ++i) {
      if (i != 4) mov(regs[i], ptr[rip + in_gpr + 8 * i]);
    }
    mov(rsp, ptr[rip + in_gpr + 32]);
    jmp(ptr[rip + code_target]);
    // epilogue: store the guest state, restore the host.
    L(epilogue);
    for (int i = 0; i < 16; ++i) mov(ptr[rip + out_gpr + 8 * i], regs[i]);
    lea(rsp, ptr[rip + scratch_top]);
    pushfq();
    pop(qword[rip + out_rflags]);
    lea(rax, ptr[rip + out_fx]);  // FXSAVE64 [rax] (Xbyak 6 has no fxsave mnemonic)
    db(0x48), db(0x0F), db(0xAE), db(0x00);
    push(0x202);  // host flags: no AC, DF or TF left behind by the guest (SDM Vol. 1 3.4.3)
    popfq();
    mov(rsp, ptr[rip + host_rsp]);
    pop(r15), pop(r14), pop(r13), pop(r12), pop(rbp), pop(rbx);
    ret();

    align(16);
    L(in_fx);
    for (size_t i = 0; i < x86::kFxsaveSize; ++i) db(0);
    L(out_fx);
    for (size_t i = 0; i < x86::kFxsaveSize; ++i) db(0);
    L(in_gpr);
    for (int i = 0; i < 16; ++i) dq(0);
    L(out_gpr);
    for (int i = 0; i < 16; ++i) dq(0);
    L(in_rflags);
    dq(0);
    L(out_rflags);
    dq(0);
    L(host_rsp);
    dq(0);
    L(code_target);
    dq(kCodeAddress);
    for (int i = 0; i < 64; ++i) dq(0);  // a small stack for PUSHFQ/POPFQ
    L(scratch_top);
    dq(0);
    ready();
  }

  template <class T>
  T* slot(const Xbyak::Label& label) {
    return reinterpret_cast<T*>(const_cast<uint8_t*>(label.getAddress()));
  }
};

std::unique_ptr<NativeRunner> NativeRunner::create() {
  const uint64_t start = kRegionBase - kGuardBelow;
  const uint64_t length = kHarnessAddress + kHarnessSize + kGuardAbove - start;
  void* p = ::mmap(reinterpret_cast<void*>(start), length, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED || p != reinterpret_cast<void*>(start)) {
    std::fprintf(stderr, "diff: cannot reserve the fixed test layout at %#lx\n", start);
    return nullptr;
  }
  ::mprotect(reinterpret_cast<void*>(kCodeAddress), kDataAddress - kCodeAddress,
             PROT_READ | PROT_WRITE | PROT_EXEC);
  ::mprotect(reinterpret_cast<void*>(kDataAddress), kDataSize, PROT_READ | PROT_WRITE);
  ::mprotect(reinterpret_cast<void*>(kHarnessAddress), kHarnessSize,
             PROT_READ | PROT_WRITE | PROT_EXEC);
  std::unique_ptr<NativeRunner> runner(new NativeRunner);
  runner->stub_ = std::make_unique<Stub>(reinterpret_cast<void*>(kHarnessAddress));
  install_handlers();
  return runner;
}

NativeRunner::~NativeRunner() {
  const uint64_t start = kRegionBase - kGuardBelow;
  ::munmap(reinterpret_cast<void*>(start), kHarnessAddress + kHarnessSize + kGuardAbove - start);
}

Outcome NativeRunner::run(const std::vector<uint8_t>& instruction, const MachineState& in,
                          const std::vector<uint8_t>& data) {
  // Code: the instruction, the NOP sled, then jmp [rip+0] to the epilogue.
  auto* code = reinterpret_cast<uint8_t*>(kCodeAddress);
  std::memcpy(code, instruction.data(), instruction.size());
  std::memset(code + instruction.size(), 0x90, kSledLength);
  uint8_t* jump = code + instruction.size() + kSledLength;
  const uint8_t jmp_rip[] = {0xFF, 0x25, 0, 0, 0, 0};
  std::memcpy(jump, jmp_rip, sizeof(jmp_rip));
  const uint64_t epilogue = reinterpret_cast<uint64_t>(stub_->epilogue.getAddress());
  std::memcpy(jump + sizeof(jmp_rip), &epilogue, 8);
  __builtin___clear_cache(reinterpret_cast<char*>(code), reinterpret_cast<char*>(jump + 14));

  std::memcpy(reinterpret_cast<void*>(kDataAddress), data.data(), data.size());
  std::memcpy(stub_->slot<uint64_t>(stub_->in_gpr), in.gpr.data(), 16 * 8);
  *stub_->slot<uint64_t>(stub_->in_rflags) = in.rflags;
  std::memcpy(stub_->slot<uint8_t>(stub_->in_fx), in.fx.data(), x86::kFxsaveSize);

  Outcome out;
  const unsigned host_mxcsr = _mm_getcsr();
  uint16_t host_fcw;
  asm volatile("fnstcw %0" : "=m"(host_fcw));
  g_fault_outcome = &out;
  if (sigsetjmp(g_jump, 1) == 0) {
    g_active = 1;
    reinterpret_cast<void (*)()>(const_cast<uint8_t*>(stub_->getCode()))();
    g_active = 0;
    std::memcpy(out.state.gpr.data(), stub_->slot<uint64_t>(stub_->out_gpr), 16 * 8);
    out.state.rflags = *stub_->slot<uint64_t>(stub_->out_rflags);
    std::memcpy(out.state.fx.data(), stub_->slot<uint8_t>(stub_->out_fx), x86::kFxsaveSize);
  }
  // After a fault the flags are the signal handler's; clear AC in case the guest set it.
  asm volatile("sub $128, %%rsp; pushfq; andq $~0x40500, (%%rsp); popfq; add $128, %%rsp" ::
                   : "cc", "memory");
  asm volatile("fninit; fldcw %0" ::"m"(host_fcw));
  _mm_setcsr(host_mxcsr);
  out.data.assign(reinterpret_cast<const uint8_t*>(kDataAddress),
                  reinterpret_cast<const uint8_t*>(kDataAddress) + kDataSize);
  return out;
}

}  // namespace cella::diff
