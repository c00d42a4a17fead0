// The virtio console is the system console when the kernel is given console=hvc0: virtio_console
// drives a device, /dev/hvc0 exists, the kernel's active console is hvc0, and this program's
// output (on /dev/console) reaches the host. It also writes "hvc0-direct: NONCE" straight to
// /dev/hvc0, NONCE being cella.nonce from the command line, for the host to find.
#include "virtio_guest.h"

#include <dirent.h>
#include <sys/sysmacros.h>
#include <termios.h>

int main(void) {
  const char* console = cmdline_value("console");
  CHECK(console != NULL && strcmp(console, "hvc0") == 0, "the kernel's console is '%s', not hvc0",
        console ? console : "(none)");
  int bound = 0;
  DIR* d = opendir("/sys/bus/virtio/drivers/virtio_console");
  for (struct dirent* e; d != NULL && (e = readdir(d)) != NULL;) {
    bound += strncmp(e->d_name, "virtio", 6) == 0;
  }
  if (d != NULL) closedir(d);
  CHECK(bound == 1, "virtio_console drives %d devices, expected 1", bound);
  struct stat st;
  CHECK(stat("/dev/hvc0", &st) == 0 && S_ISCHR(st.st_mode), "/dev/hvc0 is not a character device");
  char active[128];
  read_text("/sys/class/tty/console/active", active, sizeof(active));
  printf("active consoles: %s; /dev/hvc0 is %u:%u\n", active, major(st.st_rdev), minor(st.st_rdev));
  CHECK(strstr(active, "hvc0") != NULL, "hvc0 is not an active console ('%s')", active);

  const char* nonce = cmdline_value("cella.nonce");
  CHECK(nonce != NULL, "the host passes cella.nonce");
  const int fd = open("/dev/hvc0", O_WRONLY | O_NOCTTY);
  CHECK(fd >= 0, "open /dev/hvc0: %s", strerror(errno));
  if (fd >= 0 && nonce != NULL) {
    char line[128];
    const int n = snprintf(line, sizeof(line), "hvc0-direct: %s\n", nonce);
    CHECK(write(fd, line, (size_t)n) == n, "write /dev/hvc0: %s", strerror(errno));
    CHECK(tcdrain(fd) == 0, "tcdrain /dev/hvc0: %s", strerror(errno));
  }
  if (fd >= 0) close(fd);
  return guest_result();
}
