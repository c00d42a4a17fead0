// Files and directories through the system-call layer: creation, I/O at offsets, vectored
// I/O, metadata, directory listing, renames and links, file-backed shared mappings, locks,
// and poll/select on pipes. Everything happens in the current (empty) directory.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static int compare_names(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

int main(void) {
  int fd = open("data.bin", O_CREAT | O_RDWR | O_TRUNC, 0640);
  char block[4096];
  for (int i = 0; i < 4096; ++i) block[i] = (char)(i * 13);
  for (int i = 0; i < 8; ++i) write(fd, block, sizeof block);
  char small[16];
  pwrite(fd, "offset-write", 12, 10000);
  pread(fd, small, 12, 10000);
  printf("pread: %.12s, size %ld\n", small, (long)lseek(fd, 0, SEEK_END));
  struct iovec parts[3] = {{"vec", 3}, {"tored ", 6}, {"write\n", 6}};
  lseek(fd, 0, SEEK_SET);
  printf("writev wrote %zd bytes\n", writev(fd, parts, 3));
  char a[4], b[8];
  struct iovec in[2] = {{a, 4}, {b, 8}};
  lseek(fd, 0, SEEK_SET);
  printf("readv read %zd: %.4s|%.8s\n", readv(fd, in, 2), a, b);
  struct stat st;
  fstat(fd, &st);
  printf("fstat: size %lld mode %o regular %d links %ld\n", (long long)st.st_size,
         st.st_mode & 0777, S_ISREG(st.st_mode), (long)st.st_nlink);

  char* map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
  memcpy(map + 100, "through the mapping", 19);
  msync(map, 8192, MS_SYNC);
  munmap(map, 8192);
  pread(fd, small, 16, 4196);
  printf("shared mapping wrote: %.16s\n", small);
  ftruncate(fd, 5000);
  fstat(fd, &st);
  printf("after ftruncate: %lld\n", (long long)st.st_size);

  struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100};
  printf("fcntl lock: %d\n", fcntl(fd, F_SETLK, &lock));
  printf("dup'd descriptor reads the same file: %d\n",
         fcntl(dup(fd), F_GETFL) == fcntl(fd, F_GETFL));
  close(fd);

  mkdir("dir", 0755);
  mkdir("dir/sub", 0700);
  for (int i = 0; i < 5; ++i) {
    char name[32];
    snprintf(name, sizeof name, "dir/file%d", i);
    close(open(name, O_CREAT | O_WRONLY, 0600));
  }
  rename("dir/file4", "dir/renamed");
  link("dir/file0", "dir/hardlink");
  symlink("file1", "dir/symlink");
  unlink("dir/file3");
  char target[64] = {0};
  const ssize_t target_length = readlink("dir/symlink", target, sizeof target);
  printf("readlink: %s (%zd)\n", target, target_length);
  DIR* dir = opendir("dir");
  char* names[16];
  int count = 0;
  struct dirent* entry;
  while ((entry = readdir(dir)) != NULL && count < 16) names[count++] = strdup(entry->d_name);
  closedir(dir);
  qsort(names, (size_t)count, sizeof names[0], compare_names);
  printf("directory:");
  for (int i = 0; i < count; ++i) printf(" %s", names[i]);
  printf("\n");
  struct stat link_st;
  lstat("dir/symlink", &link_st);
  stat("dir/hardlink", &st);
  printf("symlink %d, hard links %ld\n", S_ISLNK(link_st.st_mode), (long)st.st_nlink);
  printf("rmdir of a non-empty directory: %s\n", rmdir("dir") == 0 ? "removed" : strerror(errno));
  printf("open of a missing file: %s\n", open("missing", O_RDONLY) < 0 ? strerror(errno) : "?");
  chdir("dir/sub");
  char cwd[4096];
  printf("cwd ends with dir/sub: %d\n",
         strcmp(getcwd(cwd, sizeof cwd) + strlen(cwd) - 7, "dir/sub") == 0);
  chdir("../..");

  int p[2];
  pipe(p);
  struct pollfd pfd = {.fd = p[0], .events = POLLIN};
  printf("poll on an empty pipe: %d\n", poll(&pfd, 1, 10));
  write(p[1], "x", 1);
  const int ready = poll(&pfd, 1, 1000);
  printf("poll after a write: %d revents %d\n", ready, pfd.revents);
  fd_set readable;
  FD_ZERO(&readable);
  FD_SET(p[0], &readable);
  struct timeval tv = {1, 0};
  const int selected = select(p[0] + 1, &readable, NULL, NULL, &tv);
  printf("select: %d, set %d\n", selected, FD_ISSET(p[0], &readable));
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  struct timespec nap = {0, 20000000};
  nanosleep(&nap, NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long elapsed = (t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec);
  printf("nanosleep of 20 ms took at least that: %d\n", elapsed >= 20000000);
  return 0;
}
