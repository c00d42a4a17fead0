// The C library's string and memory functions (glibc picks SSE2/SSE4 variants from CPUID),
// formatted I/O, and sorting: qsort and bsearch on integers, doubles, strings and structures.
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t state = 2463534242u;
static uint32_t next(void) {  // xorshift32
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

static uint32_t checksum(const void* data, size_t size) {
  const unsigned char* p = data;
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 16777619u;
  return h;
}

static int by_int(const void* a, const void* b) {
  int x = *(const int*)a, y = *(const int*)b;
  return (x > y) - (x < y);
}
static int by_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}
static int by_string(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}
struct Record {
  char name[12];
  int age;
  double score;
};
static int by_record(const void* a, const void* b) {
  const struct Record *x = a, *y = b;
  if (x->age != y->age) return x->age - y->age;
  return strcmp(x->name, y->name);
}

int main(void) {
  static char buffer[1 << 16], copy[1 << 16];
  for (size_t i = 0; i < sizeof buffer; ++i) buffer[i] = (char)('a' + next() % 26);
  // Copies and fills at every small alignment and length, overlapping moves both ways.
  uint32_t h = 0;
  for (int offset = 0; offset < 64; ++offset) {
    for (int length = 0; length < 300; length += 7) {
      memcpy(copy + offset, buffer + (offset * 3) % 61, (size_t)length);
      memmove(copy + offset + 5, copy + offset, (size_t)length);
      memmove(copy + offset, copy + offset + 3, (size_t)length);
      memset(copy + offset + length, offset, (size_t)(length / 3));
      h = h * 31 + checksum(copy + offset, 320);
    }
  }
  printf("copy/move/set hash %08x\n", h);
  buffer[40000] = 0;
  printf("strlen %zu, strchr %td, strrchr %td, memchr %td\n", strlen(buffer),
         strchr(buffer, 'q') - buffer, strrchr(buffer, 'q') - buffer,
         (char*)memchr(buffer, 'z', 40000) - buffer);
  printf("strstr %td, strcspn %zu, strspn %zu\n", strstr(buffer, "abc") - buffer,
         strcspn(buffer, "xyz"), strspn(buffer, "abcdefghijklm"));
  printf("memcmp %d, strncmp %d, strcasecmp %d\n", memcmp(buffer, buffer + 1, 100) > 0,
         strncmp("apple", "apricot", 3) < 0, strcasecmp("HeLLo", "hello"));

  char line[256];
  snprintf(line, sizeof line, "%-10s|%+08.3f|%#x|%lld|%5.2e|%c%%", "name", -3.14159, 48879,
           -9223372036854775807LL, 12345.678, 'Z');
  printf("%s\n", line);
  int a, b;
  double d;
  char word[32];
  int matched = sscanf("  17 0x1f 2.5e3 token", "%d %i %lf %31s", &a, &b, &d, word);
  printf("sscanf matched %d: %d %d %g %s\n", matched, a, b, d, word);
  char text[] = "the quick, brown fox; jumps over the lazy dog";
  int words = 0;
  for (char* t = strtok(text, " ,;"); t != NULL; t = strtok(NULL, " ,;")) {
    words++;
    t[0] = (char)toupper((unsigned char)t[0]);
    printf("%s%s", words > 1 ? " " : "", t);
  }
  printf(" (%d words)\n", words);

  enum { kCount = 5000 };
  static int ints[kCount];
  static double doubles[kCount];
  for (int i = 0; i < kCount; ++i) {
    ints[i] = (int)(next() % 100000) - 50000;
    doubles[i] = (double)next() / 4294967296.0 - 0.5;
  }
  qsort(ints, kCount, sizeof ints[0], by_int);
  qsort(doubles, kCount, sizeof doubles[0], by_double);
  int sorted = 1;
  for (int i = 1; i < kCount; ++i) sorted &= ints[i - 1] <= ints[i] && doubles[i - 1] <= doubles[i];
  printf("qsort ints: sorted %d, min %d, median %d, max %d, hash %08x\n", sorted, ints[0],
         ints[kCount / 2], ints[kCount - 1], checksum(ints, sizeof ints));
  printf("qsort doubles: %.17g %.17g hash %08x\n", doubles[0], doubles[kCount - 1],
         checksum(doubles, sizeof doubles));
  int key = ints[1234];
  int* found = bsearch(&key, ints, kCount, sizeof ints[0], by_int);
  printf("bsearch found %d at a position with that value: %d\n", key, found && *found == key);

  static char storage[1000][16];
  static char* strings[1000];
  for (int i = 0; i < 1000; ++i) {
    int len = 3 + (int)(next() % 10);
    for (int j = 0; j < len; ++j) storage[i][j] = (char)('a' + next() % 6);
    strings[i] = storage[i];
  }
  qsort(strings, 1000, sizeof strings[0], by_string);
  printf("strings: first %s, last %s, middle %s\n", strings[0], strings[999], strings[500]);
  struct Record records[500];
  for (int i = 0; i < 500; ++i) {
    snprintf(records[i].name, sizeof records[i].name, "r%u", next() % 1000);
    records[i].age = (int)(next() % 90);
    records[i].score = (double)(next() % 10000) / 100;
  }
  qsort(records, 500, sizeof records[0], by_record);
  for (int i = 0; i < 500; i += 97) {
    printf("record %s age %d score %.2f\n", records[i].name, records[i].age, records[i].score);
  }
  return 0;
}
