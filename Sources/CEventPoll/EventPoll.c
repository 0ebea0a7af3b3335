// Thin wrappers over epoll(7), eventfd(2), accept4(2), SO_PEERCRED and SO_PEERGROUPS for TesseraServer's
// socket loop (see CEventPoll.h), and the accept that sheds a queued connection when the process
// is out of descriptors.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/fsuid.h>
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

// Out of descriptors (EMFILE, ENFILE), accept fails but the connection stays queued and the
// listening socket stays readable: the connection would hang until a descriptor frees up. Once
// shedding is prepared, a failed accept frees the spare descriptor, accepts the queued
// connection, sends it the prepared frame (`busy`, retry later), closes it and takes the spare
// back, then reports the failure as before. Each failure sheds one queued connection; the socket
// loop calls again until the queue is empty (EAGAIN). (The daemon also caps its connections below
// the descriptor limit, so this is the second line: descriptors taken by something else, or the
// system-wide limit.) Called only from the socket loop that owns the listening socket: one thread.
static int spare = -1;
static unsigned char *shed_message = NULL;
static size_t shed_length = 0;

static int open_spare(void) { return open("/dev/null", O_RDONLY | O_CLOEXEC); }

int tessera_prepare_descriptor_shedding(const unsigned char *message, size_t length) {
    unsigned char *copy = malloc(length);
    if (copy == NULL) return -1;
    memcpy(copy, message, length);
    free(shed_message);
    shed_message = copy;
    shed_length = length;
    if (spare < 0) spare = open_spare();
    return spare >= 0 ? 0 : -1;
}

int tessera_accept(int listener) {
    int accepted = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (accepted >= 0) {
        if (spare < 0 && shed_message != NULL) spare = open_spare();
        return accepted;
    }
    int error = errno;
    if ((error == EMFILE || error == ENFILE) && spare >= 0 && shed_message != NULL) {
        close(spare);
        spare = -1;
        int shed = accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (shed >= 0) {
            (void)send(shed, shed_message, shed_length, MSG_NOSIGNAL | MSG_DONTWAIT);
            close(shed);
        }
        spare = open_spare();
    }
    errno = error;
    return -1;
}

int tessera_peer_credentials(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    *pid = credentials.pid;
    *uid = credentials.uid;
    *gid = credentials.gid;
    return 0;
}

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

int tessera_peer_groups(int fd, uint32_t *groups, int capacity) {
    socklen_t length = (socklen_t)(capacity < 0 ? 0 : capacity) * (socklen_t)sizeof(gid_t);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &length) != 0) {
        if (errno != ERANGE) return -1;
    }
    return (int)(length / sizeof(gid_t));
}

uint32_t tessera_set_filesystem_gid(uint32_t gid) { return (uint32_t)setfsgid((gid_t)gid); }
