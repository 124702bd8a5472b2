#ifndef CMILOSYS_PIPE_SIZE_H
#define CMILOSYS_PIPE_SIZE_H

/// Grows the kernel buffer of the pipe or FIFO behind `fd` to at least `bytes` (F_SETPIPE_SZ;
/// the kernel rounds up to a power-of-two number of pages). A pipe that is already as large is
/// left alone, so this never shrinks one. Returns the resulting size in bytes, or -errno (EPERM
/// above /proc/sys/fs/pipe-max-size for unprivileged callers, EBADF/EINVAL for a non-pipe).
int milo_grow_pipe(int fd, int bytes);

#endif
