/* A static probe run inside containers by security.test.ts (busybox lacks
 * these calls). Each mode makes one call and prints "ok" or the errno name.
 *   probe unshare-user | add-key | keyctl-read <serial> | perf | clone-newns |
 *         mknod-open <path> <major> <minor> | open <path> | euid |
 *         host-key <description> <payload> (prints the serial) | revoke <serial>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int report(long rc) {
  if (rc < 0) {
    printf("%s\n", strerrorname_np(errno));
    return 1;
  }
  printf("ok\n");
  return 0;
}

int main(int argc, char **argv) {
  const char *m = argc > 1 ? argv[1] : "";
  if (!strcmp(m, "unshare-user")) return report(unshare(CLONE_NEWUSER));
  if (!strcmp(m, "clone-newns")) return report(unshare(CLONE_NEWNS));
  if (!strcmp(m, "add-key")) return report(syscall(SYS_add_key, "user", "ctr-probe", "x", 1, -2 /* KEY_SPEC_PROCESS_KEYRING */));
  if (!strcmp(m, "keyctl-read") && argc > 2) {
    char buf[256] = {0};
    long n = syscall(SYS_keyctl, 11 /* KEYCTL_READ */, strtol(argv[2], 0, 10), buf, sizeof buf - 1);
    if (n >= 0) printf("read:%s\n", buf);
    return report(n);
  }
  if (!strcmp(m, "host-key") && argc > 3) {
    long k = syscall(SYS_add_key, "user", argv[2], argv[3], strlen(argv[3]), -4 /* KEY_SPEC_USER_KEYRING */);
    if (k < 0) return report(k);
    printf("%ld\n", k);
    return 0;
  }
  if (!strcmp(m, "revoke") && argc > 2) return report(syscall(SYS_keyctl, 3 /* KEYCTL_REVOKE */, strtol(argv[2], 0, 10)));
  if (!strcmp(m, "perf")) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_CPU_CLOCK;
    a.exclude_kernel = 1;
    return report(syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
  }
  if (!strcmp(m, "mknod-open") && argc > 4) {
    if (mknod(argv[2], S_IFBLK | 0600, makedev(atoi(argv[3]), atoi(argv[4]))) < 0) {
      printf("mknod:");
      return report(-1);
    }
    printf("mknod:ok open:");
    return report(open(argv[2], O_RDONLY));
  }
  if (!strcmp(m, "open") && argc > 2) return report(open(argv[2], O_RDONLY));
  if (!strcmp(m, "euid")) {
    printf("%d\n", geteuid());
    return 0;
  }
  fprintf(stderr, "probe: unknown mode %s\n", m);
  return 2;
}
