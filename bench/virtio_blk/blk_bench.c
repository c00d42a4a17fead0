// Guest side of bench/virtio_blk/run.sh: measures a virtio disk from inside the guest with
// O_DIRECT (no guest page cache) at queue depth 1: sequential write and read in 1 MiB blocks,
// random 4 KiB write and read (offsets from a fixed xorshift sequence, the same on every run),
// each for SECONDS of guest time over the whole device. Prints one line per pattern:
//   blk-bench: PATTERN BLOCK_BYTES OPS SECONDS MIB_PER_S IOPS
// Usage (in the guest): blk_bench DEVICE [SECONDS]     (default 5 s per pattern)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  const char* name;
  size_t block;
  int random;
  int write;
} pattern;

// Writes come first, so the reads read what they wrote.
static const pattern patterns[] = {
    {"seq-write", 1 << 20, 0, 1},
    {"seq-read", 1 << 20, 0, 0},
    {"rand-write", 4096, 1, 1},
    {"rand-read", 4096, 1, 0},
};

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t next_random(uint64_t* state) {
  *state ^= *state << 13;
  *state ^= *state >> 7;
  *state ^= *state << 17;
  return *state;
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: blk_bench DEVICE [SECONDS]\n");
    return 2;
  }
  const double seconds = argc == 3 ? atof(argv[2]) : 5.0;
  if (seconds <= 0) {
    fprintf(stderr, "blk_bench: '%s' is not a positive number of seconds\n", argv[2]);
    return 2;
  }
  const int fd = open(argv[1], O_RDWR | O_DIRECT);
  if (fd < 0) {
    fprintf(stderr, "blk_bench: open %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  uint64_t size = 0;
  if (ioctl(fd, BLKGETSIZE64, &size) != 0 || size < (16u << 20)) {
    fprintf(stderr, "blk_bench: %s: size %llu unknown or under 16 MiB\n", argv[1],
            (unsigned long long)size);
    return 1;
  }
  void* buffer = NULL;
  if (posix_memalign(&buffer, 4096, 1 << 20) != 0) return 1;
  memset(buffer, 0x5a, 1 << 20);
  for (size_t p = 0; p < sizeof(patterns) / sizeof(patterns[0]); ++p) {
    const pattern* pt = &patterns[p];
    const uint64_t blocks = size / pt->block;
    uint64_t state = 0x2545f4914f6cdd1dull, ops = 0;
    const double start = now();
    double elapsed = 0;
    while (elapsed < seconds) {
      const uint64_t index = pt->random ? next_random(&state) % blocks : ops % blocks;
      const off_t offset = (off_t)(index * pt->block);
      const ssize_t n =
          pt->write ? pwrite(fd, buffer, pt->block, offset) : pread(fd, buffer, pt->block, offset);
      if (n != (ssize_t)pt->block) {
        fprintf(stderr, "blk_bench: %s at %lld: %s\n", pt->name, (long long)offset,
                n < 0 ? strerror(errno) : "short transfer");
        return 1;
      }
      ++ops;
      if (ops % 8 == 0 || pt->block >= (1u << 20)) elapsed = now() - start;
    }
    if (pt->write && fsync(fd) != 0) {
      fprintf(stderr, "blk_bench: flush: %s\n", strerror(errno));
      return 1;
    }
    elapsed = now() - start;  // a write run includes its final flush
    printf("blk-bench: %s %zu %llu %.3f %.2f %.1f\n", pt->name, pt->block, (unsigned long long)ops,
           elapsed, (double)ops * (double)pt->block / elapsed / (1 << 20), (double)ops / elapsed);
    fflush(stdout);
  }
  close(fd);
  return 0;
}
