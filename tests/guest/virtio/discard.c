// Discard and write-zeroes reach the device: on every virtio disk (each at least 12 MiB) the
// queue advertises both; 12 MiB at offset 0 are written with a pattern (O_DIRECT, flushed),
// then BLKDISCARD drops [4 MiB, 8 MiB) and BLKZEROOUT zeroes [8 MiB, 12 MiB). [0, 4 MiB) still
// holds the pattern and [8 MiB, 12 MiB) reads as zeros. The host then checks the image: no data
// allocated in the discarded range, zeros in the zeroed one, the pattern in the rest.
#include "virtio_guest.h"

#include <dirent.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#define MIB (1u << 20)

static uint64_t pattern_seed(unsigned mib) {
  return 0x5eed0000ull + mib;
}

static void check_disk(const char* name) {
  char path[128], device[64];
  snprintf(path, sizeof(path), "/sys/block/%s/queue/discard_max_bytes", name);
  const long long discard_max = read_number(path);
  snprintf(path, sizeof(path), "/sys/block/%s/queue/write_zeroes_max_bytes", name);
  const long long zeroes_max = read_number(path);
  snprintf(path, sizeof(path), "/sys/block/%s/queue/discard_granularity", name);
  const long long granularity = read_number(path);
  printf("%s: discard_max_bytes %lld, discard_granularity %lld, write_zeroes_max_bytes %lld\n",
         name, discard_max, granularity, zeroes_max);
  CHECK(discard_max > 0, "%s does not advertise discard", name);
  CHECK(zeroes_max > 0, "%s does not advertise write-zeroes", name);

  snprintf(device, sizeof(device), "/dev/%s", name);
  const int fd = open(device, O_RDWR | O_DIRECT);
  CHECK(fd >= 0, "open %s: %s", device, strerror(errno));
  if (fd < 0) return;
  uint8_t* block = direct_buffer(MIB);
  uint8_t* expected = direct_buffer(MIB);
  for (unsigned mib = 0; mib < 12; ++mib) {
    uint64_t state = pattern_seed(mib);
    content_fill(&state, block, MIB);
    CHECK(pwrite(fd, block, MIB, (off_t)mib * MIB) == MIB, "write %s MiB %u: %s", device, mib,
          strerror(errno));
  }
  CHECK(fsync(fd) == 0, "flush %s: %s", device, strerror(errno));
  uint64_t discard_range[2] = {4 * MIB, 4 * MIB}, zero_range[2] = {8 * MIB, 4 * MIB};
  CHECK(ioctl(fd, BLKDISCARD, discard_range) == 0, "BLKDISCARD %s: %s", device, strerror(errno));
  CHECK(ioctl(fd, BLKZEROOUT, zero_range) == 0, "BLKZEROOUT %s: %s", device, strerror(errno));
  CHECK(fsync(fd) == 0, "flush %s: %s", device, strerror(errno));
  for (unsigned mib = 0; mib < 12; ++mib) {
    if (mib >= 4 && mib < 8) continue;  // discarded: the device may return anything
    CHECK(pread(fd, block, MIB, (off_t)mib * MIB) == MIB, "read %s MiB %u: %s", device, mib,
          strerror(errno));
    uint64_t state = pattern_seed(mib);
    if (mib < 4)
      content_fill(&state, expected, MIB);
    else
      memset(expected, 0, MIB);
    CHECK(memcmp(block, expected, MIB) == 0, "%s MiB %u does not read back as %s", device, mib,
          mib < 4 ? "written" : "zeros");
  }
  close(fd);
  free(block);
  free(expected);
  printf("discard: %s: wrote 0-12 MiB, discarded 4-8 MiB, zeroed 8-12 MiB\n", name);
}

int main(void) {
  DIR* block = opendir("/sys/block");
  int disks = 0;
  for (struct dirent* e; block != NULL && (e = readdir(block)) != NULL;) {
    if (strncmp(e->d_name, "vd", 2) != 0) continue;
    check_disk(e->d_name);
    disks++;
  }
  if (block != NULL) closedir(block);
  CHECK(disks > 0, "no virtio disk");
  return guest_result();
}
