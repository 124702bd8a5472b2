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
