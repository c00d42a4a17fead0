// Non-local jumps: setjmp/longjmp through nested calls, and sigsetjmp/siglongjmp out of
// signal handlers for hardware faults (integer division by zero, a bad pointer), with the
// signal mask restored.
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static jmp_buf env;
static sigjmp_buf signal_env;
static volatile int depth_reached;
static volatile uintptr_t bad_address = 16;  // an unmapped address the compiler cannot see

static void recurse(int depth) {
  char frame[64];
  memset(frame, depth, sizeof frame);
  depth_reached = depth;
  if (depth < 50) recurse(depth + 1);
  longjmp(env, depth + frame[10]);
}

static void on_fault(int signal, siginfo_t* info, void* context) {
  (void)context;
  siglongjmp(signal_env, signal * 100 + info->si_code);
}

int main(void) {
  int value = setjmp(env);
  if (value == 0) {
    recurse(1);
    printf("not reached\n");
  }
  printf("longjmp returned %d from depth %d\n", value, depth_reached);

  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = on_fault;
  action.sa_flags = SA_SIGINFO;
  sigaction(SIGFPE, &action, NULL);
  sigaction(SIGSEGV, &action, NULL);

  volatile int divisor = 0;
  int caught = sigsetjmp(signal_env, 1);
  if (caught == 0) {
    printf("quotient %d\n", 10 / divisor);
  } else {
    printf("SIGFPE caught: signal*100+code = %d\n", caught);
  }
  caught = sigsetjmp(signal_env, 1);
  if (caught == 0) {
    volatile int* bad = (volatile int*)bad_address;
    printf("value %d\n", *bad);
  } else {
    printf("SIGSEGV caught: signal*100+code = %d\n", caught);
  }
  sigset_t mask;
  sigprocmask(SIG_BLOCK, NULL, &mask);
  printf("SIGSEGV blocked after siglongjmp: %d\n", sigismember(&mask, SIGSEGV));
  caught = sigsetjmp(signal_env, 0);  // again, the handler must still be installed
  if (caught == 0) {
    volatile int* bad = (volatile int*)(bad_address + 8);
    *bad = 1;
  }
  printf("second SIGSEGV caught: %d\n", caught);
  return 0;
}
