// The CPU the guest sees: what CPUID reports inside the guest must be what Linux shows in
// /proc/cpuinfo, and the leaves are printed ("cpuid LEAF.SUB: EAX EBX ECX EDX") for the host
// test to compare with the policy it configured.
#include <cpuid.h>

#include "guest_test.h"

struct Feature {
  unsigned leaf, subleaf;
  int reg;  // 0 EAX 1 EBX 2 ECX 3 EDX
  int bit;
  const char* linux_name;  // the flag in /proc/cpuinfo (arch/x86/include/asm/cpufeatures.h)
};

static const struct Feature kFeatures[] = {
    {1, 0, 3, 0, "fpu"},       {1, 0, 3, 4, "tsc"},         {1, 0, 3, 5, "msr"},
    {1, 0, 3, 6, "pae"},       {1, 0, 3, 8, "cx8"},         {1, 0, 3, 9, "apic"},
    {1, 0, 3, 15, "cmov"},     {1, 0, 3, 16, "pat"},        {1, 0, 3, 19, "clflush"},
    {1, 0, 3, 23, "mmx"},      {1, 0, 3, 24, "fxsr"},       {1, 0, 3, 25, "sse"},
    {1, 0, 3, 26, "sse2"},     {1, 0, 2, 0, "pni"},         {1, 0, 2, 9, "ssse3"},
    {1, 0, 2, 13, "cx16"},     {1, 0, 2, 19, "sse4_1"},     {1, 0, 2, 20, "sse4_2"},
    {1, 0, 2, 21, "x2apic"},   {1, 0, 2, 22, "movbe"},      {1, 0, 2, 23, "popcnt"},
    {1, 0, 2, 24, "tsc_deadline_timer"}, {1, 0, 2, 26, "xsave"}, {1, 0, 2, 28, "avx"},
    {1, 0, 2, 31, "hypervisor"}, {7, 0, 1, 3, "bmi1"},      {7, 0, 1, 5, "avx2"},
    {7, 0, 1, 8, "bmi2"},      {7, 0, 1, 9, "erms"},        {0x80000001, 0, 3, 11, "syscall"},
    {0x80000001, 0, 3, 20, "nx"}, {0x80000001, 0, 3, 29, "lm"}, {0x80000001, 0, 2, 5, "abm"},
    {0x80000001, 0, 3, 27, "rdtscp"},
};

static char flags[8192];

static int has_flag(const char* name) {
  const size_t n = strlen(name);
  for (const char* p = flags; (p = strstr(p, name)) != NULL; p += n) {
    if ((p == flags || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == 0)) return 1;
  }
  return 0;
}

int main(void) {
  FILE* f = fopen("/proc/cpuinfo", "r");
  char line[8192];
  while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, "flags", 5) == 0) {
      strncpy(flags, strchr(line, ':') + 1, sizeof(flags) - 1);
      break;
    }
  }
  CHECK(flags[0] != 0, "no flags line in /proc/cpuinfo");
  const unsigned leaves[][2] = {{0, 0}, {1, 0}, {7, 0}, {0xd, 0}, {0x15, 0}, {0x16, 0},
                                {0x80000000, 0}, {0x80000001, 0}, {0x80000008, 0}};
  for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); ++i) {
    unsigned r[4];
    __cpuid_count(leaves[i][0], leaves[i][1], r[0], r[1], r[2], r[3]);
    if (leaves[i][0] == 1) r[1] &= 0x00ffffff;  // EBX 31:24 is the APIC ID of this CPU
    printf("cpuid %x.%x: %08x %08x %08x %08x\n", leaves[i][0], leaves[i][1], r[0], r[1], r[2],
           r[3]);
  }
  // Every advertised feature Linux knows shows as a flag; none that is not advertised does.
  // (Linux may hide advertised features it disables; those are listed in the output.)
  for (size_t i = 0; i < sizeof(kFeatures) / sizeof(kFeatures[0]); ++i) {
    const struct Feature* feature = &kFeatures[i];
    unsigned r[4];
    __cpuid_count(feature->leaf, feature->subleaf, r[0], r[1], r[2], r[3]);
    const int advertised = (r[feature->reg] >> feature->bit) & 1;
    CHECK(advertised == has_flag(feature->linux_name), "%s: CPUID says %d, /proc/cpuinfo %d",
          feature->linux_name, advertised, has_flag(feature->linux_name));
  }
  return guest_result();
}
