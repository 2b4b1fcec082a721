// An LD_PRELOAD shim that makes a store's "device" fail on demand, for tests/cli/mount_eio.sh
// (the fallback when no real faulty block device can be made, and the way to aim a fault at one
// step of a seal: the content, the commit log, or publication).
//
//   cc -shared -fPIC -O2 -o fault_shim.so tests/support/fault_shim.c -ldl
//   LEDGERFS_FAULT_DIR=/abs/store LEDGERFS_FAULT_TRIGGER=/abs/trigger LD_PRELOAD=./fault_shim.so ledgerfs ...
//
// While the file LEDGERFS_FAULT_TRIGGER exists, its first line says what fails:
//   ERRNO OPS [SUBSTRING]
//   ERRNO      EIO or ENOSPC
//   OPS        comma-separated: write (write, pwrite, pwrite64, writev, pwritev),
//              sync (fsync, fdatasync)
//   SUBSTRING  only files whose path contains it (e.g. .ledger/wal/, .ledger/staging/, tile/)
// Only descriptors whose path (/proc/self/fd) is under LEDGERFS_FAULT_DIR are affected; everything
// else (the FUSE device, the daemon's log, sockets) goes straight through. The shim fails the call
// without doing it: a failed write writes nothing, a failed fsync syncs nothing (the bytes written
// earlier are still in the page cache, as after a real fsync error on most filesystems).
// Each injected fault is appended to LEDGERFS_FAULT_LOG (if set) as "OP ERRNO PATH".
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum { kWrite = 1, kSync = 2 };

static ssize_t (*real_write)(int, const void*, size_t);
static ssize_t (*real_pwrite)(int, const void*, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void*, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec*, int);
static ssize_t (*real_pwritev)(int, const struct iovec*, int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

__attribute__((constructor)) static void init(void) {
  real_write = dlsym(RTLD_NEXT, "write");
  real_pwrite = dlsym(RTLD_NEXT, "pwrite");
  real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
  real_writev = dlsym(RTLD_NEXT, "writev");
  real_pwritev = dlsym(RTLD_NEXT, "pwritev");
  real_fsync = dlsym(RTLD_NEXT, "fsync");
  real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
}

// The errno to fail `op` on `fd` with, or 0 to let it through. Keeps errno intact.
static int fault_for(int fd, int op, const char* name) {
  const char* dir = getenv("LEDGERFS_FAULT_DIR");
  const char* trigger = getenv("LEDGERFS_FAULT_TRIGGER");
  if (dir == NULL || trigger == NULL || fd < 0) return 0;
  const int saved = errno;
  int result = 0;
  char line[512];
  int tfd = open(trigger, O_RDONLY | O_CLOEXEC);
  if (tfd < 0) goto out;
  ssize_t n = read(tfd, line, sizeof line - 1);
  close(tfd);
  if (n <= 0) goto out;
  line[n] = '\0';
  char* nl = strchr(line, '\n');
  if (nl) *nl = '\0';
  char err_name[32] = "", ops[64] = "", sub[400] = "";
  if (sscanf(line, "%31s %63s %399s", err_name, ops, sub) < 2) goto out;
  int err = strcmp(err_name, "EIO") == 0      ? EIO
            : strcmp(err_name, "ENOSPC") == 0 ? ENOSPC
                                              : 0;
  int want = (strstr(ops, "write") ? kWrite : 0) | (strstr(ops, "sync") ? kSync : 0);
  if (err == 0 || !(want & op)) goto out;
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t len = readlink(link, path, sizeof path - 1);
  if (len <= 0) goto out;
  path[len] = '\0';
  size_t dl = strlen(dir);
  if (strncmp(path, dir, dl) != 0 || (path[dl] != '/' && path[dl] != '\0')) goto out;
  if (sub[0] != '\0' && strstr(path, sub) == NULL) goto out;
  result = err;
  const char* log = getenv("LEDGERFS_FAULT_LOG");
  if (log != NULL) {
    int lfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (lfd >= 0) {
      char msg[4200];
      int m = snprintf(msg, sizeof msg, "%s %s %s\n", name, err_name, path);
      if (m > 0) real_write(lfd, msg, (size_t)m < sizeof msg ? (size_t)m : sizeof msg - 1);
      close(lfd);
    }
  }
out:
  errno = saved;
  return result;
}

#define FAIL_IF(fd, op, name)            \
  do {                                   \
    int e_ = fault_for((fd), (op), name); \
    if (e_ != 0) {                       \
      errno = e_;                        \
      return -1;                         \
    }                                    \
  } while (0)

ssize_t write(int fd, const void* buf, size_t n) {
  FAIL_IF(fd, kWrite, "write");
  return real_write(fd, buf, n);
}
ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
  FAIL_IF(fd, kWrite, "pwrite");
  return real_pwrite(fd, buf, n, off);
}
ssize_t pwrite64(int fd, const void* buf, size_t n, off_t off) {
  FAIL_IF(fd, kWrite, "pwrite64");
  return real_pwrite64(fd, buf, n, off);
}
ssize_t writev(int fd, const struct iovec* iov, int cnt) {
  FAIL_IF(fd, kWrite, "writev");
  return real_writev(fd, iov, cnt);
}
ssize_t pwritev(int fd, const struct iovec* iov, int cnt, off_t off) {
  FAIL_IF(fd, kWrite, "pwritev");
  return real_pwritev(fd, iov, cnt, off);
}
int fsync(int fd) {
  FAIL_IF(fd, kSync, "fsync");
  return real_fsync(fd);
}
int fdatasync(int fd) {
  FAIL_IF(fd, kSync, "fdatasync");
  return real_fdatasync(fd);
}
