// The guest's RAM is what the host configured (cella.memory_mib=N on the command line): the
// kernel reports MemTotal a little below it (it keeps its own image and reserved areas).
#include "guest_test.h"

int main(void) {
  const char* expected_text = cmdline_value("cella.memory_mib");
  CHECK(expected_text != NULL, "the host passes cella.memory_mib");
  if (expected_text == NULL) return 1;
  const long expected_kib = atol(expected_text) * 1024;
  FILE* f = fopen("/proc/meminfo", "r");
  long total_kib = 0;
  char line[256];
  while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
    if (sscanf(line, "MemTotal: %ld kB", &total_kib) == 1) break;
  }
  printf("MemTotal %ld KiB, configured %ld KiB\n", total_kib, expected_kib);
  CHECK(total_kib <= expected_kib, "more memory than configured");
  // The kernel image, initramfs and reserved regions take some; 90% or more must remain.
  CHECK(total_kib >= expected_kib * 9 / 10 - 64 * 1024, "far less memory than configured");
  return guest_result();
}
