// POSIX signals in a C program: handlers with siginfo, masks, pending signals, sigsuspend,
// real-time signals queued in order with their values, alarm and pause, SIGCHLD from a child,
// an alternate stack for stack overflow, SA_RESETHAND, and raise with the default action.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t usr1_count, alarm_seen, child_seen;
static volatile int rt_log[8], rt_count;
static char* alt_stack;

static void on_usr1(int signal) {
  (void)signal;
  usr1_count++;
}
static void on_rt(int signal, siginfo_t* info, void* context) {
  (void)context;
  if (rt_count < 8) rt_log[rt_count++] = (signal - SIGRTMIN) * 1000 + info->si_value.sival_int;
}
static void on_alarm(int signal) {
  (void)signal;
  alarm_seen = 1;
}
static void on_child(int signal, siginfo_t* info, void* context) {
  (void)signal;
  (void)context;
  child_seen = info->si_code == CLD_EXITED ? info->si_status : -1;
}
static void on_overflow(int signal) {
  char here;
  int on_alt = &here >= alt_stack && &here < alt_stack + 65536;
  printf("SIGSEGV from stack overflow handled on the alternate stack: %d\n", on_alt);
  fflush(stdout);
  _exit(signal == SIGSEGV ? 0 : 1);
}
static int overflow(int n) {
  volatile char pad[1024];
  pad[0] = (char)n;
  return overflow(n + 1) + pad[0];
}

static void install(int signal, void (*handler)(int), int flags) {
  struct sigaction a;
  memset(&a, 0, sizeof a);
  a.sa_handler = handler;
  a.sa_flags = flags;
  sigaction(signal, &a, NULL);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  install(SIGUSR1, on_usr1, 0);
  raise(SIGUSR1);
  kill(getpid(), SIGUSR1);
  printf("SIGUSR1 handled %d times\n", usr1_count);

  sigset_t block, old, pending;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigprocmask(SIG_BLOCK, &block, &old);
  raise(SIGUSR1);
  raise(SIGUSR1);
  sigpending(&pending);
  printf("blocked: pending %d, handled %d\n", sigismember(&pending, SIGUSR1), usr1_count);
  sigsuspend(&old);  // unblocks, runs the handler once (standard signals do not queue)
  printf("after sigsuspend: handled %d\n", usr1_count);
  sigprocmask(SIG_SETMASK, &old, NULL);

  struct sigaction rt;
  memset(&rt, 0, sizeof rt);
  rt.sa_sigaction = on_rt;
  rt.sa_flags = SA_SIGINFO;
  sigaction(SIGRTMIN, &rt, NULL);
  sigaction(SIGRTMIN + 1, &rt, NULL);
  sigemptyset(&block);
  sigaddset(&block, SIGRTMIN);
  sigaddset(&block, SIGRTMIN + 1);
  sigprocmask(SIG_BLOCK, &block, NULL);
  for (int i = 0; i < 3; ++i) {
    sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 10 + i});
    sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 20 + i});
  }
  sigprocmask(SIG_UNBLOCK, &block, NULL);
  printf("real-time signals in delivery order:");
  for (int i = 0; i < rt_count; ++i) printf(" %d", rt_log[i]);
  printf("\n");

  install(SIGALRM, on_alarm, 0);
  ualarm(20000, 0);  // SIGALRM in 20 ms
  while (!alarm_seen) pause();
  printf("alarm delivered during pause\n");

  struct sigaction child;
  memset(&child, 0, sizeof child);
  child.sa_sigaction = on_child;
  child.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGCHLD, &child, NULL);
  pid_t pid = fork();
  if (pid == 0) _exit(37);
  int status;
  while (waitpid(pid, &status, 0) < 0) continue;
  while (!child_seen) pause();
  printf("SIGCHLD reported exit %d, waitpid status %d\n", child_seen, WEXITSTATUS(status));

  install(SIGUSR2, on_usr1, SA_RESETHAND);
  raise(SIGUSR2);
  struct sigaction now;
  sigaction(SIGUSR2, NULL, &now);
  printf("SA_RESETHAND restored the default: %d\n", now.sa_handler == SIG_DFL);

  pid = fork();
  if (pid == 0) {
    alt_stack = malloc(65536);
    stack_t ss = {.ss_sp = alt_stack, .ss_size = 65536, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    install(SIGSEGV, on_overflow, SA_ONSTACK);
    return overflow(0);
  }
  waitpid(pid, &status, 0);
  printf("overflowing child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);

  pid = fork();
  if (pid == 0) {
    raise(SIGTERM);
    _exit(0);
  }
  waitpid(pid, &status, 0);
  printf("child killed by signal %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  signal(SIGPIPE, SIG_DFL);
  int fds[2];
  pipe(fds);
  close(fds[0]);
  printf("writing to a closed pipe\n");
  write(fds[1], "x", 1);  // SIGPIPE terminates the program
  printf("not reached\n");
  return 0;
}
