#ifndef TESSERA_CEVENTPOLL_H
#define TESSERA_CEVENTPOLL_H

// What the daemon's socket needs from Linux that Swift's Glibc module does not import:
// epoll(7), eventfd(2), accept4(2), SO_PEERCRED, SO_PEERGROUPS and setfsgid(2) (the socket
// file's group at bind). Imported by TesseraServer alone.

#include <stddef.h>
#include <stdint.h>

/// An epoll set, close-on-exec. -1 and errno on failure.
int tessera_epoll_create(void);
/// Adds `fd` to `epoll` (`modify`: changes it) watching `readable` and/or `writable`, with
/// `token` handed back by tessera_epoll_wait. 0, or -1 and errno.
int tessera_epoll_control(int epoll, int fd, int modify, int readable, int writable, uint64_t token);
/// Removes `fd` from `epoll`.
int tessera_epoll_remove(int epoll, int fd);

/// One ready descriptor: its token, and what it is ready for.
typedef struct {
    uint64_t token;
    uint8_t readable;
    uint8_t writable;
    uint8_t hangup;
} tessera_epoll_ready;

/// Waits up to `timeout_ms` (-1: forever) for at most `capacity` ready descriptors; returns
/// how many (0 on timeout or EINTR), or -1 and errno.
int tessera_epoll_wait(int epoll, tessera_epoll_ready *ready, int capacity, int timeout_ms);

/// A non-blocking, close-on-exec eventfd (the loop's doorbell).
int tessera_eventfd(void);
/// Rings it (one 8-byte write); drains it (one 8-byte read). Both ignore EAGAIN.
void tessera_eventfd_ring(int fd);
void tessera_eventfd_drain(int fd);

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC. Out of descriptors, once shedding is prepared, it
/// sheds one queued connection (the prepared frame, then a close) and still fails with the
/// original errno.
int tessera_accept(int listener);

/// Prepares shedding at the descriptor limit: keeps one spare descriptor open and a copy of
/// `message` (the frame a shed connection receives before it is closed). 0 on success, -1 when
/// the spare descriptor or the copy cannot be had.
int tessera_prepare_descriptor_shedding(const unsigned char *message, size_t length);

/// The peer's credentials (SO_PEERCRED). 0, or -1 and errno.
int tessera_peer_credentials(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid);

/// The peer's supplementary groups as they were when it connected (SO_PEERGROUPS, Linux 4.13):
/// at most `capacity` into `groups`. The number of groups (which may exceed `capacity`: call
/// again with room for that many), or -1 and errno (ENOPROTOOPT where the kernel lacks it).
int tessera_peer_groups(int fd, uint32_t *groups, int capacity);

/// Sets the calling thread's file-system gid (the group of the files it creates), setfsgid(2).
/// Answers the previous one; the change took when a second call with the same `gid` answers it.
uint32_t tessera_set_filesystem_gid(uint32_t gid);

#endif
