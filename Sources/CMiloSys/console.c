#define _GNU_SOURCE
#include "CMiloSys.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int milo_console_socket_listen(const char *path) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) return -ENAMETOOLONG;
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  unlink(path);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 1) != 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

int milo_console_socket_receive(int listen_fd, int timeout_ms, int abort_fd) {
  struct pollfd waiters[2] = {
      {.fd = listen_fd, .events = POLLIN},
      {.fd = abort_fd, .events = POLLIN},
  };
  int ready;
  do {
    ready = poll(waiters, abort_fd >= 0 ? 2 : 1, timeout_ms);
  } while (ready < 0 && errno == EINTR);
  if (ready == 0) return -ETIMEDOUT;
  if (ready < 0) return -errno;
  // The runtime exited (its pidfd is readable) without connecting.
  if (!(waiters[0].revents & POLLIN) && abort_fd >= 0 && waiters[1].revents) return -ECHILD;
  int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0) return -errno;
  char data[256];
  struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  ssize_t n;
  do {
    n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  int err = errno;
  close(conn);
  if (n < 0) return -err;
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  if (!cmsg || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) return -EBADMSG;
  int master;
  memcpy(&master, CMSG_DATA(cmsg), sizeof master);
  return master;
}

int milo_set_window_size(int fd, unsigned short rows, unsigned short cols) {
  struct winsize size = {.ws_row = rows, .ws_col = cols};
  return ioctl(fd, TIOCSWINSZ, &size) == 0 ? 0 : -errno;
}
