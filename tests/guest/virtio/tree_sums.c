// A disk prepared on the host (ext4 made with mkfs.ext4 -d): mounts /dev/vda read-only and
// prints "sum SHA256  ./PATH" for every regular file, sorted by path (C locale), so the host
// can compare them with sha256sum's lines for the same files; "tree-files: N" ends the list.
#include "virtio_guest.h"

#include <dirent.h>
#include <sys/mount.h>

#define MOUNT_POINT "/mnt"

static char** lines;
static size_t line_count, line_capacity;

static void add_line(const char* line) {
  if (line_count == line_capacity) {
    line_capacity = line_capacity ? 2 * line_capacity : 64;
    lines = realloc(lines, line_capacity * sizeof(char*));
  }
  lines[line_count++] = strdup(line);
}

static void hash_file(const char* path, const char* relative) {
  const int fd = open(path, O_RDONLY);
  CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
  if (fd < 0) return;
  sha256_context c;
  sha256_init(&c);
  static uint8_t buffer[1 << 16];
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) != 0;) {
    CHECK(n > 0, "read %s: %s", path, strerror(errno));
    if (n < 0) break;
    sha256_update(&c, buffer, (size_t)n);
  }
  close(fd);
  char hex[65], line[1024];
  sha256_final_hex(&c, hex);
  snprintf(line, sizeof(line), "sum %s  ./%s", hex, relative);
  add_line(line);
}

static void walk(const char* dir, const char* relative) {
  DIR* d = opendir(dir);
  CHECK(d != NULL, "opendir %s: %s", dir, strerror(errno));
  if (d == NULL) return;
  for (struct dirent* e; (e = readdir(d)) != NULL;) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (relative[0] == '\0' && strcmp(e->d_name, "lost+found") == 0) continue;
    char path[512], child[512];
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    snprintf(child, sizeof(child), "%s%s%s", relative, relative[0] ? "/" : "", e->d_name);
    struct stat st;
    if (lstat(path, &st) != 0) continue;
    if (S_ISDIR(st.st_mode))
      walk(path, child);
    else if (S_ISREG(st.st_mode))
      hash_file(path, child);
  }
  closedir(d);
}

static int by_path(const void* a, const void* b) {
  // Compare from the path on ("sum " + 64 hex digits + two spaces).
  return strcmp(*(char* const*)a + 70, *(char* const*)b + 70);
}

int main(void) {
  if (mount("/dev/vda", MOUNT_POINT, "ext4", MS_RDONLY, NULL) != 0) {
    CHECK(0, "mount /dev/vda: %s", strerror(errno));
    return 1;
  }
  walk(MOUNT_POINT, "");
  qsort(lines, line_count, sizeof(char*), by_path);
  for (size_t i = 0; i < line_count; ++i) printf("%s\n", lines[i]);
  printf("tree-files: %zu\n", line_count);
  CHECK(line_count > 0, "no files on /dev/vda");
  CHECK(umount(MOUNT_POINT) == 0, "umount: %s", strerror(errno));
  return guest_result();
}
