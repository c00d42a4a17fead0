// Shared helpers of the guest test programs (in the default initramfs, linked against the glibc
// packed beside them; see docs/guest-kit.md). Each program checks the virtual machine from the
// inside and exits 0 when every check passed; CHECK prints what failed.
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int guest_failures;

#define CHECK(condition, ...)                                         \
  do {                                                                \
    if (!(condition)) {                                               \
      printf("  FAILED %s:%d: %s: ", __FILE__, __LINE__, #condition); \
      printf(__VA_ARGS__);                                            \
      printf("\n");                                                   \
      guest_failures++;                                               \
    }                                                                 \
  } while (0)

// The value of `key=` on the kernel command line, or NULL.
__attribute__((unused)) static const char* cmdline_value(const char* key) {
  static char line[4096];
  FILE* f = fopen("/proc/cmdline", "r");
  if (f == NULL || fgets(line, sizeof(line), f) == NULL) return NULL;
  fclose(f);
  const size_t key_length = strlen(key);
  for (char* token = strtok(line, " \n"); token != NULL; token = strtok(NULL, " \n")) {
    if (strncmp(token, key, key_length) == 0 && token[key_length] == '=') {
      return token + key_length + 1;
    }
  }
  return NULL;
}

static int guest_result(void) {
  return guest_failures == 0 ? 0 : 1;
}
