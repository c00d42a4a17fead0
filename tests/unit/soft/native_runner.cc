#include "tests/unit/soft/native_runner.h"

#include <sys/mman.h>

#include <ucontext.h>
#include <csetjmp>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <stdexcept>

namespace cella::testing {

static_assert(offsetof(NativeState, host) == 512);
static_assert(offsetof(NativeState, gpr) == 1024);
static_assert(offsetof(NativeState, rflags) == 1152);
static_assert(offsetof(NativeState, code) == 1160);

// cella_native_run(NativeState* state): saves the caller's FPU state, loads `state`, calls the
// instruction page, stores the state back and restores the caller's FPU state.
asm(R"(
  .text
  .globl cella_native_run
  .type cella_native_run, @function
cella_native_run:
  push %rbx
  push %rbp
  push %r12
  push %r13
  push %r14
  push %r15
  mov %rdi, %r15
  fxsave64 512(%r15)
  fxrstor64 (%r15)
  mov 1024(%r15), %rax
  mov 1032(%r15), %rcx
  mov 1040(%r15), %rdx
  mov 1048(%r15), %rbx
  mov 1064(%r15), %rbp
  mov 1072(%r15), %rsi
  mov 1080(%r15), %rdi
  mov 1088(%r15), %r8
  mov 1096(%r15), %r9
  mov 1104(%r15), %r10
  mov 1112(%r15), %r11
  mov 1120(%r15), %r12
  mov 1128(%r15), %r13
  mov 1136(%r15), %r14
  pushq 1152(%r15)
  popfq
  call *1160(%r15)
  pushfq
  popq 1152(%r15)
  mov %rax, 1024(%r15)
  mov %rcx, 1032(%r15)
  mov %rdx, 1040(%r15)
  mov %rbx, 1048(%r15)
  mov %rbp, 1064(%r15)
  mov %rsi, 1072(%r15)
  mov %rdi, 1080(%r15)
  mov %r8, 1088(%r15)
  mov %r9, 1096(%r15)
  mov %r10, 1104(%r15)
  mov %r11, 1112(%r15)
  mov %r12, 1120(%r15)
  mov %r13, 1128(%r15)
  mov %r14, 1136(%r15)
  fxsave64 (%r15)
  fxrstor64 512(%r15)
  pop %r15
  pop %r14
  pop %r13
  pop %r12
  pop %rbp
  pop %rbx
  ret
  .size cella_native_run, .-cella_native_run
)");

extern "C" void cella_native_run(NativeState* state);

namespace {

sigjmp_buf g_jump;
NativeState* g_state = nullptr;
int g_vector = 0;

void on_fault(int, siginfo_t*, void* context) {
  auto* uc = static_cast<ucontext_t*>(context);
  const greg_t* g = uc->uc_mcontext.gregs;
  g_vector = static_cast<int>(g[REG_TRAPNO]);
  if (uc->uc_mcontext.fpregs != nullptr) {
    std::memcpy(g_state->fxsave, uc->uc_mcontext.fpregs, sizeof(g_state->fxsave));
  }
  static constexpr int kOrder[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                     REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                     REG_R12, REG_R13, REG_R14, REG_R15};
  for (int i = 0; i < 16; ++i) {
    if (i != 4 && i != 15) g_state->gpr[i] = static_cast<uint64_t>(g[kOrder[i]]);
  }
  g_state->rflags = static_cast<uint64_t>(g[REG_EFL]);
  siglongjmp(g_jump, 1);
}

constexpr int kSignals[] = {SIGFPE, SIGSEGV, SIGILL, SIGBUS};

}  // namespace

NativeRunner::NativeRunner() {
  void* p =
      ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::runtime_error("mmap of an executable page failed");
  page_ = static_cast<uint8_t*>(p);
}

NativeRunner::~NativeRunner() {
  ::munmap(page_, 4096);
}

NativeResult NativeRunner::run(std::span<const uint8_t> bytes, NativeState& state) {
  std::memcpy(page_, bytes.data(), bytes.size());
  page_[bytes.size()] = 0xc3;  // RET
  state.code = reinterpret_cast<uint64_t>(page_);

  struct sigaction action = {}, saved[4];
  action.sa_sigaction = &on_fault;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  for (size_t i = 0; i < 4; ++i) sigaction(kSignals[i], &action, &saved[i]);
  g_state = &state;
  NativeResult result;
  if (sigsetjmp(g_jump, 1) == 0) {
    cella_native_run(&state);
  } else {
    // The handler ran with a fresh FPU state; put the runner's own back.
    asm volatile("fxrstor64 %0" : : "m"(*reinterpret_cast<const uint8_t(*)[512]>(state.host)));
    result.faulted = true;
    result.vector = g_vector;
  }
  g_state = nullptr;
  for (size_t i = 0; i < 4; ++i) sigaction(kSignals[i], &saved[i], nullptr);
  return result;
}

}  // namespace cella::testing
