// CPU exceptions reach user programs as the signals Linux maps them to: #PF -> SIGSEGV (with
// the faulting address), #DE -> SIGFPE, #UD -> SIGILL, #BP -> SIGTRAP, #GP -> SIGSEGV,
// #AC is not enabled; plus an alternate signal stack.
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>

#include "guest_test.h"

static sigjmp_buf recover;
static volatile int last_signal;
static volatile uintptr_t last_address;

static void handler(int signal, siginfo_t* info, void* context) {
  (void)context;
  last_signal = signal;
  last_address = (uintptr_t)info->si_addr;
  siglongjmp(recover, 1);
}

#define EXPECT_SIGNAL(expected, statement)                                        \
  do {                                                                            \
    last_signal = 0;                                                              \
    if (sigsetjmp(recover, 1) == 0) {                                             \
      statement;                                                                  \
    }                                                                             \
    CHECK(last_signal == (expected), "%s raised signal %d, expected %d", #statement, \
          last_signal, expected);                                                 \
  } while (0)

int main(void) {
  static char alternate_stack[65536];
  stack_t ss = {.ss_sp = alternate_stack, .ss_size = sizeof(alternate_stack)};
  sigaltstack(&ss, NULL);
  struct sigaction sa = {0};
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  for (int s = 1; s < 32; ++s) sigaction(s, &sa, NULL);

  EXPECT_SIGNAL(SIGSEGV, *(volatile int*)0x1234 = 1);
  CHECK(last_address == 0x1234, "SIGSEGV si_addr %#lx", (unsigned long)last_address);
  volatile int zero = 0;
  EXPECT_SIGNAL(SIGFPE, zero = 10 / zero);
  EXPECT_SIGNAL(SIGILL, __asm__ volatile("ud2"));
  EXPECT_SIGNAL(SIGTRAP, __asm__ volatile("int3"));
  // A privileged instruction in user mode is #GP(0) -> SIGSEGV.
  EXPECT_SIGNAL(SIGSEGV, __asm__ volatile("hlt"));
  // A non-canonical address is #GP -> SIGSEGV.
  EXPECT_SIGNAL(SIGSEGV, *(volatile int*)0x8000000000000000ull = 1);
  // Writing to read-only (text) memory.
  EXPECT_SIGNAL(SIGSEGV, *(volatile char*)(uintptr_t)&main = 0);
  printf("exceptions: all signals delivered\n");
  return guest_result();
}
