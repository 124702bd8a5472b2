#define _GNU_SOURCE
#include "pipe_size.h"

#include <errno.h>
#include <fcntl.h>

int milo_grow_pipe(int fd, int bytes) {
  int current = fcntl(fd, F_GETPIPE_SZ);
  if (current < 0) return -errno;
  if (current >= bytes) return current;
  int grown = fcntl(fd, F_SETPIPE_SZ, bytes);
  return grown < 0 ? -errno : grown;
}
