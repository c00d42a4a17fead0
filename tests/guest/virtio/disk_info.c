// The virtio disks are the ones the host attached, in order: cella.disks=vda:BYTES:rw,vdb:BYTES:ro
// lists them. For each: virtio_blk drives it, BLKGETSIZE64 and sysfs give its size, BLKROGET
// and sysfs its read-only state, its last block reads (and reading past the end returns
// nothing); a read-only disk refuses writes (EROFS or EPERM), a writable one writes its last
// block, reads it back with O_DIRECT and restores it, and a flush (fsync) succeeds.
#include "virtio_guest.h"

#include <dirent.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#define BLOCK 4096

static void check_read_only(const char* device) {
  const int fd = open(device, O_RDWR);
  if (fd < 0) {
    CHECK(errno == EROFS || errno == EACCES || errno == EPERM, "open %s read-write: %s", device,
          strerror(errno));
    return;
  }
  uint8_t* block = direct_buffer(BLOCK);
  memset(block, 0xa5, BLOCK);
  const ssize_t n = pwrite(fd, block, BLOCK, 0);
  CHECK(n < 0 && (errno == EROFS || errno == EPERM), "a write to read-only %s returned %zd (%s)",
        device, n, n < 0 ? strerror(errno) : "no error");
  close(fd);
  free(block);
}

static void check_write(const char* device, unsigned long long size) {
  const int fd = open(device, O_RDWR | O_DIRECT);
  CHECK(fd >= 0, "open %s read-write: %s", device, strerror(errno));
  if (fd < 0) return;
  uint8_t* saved = direct_buffer(BLOCK);
  uint8_t* pattern = direct_buffer(BLOCK);
  uint8_t* back = direct_buffer(BLOCK);
  const off_t last = (off_t)(size - BLOCK);
  uint64_t state = size;
  content_fill(&state, pattern, BLOCK);
  CHECK(pread(fd, saved, BLOCK, last) == BLOCK, "read %s's last block: %s", device,
        strerror(errno));
  CHECK(pwrite(fd, pattern, BLOCK, last) == BLOCK, "write %s's last block: %s", device,
        strerror(errno));
  CHECK(fsync(fd) == 0, "flush %s: %s", device, strerror(errno));
  CHECK(pread(fd, back, BLOCK, last) == BLOCK, "read back %s: %s", device, strerror(errno));
  CHECK(memcmp(back, pattern, BLOCK) == 0, "%s's last block reads back other data", device);
  CHECK(pwrite(fd, saved, BLOCK, last) == BLOCK, "restore %s: %s", device, strerror(errno));
  CHECK(fsync(fd) == 0, "flush %s: %s", device, strerror(errno));
  close(fd);
  free(saved);
  free(pattern);
  free(back);
}

static void check_disk(const char* name, unsigned long long expected_size, int expected_ro) {
  char path[128], text[256], device[64];
  snprintf(device, sizeof(device), "/dev/%s", name);
  snprintf(path, sizeof(path), "/sys/block/%s/device/driver", name);
  const ssize_t n = readlink(path, text, sizeof(text) - 1);
  text[n > 0 ? n : 0] = '\0';
  CHECK(n > 0 && strcmp(strrchr(text, '/') + 1, "virtio_blk") == 0, "%s's driver is '%s'", name,
        text);
  const int fd = open(device, O_RDONLY);
  CHECK(fd >= 0, "open %s: %s", device, strerror(errno));
  if (fd < 0) return;
  unsigned long long size = 0;
  int ro = -1, sector = 0;
  CHECK(ioctl(fd, BLKGETSIZE64, &size) == 0, "BLKGETSIZE64: %s", strerror(errno));
  CHECK(ioctl(fd, BLKROGET, &ro) == 0, "BLKROGET: %s", strerror(errno));
  CHECK(ioctl(fd, BLKSSZGET, &sector) == 0, "BLKSSZGET: %s", strerror(errno));
  snprintf(path, sizeof(path), "/sys/block/%s/size", name);
  const long long sysfs_sectors = read_number(path);
  snprintf(path, sizeof(path), "/sys/block/%s/ro", name);
  const long long sysfs_ro = read_number(path);
  snprintf(path, sizeof(path), "/sys/block/%s/queue/write_cache", name);
  char cache[32];
  read_text(path, cache, sizeof(cache));
  printf("%s: %llu bytes, %s, %d-byte sectors, cache %s\n", name, size,
         ro ? "read-only" : "read-write", sector, cache);
  CHECK(size == expected_size, "%s has %llu bytes, expected %llu", name, size, expected_size);
  CHECK(sysfs_sectors >= 0 && (unsigned long long)sysfs_sectors * 512 == size,
        "sysfs says %lld sectors, BLKGETSIZE64 %llu bytes", sysfs_sectors, size);
  CHECK(ro == expected_ro, "BLKROGET says %d, expected %d", ro, expected_ro);
  CHECK(sysfs_ro == expected_ro, "sysfs ro says %lld, expected %d", sysfs_ro, expected_ro);
  CHECK(sector >= 512 && (sector & (sector - 1)) == 0, "logical block size %d", sector);
  if (size >= BLOCK) {
    uint8_t block[BLOCK];
    CHECK(pread(fd, block, BLOCK, (off_t)(size - BLOCK)) == BLOCK, "read %s's last block: %s",
          device, strerror(errno));
    CHECK(pread(fd, block, BLOCK, (off_t)size) == 0, "a read past %s's end returned data", device);
  }
  close(fd);
  if (expected_ro) {
    check_read_only(device);
  } else {
    check_write(device, size);
  }
}

int main(void) {
  const char* disks = cmdline_value("cella.disks");
  CHECK(disks != NULL, "the host passes cella.disks=vda:BYTES:rw|ro,...");
  if (disks == NULL) return 1;
  char list[512];
  snprintf(list, sizeof(list), "%s", disks);
  int expected = 0;
  for (char *save = NULL, *entry = strtok_r(list, ",", &save); entry != NULL;
       entry = strtok_r(NULL, ",", &save)) {
    char name[16], mode[4];
    unsigned long long size = 0;
    if (sscanf(entry, "%15[^:]:%llu:%3s", name, &size, mode) != 3) {
      CHECK(0, "cannot parse '%s' in cella.disks", entry);
      continue;
    }
    expected++;
    check_disk(name, size, strcmp(mode, "ro") == 0);
  }
  int present = 0;
  DIR* block = opendir("/sys/block");
  for (struct dirent* e; block != NULL && (e = readdir(block)) != NULL;) {
    if (strncmp(e->d_name, "vd", 2) == 0) present++;
  }
  if (block != NULL) closedir(block);
  CHECK(present == expected, "%d virtio disks present, %d attached", present, expected);
  return guest_result();
}
