#ifndef CMILOSYS_H
#define CMILOSYS_H

#include <sys/types.h>

// MARK: spawn.c: starting processes

/// Options for `milo_spawn`.
typedef struct milo_spawn_options {
  /// Descriptors that become the child's 0, 1 and 2 (-1 opens /dev/null).
  int stdin_fd;
  int stdout_fd;
  int stderr_fd;
  /// Start the child in a new session (setsid), detached from the caller's terminal and group.
  int new_session;
  /// If non-NULL: enter a private mount namespace and lazily unmount this path before exec.
  /// Used to hide the cgroup2 mount of a hybrid hierarchy from an OCI runtime.
  const char *unmount_in_private_ns;
  /// If non-NULL: chdir here before exec.
  const char *working_dir;
  /// A descriptor that becomes the child's 3 (-1: none). Every other descriptor above 2 is closed.
  int pass_fd;
} milo_spawn_options;

/// Fork and exec `path` with `argv`/`envp` (NULL-terminated). Signal dispositions and the signal
/// mask are reset to defaults in the child and every descriptor above 2 is closed.
/// Returns the child's pid, or -errno when the fork or the exec failed (exec errors are reported
/// back through a close-on-exec pipe, so a missing binary is an error here, not a child exit).
pid_t milo_spawn(const char *path, char *const argv[], char *const envp[],
                 const milo_spawn_options *options);

// MARK: process.c: pidfds, reaping, wait statuses and thread names

/// pidfd_open(2); returns a descriptor or -errno.
int milo_pidfd_open(pid_t pid);

/// Queues `carrier` to the process behind `pidfd` with `value` as its payload (pidfd_send_signal
/// with SI_QUEUE). Returns 0 or -errno.
int milo_pidfd_queue_signal(int pidfd, int carrier, int value);

/// Sends a plain signal through a pidfd. Returns 0 or -errno.
int milo_pidfd_send_signal(int pidfd, int sig);

/// Marks the calling process as a child subreaper. Returns 0 or -errno.
int milo_set_subreaper(void);

/// Decoders for wait(2) status words (macros in C).
int milo_wifexited(int status);
int milo_wexitstatus(int status);
int milo_wifsignaled(int status);
int milo_wtermsig(int status);

/// Names the calling thread (its first 15 bytes), as `ps -L` and /proc show it. Returns 0 or
/// -errno.
int milo_set_thread_name(const char *name);

// MARK: signals.c: signalfds and recorded signals

/// Blocks `signals` for the calling thread and returns a non-blocking signalfd for them, or -errno.
int milo_signalfd_open(const int *signals, int count);

/// Reads the payload of a queued signal from a signalfd: returns the signal number and stores
/// the payload in *value (0 for plain signals); 0 when none is pending; -errno on error.
int milo_signalfd_read_value(int fd, int *value);

/// Installs a handler for `sig` that only records that it arrived.
void milo_install_flag_handler(int sig);

/// Returns 1 (and clears the record) if `sig` arrived since the last call, else 0.
int milo_take_signal_flag(int sig);

// MARK: files.c: pipes, file systems and byte search

/// pipe2(2) (a GNU extension Swift cannot see). Returns 0 or -errno.
int milo_pipe2(int fds[2], int flags);

/// Grows the kernel buffer of the pipe or FIFO behind `fd` to at least `bytes` (F_SETPIPE_SZ;
/// the kernel rounds up to a power-of-two number of pages). A pipe that is already as large is
/// left alone, so this never shrinks one. Returns the resulting size in bytes, or -errno (EPERM
/// above /proc/sys/fs/pipe-max-size for unprivileged callers, EBADF/EINVAL for a non-pipe).
int milo_grow_pipe(int fd, int bytes);

/// statfs(2)'s f_type for `path`, or -errno.
long milo_fs_type(const char *path);

/// memmem(3): where `needle` first occurs in `haystack`, or NULL (a GNU extension, not visible
/// to Swift without _GNU_SOURCE).
const void *milo_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);

// MARK: console.c: an OCI runtime's console socket and terminal size

/// Listens on a unix socket at `path` for an OCI runtime's `--console-socket`. Returns the
/// listening descriptor or -errno.
int milo_console_socket_listen(const char *path);

/// Accepts one connection on `listen_fd` (waiting at most `timeout_ms`) and receives the pty
/// master descriptor the runtime sends with SCM_RIGHTS. Returns it, or -errno: -ETIMEDOUT, or
/// -ECHILD when `abort_fd` (a pidfd of the runtime, or -1) became readable first because the
/// runtime exited without connecting.
int milo_console_socket_receive(int listen_fd, int timeout_ms, int abort_fd);

/// Sets a terminal's window size. Returns 0 or -errno.
int milo_set_window_size(int fd, unsigned short rows, unsigned short cols);

// MARK: memory.c: a long-lived helper's footprint

/// Drops the resident pages of the process's code mappings (its own and shared libraries')
/// and returns free heap to the system. Pages are faulted back in on use, so a long-lived helper
/// that runs a small loop keeps only what it touches. Writable mappings are left alone.
void milo_release_startup_memory(void);

#endif
