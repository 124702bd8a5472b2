#define _GNU_SOURCE
#include "CMiloSys.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

int milo_pipe2(int fds[2], int flags) { return pipe2(fds, flags) == 0 ? 0 : -errno; }

int milo_grow_pipe(int fd, int bytes) {
  int current = fcntl(fd, F_GETPIPE_SZ);
  if (current < 0) return -errno;
  if (current >= bytes) return current;
  int grown = fcntl(fd, F_SETPIPE_SZ, bytes);
  return grown < 0 ? -errno : grown;
}

long milo_fs_type(const char *path) {
  struct statfs info;
  return statfs(path, &info) == 0 ? (long)info.f_type : -errno;
}

const void *milo_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len) {
  return memmem(haystack, haystack_len, needle, needle_len);
}
