// Second boot of the file system round trip: e2fsck finds /dev/vda's ext4 clean, and every file
// of fs_tree.h reads back with its expected size and contents (no other file is there). Prints
// the same lines and digest as fs_write.
#include "fs_tree.h"

#include <dirent.h>

// Counts regular files below `dir` (lost+found excluded).
static size_t count_files(const char* dir) {
  size_t count = 0;
  DIR* d = opendir(dir);
  if (d == NULL) return 0;
  for (struct dirent* e; (e = readdir(d)) != NULL;) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
        strcmp(e->d_name, "lost+found") == 0) {
      continue;
    }
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    struct stat st;
    if (lstat(path, &st) != 0) continue;
    if (S_ISDIR(st.st_mode))
      count += count_files(path);
    else
      count++;
  }
  closedir(d);
  return count;
}

int main(void) {
  char* fsck[] = {"e2fsck", "-f", "-n", FS_DEVICE, NULL};
  const int fsck_status = run_program(fsck);
  CHECK(fsck_status == 0, "e2fsck -f -n %s exited with %d (0: clean)", FS_DEVICE, fsck_status);
  if (mount(FS_DEVICE, FS_MOUNT, "ext4", MS_RDONLY, NULL) != 0) {
    CHECK(0, "mount %s: %s", FS_DEVICE, strerror(errno));
    return 1;
  }
  sha256_context tree;
  sha256_init(&tree);
  for (size_t i = 0; i < FS_FILE_COUNT; ++i) {
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", FS_MOUNT, fs_files[i].path);
    const int fd = open(path, O_RDONLY);
    CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
    if (fd < 0) continue;
    sha256_context c;
    sha256_init(&c);
    uint8_t chunk[FS_CHUNK];
    size_t size = 0;
    for (ssize_t n; (n = read(fd, chunk, sizeof(chunk))) != 0; size += (size_t)n) {
      CHECK(n > 0, "read %s at %zu: %s", path, size, strerror(errno));
      if (n < 0) break;
      sha256_update(&c, chunk, (size_t)n);
    }
    close(fd);
    char hex[65], expected[65];
    sha256_final_hex(&c, hex);
    fs_expected_digest(i, expected);
    CHECK(size == fs_files[i].size, "%s has %zu bytes, expected %zu", path, size, fs_files[i].size);
    CHECK(strcmp(hex, expected) == 0, "%s has sha256 %s, expected %s", path, hex, expected);
    fs_report(&tree, i, size, hex);
  }
  const size_t found = count_files(FS_MOUNT);
  CHECK(found == FS_FILE_COUNT, "%zu files on the disk, expected %zu", found, FS_FILE_COUNT);
  CHECK(umount(FS_MOUNT) == 0, "umount: %s", strerror(errno));
  char hex[65];
  sha256_final_hex(&tree, hex);
  printf("fs-digest: %s\n", hex);
  return guest_result();
}
