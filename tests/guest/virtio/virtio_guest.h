// Shared helpers of the disk, console and rng guest programs (tests/guest/virtio/, packed into
// /tests/virtio/ and run as cella.test=virtio/NAME; see docs/virtio.md): SHA-256 (FIPS 180-4),
// deterministic file contents, sysfs reads, running the packed tools, and aligned buffers for
// O_DIRECT.
#pragma once

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest_test.h"

// ---- SHA-256 (FIPS 180-4, section 6.2) ----

typedef struct {
  uint32_t state[8];
  uint64_t length;  // bytes hashed so far
  uint8_t block[64];
  size_t used;  // bytes waiting in `block`
} sha256_context;

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static inline uint32_t sha256_rotr(uint32_t x, int n) {
  return (x >> n) | (x << (32 - n));
}

static inline void sha256_compress(sha256_context* c, const uint8_t* p) {
  uint32_t w[64];
  for (int t = 0; t < 16; ++t) {
    w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 | (uint32_t)p[4 * t + 2] << 8 |
           p[4 * t + 3];
  }
  for (int t = 16; t < 64; ++t) {
    const uint32_t s0 = sha256_rotr(w[t - 15], 7) ^ sha256_rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
    const uint32_t s1 = sha256_rotr(w[t - 2], 17) ^ sha256_rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
  uint32_t v[8];
  memcpy(v, c->state, sizeof(v));
  for (int t = 0; t < 64; ++t) {
    const uint32_t e = v[4], a = v[0];
    const uint32_t t1 = v[7] + (sha256_rotr(e, 6) ^ sha256_rotr(e, 11) ^ sha256_rotr(e, 25)) +
                        ((e & v[5]) ^ (~e & v[6])) + sha256_k[t] + w[t];
    const uint32_t t2 = (sha256_rotr(a, 2) ^ sha256_rotr(a, 13) ^ sha256_rotr(a, 22)) +
                        ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));
    memmove(v + 1, v, 7 * sizeof(uint32_t));
    v[4] += t1;
    v[0] = t1 + t2;
  }
  for (int i = 0; i < 8; ++i) c->state[i] += v[i];
}

static inline void sha256_init(sha256_context* c) {
  static const uint32_t initial[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(c->state, initial, sizeof(initial));
  c->length = 0;
  c->used = 0;
}

static inline void sha256_update(sha256_context* c, const void* data, size_t size) {
  const uint8_t* p = data;
  c->length += size;
  while (size > 0) {
    size_t take = 64 - c->used < size ? 64 - c->used : size;
    memcpy(c->block + c->used, p, take);
    c->used += take;
    p += take;
    size -= take;
    if (c->used == 64) {
      sha256_compress(c, c->block);
      c->used = 0;
    }
  }
}

// Writes the digest as 64 lowercase hex digits and a NUL into `hex`.
static inline void sha256_final_hex(sha256_context* c, char hex[65]) {
  const uint64_t bits = c->length * 8;
  const uint8_t one = 0x80, zero = 0;
  sha256_update(c, &one, 1);
  while (c->used != 56) sha256_update(c, &zero, 1);
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = (uint8_t)(bits >> (56 - 8 * i));
  sha256_update(c, length, 8);
  for (int i = 0; i < 8; ++i) snprintf(hex + 8 * i, 9, "%08x", c->state[i]);
}

// ---- deterministic contents: xorshift64* seeded per file, the same on every boot ----

static inline uint64_t content_next(uint64_t* state) {
  *state ^= *state >> 12;
  *state ^= *state << 25;
  *state ^= *state >> 27;
  return *state * 0x2545f4914f6cdd1dull;
}

static inline void content_fill(uint64_t* state, uint8_t* buffer, size_t size) {
  for (size_t i = 0; i < size; i += 8) {
    const uint64_t value = content_next(state);
    memcpy(buffer + i, &value, size - i < 8 ? size - i : 8);
  }
}

// ---- the machine ----

// Reads a sysfs (or proc) file into `text` without the trailing newline; "" if unreadable.
static inline const char* read_text(const char* path, char* text, size_t size) {
  text[0] = '\0';
  FILE* f = fopen(path, "r");
  if (f == NULL) return text;
  if (fgets(text, (int)size, f) == NULL) text[0] = '\0';
  fclose(f);
  text[strcspn(text, "\n")] = '\0';
  return text;
}

// The number in a sysfs file, or -1.
static inline long long read_number(const char* path) {
  char text[64];
  read_text(path, text, sizeof(text));
  return text[0] == '\0' ? -1 : atoll(text);
}

// Runs a program (argv[0] found in PATH) and returns its exit status, or -1.
static inline int run_program(char* const argv[]) {
  const pid_t pid = fork();
  if (pid == 0) {
    execvp(argv[0], argv);
    printf("  cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A buffer aligned for O_DIRECT.
static inline uint8_t* direct_buffer(size_t size) {
  void* p = NULL;
  if (posix_memalign(&p, 4096, size) != 0) {
    printf("  out of memory for a %zu-byte buffer\n", size);
    exit(1);
  }
  return p;
}
