// Thin wrappers over epoll(7), eventfd(2), accept4(2) and SO_PEERCRED for TesseraServer's
// socket loop (see CEventPoll.h).
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "CEventPoll.h"

int tessera_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int tessera_epoll_control(int epoll, int fd, int modify, int readable, int writable, uint64_t token) {
    struct epoll_event event = {0};
    event.events = (readable ? EPOLLIN | EPOLLRDHUP : 0) | (writable ? EPOLLOUT : 0);
    event.data.u64 = token;
    return epoll_ctl(epoll, modify ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event);
}

int tessera_epoll_remove(int epoll, int fd) { return epoll_ctl(epoll, EPOLL_CTL_DEL, fd, NULL); }

int tessera_epoll_wait(int epoll, tessera_epoll_ready *ready, int capacity, int timeout_ms) {
    struct epoll_event events[256];
    if (capacity > 256) capacity = 256;
    int count = epoll_wait(epoll, events, capacity, timeout_ms);
    if (count < 0) return errno == EINTR ? 0 : -1;
    for (int i = 0; i < count; i++) {
        ready[i].token = events[i].data.u64;
        ready[i].readable = (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
        ready[i].writable = (events[i].events & (EPOLLOUT | EPOLLERR)) != 0;
        ready[i].hangup = (events[i].events & (EPOLLHUP | EPOLLERR)) != 0;
    }
    return count;
}

int tessera_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

void tessera_eventfd_ring(int fd) {
    uint64_t one = 1;
    (void)!write(fd, &one, sizeof one);
}

void tessera_eventfd_drain(int fd) {
    uint64_t value;
    (void)!read(fd, &value, sizeof value);
}

int tessera_accept(int listener) { return accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

int tessera_peer_credentials(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    *pid = credentials.pid;
    *uid = credentials.uid;
    *gid = credentials.gid;
    return 0;
}
