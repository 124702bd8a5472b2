#define _GNU_SOURCE
#include "CMiloSys.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

int milo_pidfd_open(pid_t pid) {
  long fd = syscall(SYS_pidfd_open, pid, 0);
  return fd < 0 ? -errno : (int)fd;
}

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

int milo_set_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1) == 0 ? 0 : -errno; }

int milo_wifexited(int status) { return WIFEXITED(status); }
int milo_wexitstatus(int status) { return WEXITSTATUS(status); }
int milo_wifsignaled(int status) { return WIFSIGNALED(status); }
int milo_wtermsig(int status) { return WTERMSIG(status); }

int milo_set_thread_name(const char *name) {
  char short_name[16];
  strncpy(short_name, name, sizeof short_name - 1);
  short_name[sizeof short_name - 1] = 0;
  return prctl(PR_SET_NAME, short_name) == 0 ? 0 : -errno;
}
