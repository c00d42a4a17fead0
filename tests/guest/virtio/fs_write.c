// First boot of the file system round trip: makes an ext4 file system on /dev/vda with the
// packed mkfs.ext4, writes the tree of fs_tree.h (each file fsync'd), unmounts, and prints the
// tree's digest. fs_verify checks it on the next boot.
#include "fs_tree.h"

static void make_directories(const char* path) {
  char dir[256];
  snprintf(dir, sizeof(dir), "%s/%s", FS_MOUNT, path);
  for (char* slash = strchr(dir + strlen(FS_MOUNT) + 1, '/'); slash;
       slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    CHECK(mkdir(dir, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", dir, strerror(errno));
    *slash = '/';
  }
}

int main(void) {
  char* mkfs[] = {"mkfs.ext4", "-q", "-F", "-L", "cella-fs", FS_DEVICE, NULL};
  CHECK(run_program(mkfs) == 0, "mkfs.ext4 %s failed", FS_DEVICE);
  if (mount(FS_DEVICE, FS_MOUNT, "ext4", 0, NULL) != 0) {
    CHECK(0, "mount %s: %s", FS_DEVICE, strerror(errno));
    return 1;
  }
  sha256_context tree;
  sha256_init(&tree);
  for (size_t i = 0; i < FS_FILE_COUNT; ++i) {
    make_directories(fs_files[i].path);
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", FS_MOUNT, fs_files[i].path);
    const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0, "create %s: %s", path, strerror(errno));
    if (fd < 0) continue;
    uint64_t state = fs_seed(i);
    uint8_t chunk[FS_CHUNK + 8];
    sha256_context c;
    sha256_init(&c);
    size_t written = 0;
    while (written < fs_files[i].size) {
      const size_t n =
          fs_files[i].size - written < FS_CHUNK ? fs_files[i].size - written : FS_CHUNK;
      content_fill(&state, chunk, FS_CHUNK);
      const ssize_t w = write(fd, chunk, n);
      CHECK(w == (ssize_t)n, "write %s at %zu: %s", path, written, strerror(errno));
      if (w != (ssize_t)n) break;
      sha256_update(&c, chunk, n);
      written += n;
    }
    CHECK(fsync(fd) == 0, "fsync %s: %s", path, strerror(errno));
    CHECK(close(fd) == 0, "close %s: %s", path, strerror(errno));
    char hex[65];
    sha256_final_hex(&c, hex);
    fs_report(&tree, i, written, hex);
  }
  CHECK(umount(FS_MOUNT) == 0, "umount: %s", strerror(errno));
  char hex[65];
  sha256_final_hex(&tree, hex);
  printf("fs-digest: %s\n", hex);
  return guest_result();
}
