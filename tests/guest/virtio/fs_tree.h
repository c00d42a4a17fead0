// The file tree that fs_write creates on /dev/vda and fs_verify checks on a later boot: files
// of deterministic contents whose sizes straddle sector, page and extent boundaries, in nested
// directories. Both print "file PATH SIZE SHA256" per file and "fs-digest: HEX" over those
// lines, so the host can compare the two boots.
#pragma once

#include <sys/mount.h>

#include "virtio_guest.h"

#define FS_DEVICE "/dev/vda"
#define FS_MOUNT "/mnt"

typedef struct {
  const char* path;  // below FS_MOUNT
  size_t size;
} fs_file;

static const fs_file fs_files[] = {
    {"empty", 0},
    {"one-byte", 1},
    {"sector-minus-one", 511},
    {"page", 4096},
    {"page-plus-one", 4097},
    {"a/odd-64k", 65537},
    {"a/b/one-mib", 1 << 20},
    {"a/b/c/three-mib-plus", (3 << 20) + 12345},
    {"d/seventeen-pages", 17 * 4096},
    {"d/e/half-mib-minus", (1 << 19) - 7},
};
#define FS_FILE_COUNT (sizeof(fs_files) / sizeof(fs_files[0]))

// Chunks of an odd size, so writes and reads cross block boundaries.
#define FS_CHUNK 6007

static inline uint64_t fs_seed(size_t index) {
  return 0x9e3779b97f4a7c15ull * (index + 1);
}

// The digest of file `index`'s expected contents.
static inline void fs_expected_digest(size_t index, char hex[65]) {
  uint64_t state = fs_seed(index);
  uint8_t chunk[FS_CHUNK + 8];
  sha256_context c;
  sha256_init(&c);
  for (size_t done = 0; done < fs_files[index].size; done += FS_CHUNK) {
    const size_t n =
        fs_files[index].size - done < FS_CHUNK ? fs_files[index].size - done : FS_CHUNK;
    content_fill(&state, chunk, FS_CHUNK);
    sha256_update(&c, chunk, n);
  }
  sha256_final_hex(&c, hex);
}

// Prints a file's line and adds it to the tree digest.
static inline void fs_report(sha256_context* tree, size_t index, size_t size, const char* hex) {
  char line[256];
  snprintf(line, sizeof(line), "file %s %zu %s\n", fs_files[index].path, size, hex);
  fputs(line, stdout);
  sha256_update(tree, line, strlen(line));
}
