// A C compute kernel for the `cella user` benchmark: integer hashing over a buffer, a
// double-precision matrix product, and a sort, with a checksum so nothing is optimized away.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { kBytes = 1 << 20, kMatrix = 160, kSort = 200000 };

static int by_value(const void* a, const void* b) {
  uint32_t x = *(const uint32_t*)a, y = *(const uint32_t*)b;
  return (x > y) - (x < y);
}

int main(void) {
  static uint8_t buffer[kBytes];
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < kBytes; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    buffer[i] = (uint8_t)(seed >> 56);
  }
  uint64_t hash = 0;
  for (int round = 0; round < 8; ++round) {
    for (int i = 0; i < kBytes; i += 8) {
      uint64_t word;
      __builtin_memcpy(&word, buffer + i, 8);
      hash = (hash ^ word) * 0x100000001b3ULL;
      hash ^= hash >> 29;
    }
  }
  static double a[kMatrix][kMatrix], b[kMatrix][kMatrix], c[kMatrix][kMatrix];
  for (int i = 0; i < kMatrix; ++i) {
    for (int j = 0; j < kMatrix; ++j) {
      a[i][j] = (double)((i * 31 + j * 17) % 101) / 7.0;
      b[i][j] = (double)((i * 13 + j * 29) % 97) / 11.0;
    }
  }
  for (int i = 0; i < kMatrix; ++i) {
    for (int k = 0; k < kMatrix; ++k) {
      const double x = a[i][k];
      for (int j = 0; j < kMatrix; ++j) c[i][j] += x * b[k][j];
    }
  }
  double trace = 0;
  for (int i = 0; i < kMatrix; ++i) trace += c[i][i];
  static uint32_t values[kSort];
  for (int i = 0; i < kSort; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    values[i] = (uint32_t)(seed >> 32);
  }
  qsort(values, kSort, sizeof values[0], by_value);
  printf("hash %016llx trace %.6f median %u\n", (unsigned long long)hash, trace,
         values[kSort / 2]);
  return 0;
}
