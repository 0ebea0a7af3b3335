#ifndef C_EPOLL_H
#define C_EPOLL_H
// epoll(7), which Swift's Glibc module does not import, and accept4(2) for the transport floor.
// No _GNU_SOURCE here (it would make this module's system types differ from Glibc's):
// accept4 is defined in CEpoll.c.
#include <sys/epoll.h>

/// Accepts a connection non-blocking and close-on-exec; -1 and errno as accept4(2).
int cepoll_accept(int fd);
#endif
