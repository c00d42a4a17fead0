// The virtio entropy device feeds the kernel's hardware RNG: hw_random's current source is
// virtio_rng, and 64 KiB read from /dev/hwrng look random: every byte value appears about
// equally often (a chi-square bound no real generator misses, but a stuck or patterned one
// does) and no 16-byte block repeats.
#include "virtio_guest.h"

#define SAMPLE (64 * 1024)
#define BLOCK 16

static int by_block(const void* a, const void* b) {
  return memcmp(a, b, BLOCK);
}

int main(void) {
  char current[128], available[256];
  read_text("/sys/class/misc/hw_random/rng_current", current, sizeof(current));
  read_text("/sys/class/misc/hw_random/rng_available", available, sizeof(available));
  printf("rng_current: %s; rng_available: %s\n", current, available);
  CHECK(strncmp(current, "virtio_rng", 10) == 0, "the current hardware RNG is '%s'", current);
  CHECK(strstr(available, "virtio_rng") != NULL, "virtio_rng is not available");

  static uint8_t sample[SAMPLE];
  const int fd = open("/dev/hwrng", O_RDONLY);
  CHECK(fd >= 0, "open /dev/hwrng: %s", strerror(errno));
  if (fd < 0) return 1;
  size_t got = 0, reads = 0;
  while (got < SAMPLE) {
    const ssize_t n = read(fd, sample + got, SAMPLE - got);
    CHECK(n > 0, "read /dev/hwrng after %zu bytes: %s", got,
          n < 0 ? strerror(errno) : "end of file");
    if (n <= 0) break;
    got += (size_t)n;
    reads++;
  }
  close(fd);
  printf("read %zu bytes from /dev/hwrng in %zu reads\n", got, reads);
  if (got < SAMPLE) return 1;

  unsigned counts[256] = {0};
  for (size_t i = 0; i < SAMPLE; ++i) counts[sample[i]]++;
  const double expected = SAMPLE / 256.0;
  double chi_square = 0;
  for (int v = 0; v < 256; ++v)
    chi_square += (counts[v] - expected) * (counts[v] - expected) / expected;
  printf("chi-square over byte values: %.1f (255 degrees of freedom)\n", chi_square);
  // Mean 255, standard deviation 22.6: 400 is more than 6 deviations away.
  CHECK(chi_square < 400, "byte values far from uniform (chi-square %.1f)", chi_square);
  qsort(sample, SAMPLE / BLOCK, BLOCK, by_block);
  int repeats = 0;
  for (size_t i = 1; i < SAMPLE / BLOCK; ++i)
    repeats += memcmp(sample + (i - 1) * BLOCK, sample + i * BLOCK, BLOCK) == 0;
  CHECK(repeats == 0, "%d repeated 16-byte blocks", repeats);
  return guest_result();
}
