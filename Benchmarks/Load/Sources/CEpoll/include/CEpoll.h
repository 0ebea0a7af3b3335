#ifndef C_EPOLL_H
#define C_EPOLL_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>

static inline int cepoll_accept(int fd) { return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }
#endif
