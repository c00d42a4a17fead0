// Processes, pipes and timers: fork and wait, a pipe between two processes, exec, an interval
// timer delivering SIGALRM, and poll's timeout.
#include <poll.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest_test.h"

static volatile int alarms;
static void on_alarm(int signal) {
  (void)signal;
  alarms++;
}

int main(void) {
  // A child sums numbers the parent sends through a pipe and returns the sum as its status.
  int to_child[2];
  CHECK(pipe(to_child) == 0, "pipe");
  const pid_t child = fork();
  if (child == 0) {
    close(to_child[1]);
    int value, sum = 0;
    while (read(to_child[0], &value, sizeof(value)) == (ssize_t)sizeof(value)) sum += value;
    _exit(sum & 0xff);
  }
  close(to_child[0]);
  for (int i = 1; i <= 10; ++i) CHECK(write(to_child[1], &i, sizeof(i)) == sizeof(i), "write");
  close(to_child[1]);
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child, "waitpid");
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 55, "child status %#x", status);

  // exec: busybox true and false.
  const pid_t exec_child = fork();
  if (exec_child == 0) {
    execl("/bin/busybox", "false", (char*)NULL);
    _exit(100);
  }
  CHECK(waitpid(exec_child, &status, 0) == exec_child && WEXITSTATUS(status) == 1,
        "exec of false: status %#x", status);

  // An interval timer: 5 alarms 20 ms apart.
  signal(SIGALRM, on_alarm);
  struct itimerval timer = {{0, 20000}, {0, 20000}};
  setitimer(ITIMER_REAL, &timer, NULL);
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  do {
    pause();
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while (alarms < 5 && now.tv_sec - start.tv_sec < 5);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  CHECK(alarms >= 5, "%d alarms in 5 s", alarms);

  // poll times out after about 100 ms when nothing happens.
  int idle[2];
  CHECK(pipe(idle) == 0, "pipe");
  struct pollfd pfd = {idle[0], POLLIN, 0};
  clock_gettime(CLOCK_MONOTONIC, &start);
  CHECK(poll(&pfd, 1, 100) == 0, "poll returned early");
  clock_gettime(CLOCK_MONOTONIC, &now);
  const double waited = (now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
  CHECK(waited >= 0.1 && waited < 1.0, "poll waited %.3f s", waited);
  printf("processes: fork, pipes, exec, timers and poll work\n");
  return guest_result();
}
