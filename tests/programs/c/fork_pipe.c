// Processes: fork trees with pipes, dup2 redirection into exec'd programs (the process VM
// re-executes itself on the new program), wait statuses, popen (posix_spawn of /bin/sh),
// and a child that inherits the signal mask.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void must(int ok, const char* what) {
  if (!ok) {
    perror(what);
    exit(2);
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  // A chain of children, each adding to a number passed down a pipe.
  int total = 0;
  for (int generation = 1; generation <= 4; ++generation) {
    int fds[2];
    must(pipe(fds) == 0, "pipe");
    pid_t pid = fork();
    must(pid >= 0, "fork");
    if (pid == 0) {
      close(fds[0]);
      int value = generation * generation;
      write(fds[1], &value, sizeof value);
      _exit(generation);
    }
    close(fds[1]);
    int value = 0;
    must(read(fds[0], &value, sizeof value) == sizeof value, "read");
    close(fds[0]);
    int status;
    must(waitpid(pid, &status, 0) == pid, "waitpid");
    total += value;
    printf("generation %d sent %d and exited %d\n", generation, value, WEXITSTATUS(status));
  }
  printf("total %d\n", total);

  // A child whose stdin and stdout are pipes, exec'ing busybox sort.
  int to_child[2], from_child[2];
  must(pipe(to_child) == 0 && pipe(from_child) == 0, "pipe");
  pid_t sorter = fork();
  if (sorter == 0) {
    dup2(to_child[0], 0);
    dup2(from_child[1], 1);
    close(to_child[1]);
    close(from_child[0]);
    execl("/bin/busybox", "sort", "-r", (char*)NULL);
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  const char input[] = "pear\napple\nfig\nbanana\n";
  write(to_child[1], input, strlen(input));
  close(to_child[1]);
  char output[256] = {0};
  ssize_t got = 0, n;
  while ((n = read(from_child[0], output + got, sizeof output - 1 - (size_t)got)) > 0) got += n;
  int status;
  waitpid(sorter, &status, 0);
  printf("sorted by a child busybox (exit %d):\n%s", WEXITSTATUS(status), output);

  // A blocked signal stays blocked in the child, and exec keeps the mask.
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigprocmask(SIG_BLOCK, &block, NULL);
  pid_t pid = fork();
  if (pid == 0) {
    raise(SIGUSR1);  // blocked: nothing happens
    sigset_t pending;
    sigpending(&pending);
    _exit(sigismember(&pending, SIGUSR1) ? 5 : 6);
  }
  waitpid(pid, &status, 0);
  printf("child saw SIGUSR1 pending: %s\n", WEXITSTATUS(status) == 5 ? "yes" : "no");
  sigprocmask(SIG_UNBLOCK, &block, NULL);

  FILE* shell = popen("echo through popen; exit 3", "r");
  must(shell != NULL, "popen");
  char line[128];
  while (fgets(line, sizeof line, shell) != NULL) printf("popen read: %s", line);
  printf("pclose status %d\n", WEXITSTATUS(pclose(shell)));

  pid = fork();
  if (pid == 0) {
    execl("/nonexistent", "x", (char*)NULL);
    perror("execl");
    _exit(9);
  }
  waitpid(pid, &status, 0);
  printf("failed exec child exited %d\n", WEXITSTATUS(status));
  return 0;
}
