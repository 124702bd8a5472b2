#define _GNU_SOURCE
#include "CMiloSys.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static void child_fail(int report_fd, int err) {
  int value = err;
  ssize_t ignored = write(report_fd, &value, sizeof value);
  (void)ignored;
  _exit(127);
}

/* Moves `fd` into slot `target`, opening /dev/null for -1. Only async-signal-safe calls. */
static int install_fd(int fd, int target, int flags) {
  if (fd < 0) {
    fd = open("/dev/null", flags);
    if (fd < 0) return -1;
  }
  if (fd == target) {
    int f = fcntl(fd, F_GETFD);
    return f < 0 ? -1 : fcntl(fd, F_SETFD, f & ~FD_CLOEXEC);
  }
  return dup2(fd, target) < 0 ? -1 : 0;
}

pid_t milo_spawn(const char *path, char *const argv[], char *const envp[],
                 const milo_spawn_options *o) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return -errno;

  /* Descriptors that will be dup'ed must not collide with 0..2 of the child in a way that
     clobbers a later source: move sources above 2 first. */
  int srcs[3] = {o->stdin_fd, o->stdout_fd, o->stderr_fd};

  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(report[0]);
    close(report[1]);
    return -err;
  }
  if (pid == 0) {
    for (int sig = 1; sig < NSIG; sig++) {
      if (sig == SIGKILL || sig == SIGSTOP) continue;
      signal(sig, SIG_DFL);
    }
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);

    if (o->new_session && setsid() < 0) child_fail(report[1], errno);

    for (int i = 0; i < 3; i++) {
      if (srcs[i] >= 0 && srcs[i] <= 2) {
        int moved = fcntl(srcs[i], F_DUPFD_CLOEXEC, 3);
        if (moved < 0) child_fail(report[1], errno);
        srcs[i] = moved;
      }
    }
    /* Keep the report pipe and the passed descriptor clear of 0..3 while they are rearranged. */
    int report_fd = report[1];
    if (report_fd <= 3) {
      report_fd = fcntl(report_fd, F_DUPFD_CLOEXEC, 4);
      if (report_fd < 0) child_fail(report[1], errno);
    }
    int pass = o->pass_fd;
    if (pass >= 0 && pass <= 3) {
      pass = fcntl(pass, F_DUPFD_CLOEXEC, 4);
      if (pass < 0) child_fail(report_fd, errno);
    }
    if (install_fd(srcs[0], 0, O_RDONLY) != 0) child_fail(report_fd, errno);
    if (install_fd(srcs[1], 1, O_WRONLY) != 0) child_fail(report_fd, errno);
    if (install_fd(srcs[2], 2, O_WRONLY) != 0) child_fail(report_fd, errno);
    int first_closed = 3;
    if (pass >= 0) {
      if (dup2(pass, 3) < 0) child_fail(report_fd, errno);
      first_closed = 4;
    }

    /* Close everything else except the report pipe (which is close-on-exec). */
    if (report_fd > first_closed) syscall(SYS_close_range, first_closed, report_fd - 1, 0);
    syscall(SYS_close_range, report_fd + 1, ~0U, 0);

    if (o->unmount_in_private_ns) {
      if (unshare(CLONE_NEWNS) != 0) child_fail(report_fd, errno);
      if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) child_fail(report_fd, errno);
      if (umount2(o->unmount_in_private_ns, MNT_DETACH) != 0 && errno != EINVAL &&
          errno != ENOENT)
        child_fail(report_fd, errno);
    }
    if (o->working_dir && chdir(o->working_dir) != 0) child_fail(report_fd, errno);

    execve(path, argv, envp);
    child_fail(report_fd, errno);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  close(report[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(report[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n == (ssize_t)sizeof child_errno) {
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return -child_errno;
  }
  return pid;
}

int milo_pidfd_open(pid_t pid) {
  long fd = syscall(SYS_pidfd_open, pid, 0);
  return fd < 0 ? -errno : (int)fd;
}

int milo_set_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1) == 0 ? 0 : -errno; }

int milo_set_parent_death_signal(int sig) {
  return prctl(PR_SET_PDEATHSIG, sig) == 0 ? 0 : -errno;
}

int milo_wifexited(int status) { return WIFEXITED(status); }
int milo_wexitstatus(int status) { return WEXITSTATUS(status); }
int milo_wifsignaled(int status) { return WIFSIGNALED(status); }
int milo_wtermsig(int status) { return WTERMSIG(status); }
int milo_wcoredump(int status) { return WCOREDUMP(status); }

#include <sys/signalfd.h>

int milo_signalfd_open(const int *signals, int count) {
  sigset_t set;
  sigemptyset(&set);
  for (int i = 0; i < count; i++) sigaddset(&set, signals[i]);
  if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return -errno;
  int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

int milo_signalfd_read(int fd) {
  struct signalfd_siginfo info;
  ssize_t n = read(fd, &info, sizeof info);
  if (n == (ssize_t)sizeof info) return (int)info.ssi_signo;
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  return n < 0 ? -errno : 0;
}

static volatile sig_atomic_t milo_signal_flags[65];

static void milo_flag_handler(int sig) {
  if (sig > 0 && sig < 65) milo_signal_flags[sig] = 1;
}

void milo_install_flag_handler(int sig) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = milo_flag_handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(sig, &action, NULL);
}

int milo_take_signal_flag(int sig) {
  if (sig <= 0 || sig >= 65 || !milo_signal_flags[sig]) return 0;
  milo_signal_flags[sig] = 0;
  return 1;
}

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

int milo_pidfd_queue_signal(int pidfd, int carrier, int value) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  info.si_signo = carrier;
  info.si_code = SI_QUEUE;
  info.si_pid = getpid();
  info.si_uid = getuid();
  info.si_value.sival_int = value;
  return syscall(SYS_pidfd_send_signal, pidfd, carrier, &info, 0) == 0 ? 0 : -errno;
}

int milo_pidfd_send_signal(int pidfd, int sig) {
  return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) == 0 ? 0 : -errno;
}

int milo_signalfd_read_value(int fd, int *value) {
  struct signalfd_siginfo info;
  ssize_t n = read(fd, &info, sizeof info);
  if (n == (ssize_t)sizeof info) {
    *value = info.ssi_code == SI_QUEUE ? info.ssi_int : 0;
    return (int)info.ssi_signo;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  return n < 0 ? -errno : 0;
}

int milo_pipe2(int fds[2], int flags) { return pipe2(fds, flags) == 0 ? 0 : -errno; }

long milo_fs_type(const char *path) {
  struct statfs info;
  return statfs(path, &info) == 0 ? (long)info.f_type : -errno;
}
