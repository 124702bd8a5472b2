#define _GNU_SOURCE
#include "CMiloSys.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

int milo_signalfd_open(const int *signals, int count) {
  sigset_t set;
  sigemptyset(&set);
  for (int i = 0; i < count; i++) sigaddset(&set, signals[i]);
  int rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
  if (rc != 0) return -rc;
  int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  return fd < 0 ? -errno : fd;
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
