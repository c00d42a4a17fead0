// Integer arithmetic as compilers emit it: multiplication and division of every width and
// sign (with the corner cases), 128-bit products, shifts and rotates, bit counts, and a few
// classic loops. Output is compared with a native run.
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

static volatile int64_t sink;  // keeps the compiler from folding the inputs

static uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

static int collatz_length(uint64_t n) {
  int steps = 0;
  while (n != 1) {
    n = (n & 1) ? 3 * n + 1 : n / 2;
    ++steps;
  }
  return steps;
}

int main(void) {
  const int64_t values[] = {0,
                            1,
                            -1,
                            7,
                            -7,
                            13,
                            1000000007,
                            -999999937,
                            INT32_MAX,
                            INT32_MIN,
                            INT64_MAX,
                            INT64_MIN + 1,
                            0x123456789abcdefLL};
  const int n = sizeof values / sizeof values[0];
  uint64_t hash = 0;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      int64_t a = values[i], b = values[j];
      sink = a;
      a = sink;
      int64_t q = b ? a / b : 0, r = b ? a % b : 0;
      uint64_t uq = b ? (uint64_t)a / (uint64_t)b : 0;
      const int32_t a32 = (int32_t)a, b32 = (int32_t)b;
      int32_t q32 = b32 && !(a32 == INT32_MIN && b32 == -1) ? a32 / b32 : 0;
      uint16_t u16 = (uint16_t)b ? (uint16_t)a / (uint16_t)b : 0;
      int8_t s8 = (int8_t)b && !((int8_t)a == -128 && (int8_t)b == -1) ? (int8_t)a % (int8_t)b : 0;
      hash = mix(hash ^ (uint64_t)q ^ ((uint64_t)r << 1) ^ uq ^ (uint64_t)q32 ^ u16 ^ (uint64_t)s8);
      hash ^= (uint64_t)(a * b);
    }
  }
  printf("division table hash %016" PRIx64 "\n", hash);

  unsigned __int128 wide = (unsigned __int128)0xfedcba9876543210ULL * 0x0123456789abcdefULL;
  __int128 swide = (__int128)INT64_MIN * -3;
  printf("128-bit product %016" PRIx64 "%016" PRIx64 "\n", (uint64_t)(wide >> 64), (uint64_t)wide);
  printf("signed 128-bit %016" PRIx64 "%016" PRIx64 "\n",
         (uint64_t)((unsigned __int128)swide >> 64), (uint64_t)swide);
  printf("128-bit division %" PRIu64 "\n", (uint64_t)(wide / 1000000007u));

  uint64_t x = 0x8000000000000001ULL;
  for (int s = 0; s < 64; s += 7) {
    sink = s;
    int k = (int)sink;
    printf("shift %2d: %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " rot %016" PRIx64 "\n", k,
           x << k, x >> k, (uint64_t)((int64_t)x >> k), (x << k) | (x >> ((64 - k) & 63)));
  }
  for (int i = 1; i <= 6; ++i) {  // nonzero: clz/ctz of 0 are undefined
    uint64_t v = mix((uint64_t)i);
    printf("bits of %016" PRIx64 ": popcount %d clz %d ctz %d parity %d bswap %016" PRIx64 "\n", v,
           __builtin_popcountll(v), __builtin_clzll(v), __builtin_ctzll(v), __builtin_parityll(v),
           __builtin_bswap64(v));
  }

  int longest = 0, at = 0;
  for (int i = 1; i < 10000; ++i) {
    int len = collatz_length((uint64_t)i);
    if (len > longest) longest = len, at = i;
  }
  printf("longest Collatz chain below 10000: %d steps from %d\n", longest, at);

  static char sieve[50000];
  int primes = 0;
  long long prime_sum = 0;
  for (int i = 2; i < 50000; ++i) {
    if (sieve[i]) continue;
    ++primes;
    prime_sum += i;
    for (int j = 2 * i; j < 50000; j += i) sieve[j] = 1;
  }
  printf("%d primes below 50000, sum %lld\n", primes, prime_sum);

  int overflow = 0;
  long result;
  overflow += __builtin_add_overflow(LONG_MAX, 1L, &result);
  overflow += __builtin_mul_overflow(1L << 40, 1L << 30, &result);
  overflow += __builtin_sub_overflow(LONG_MIN, 0L, &result);
  printf("overflows detected: %d\n", overflow);
  return 0;
}
