// The descriptors SwiftNIO opens are close-on-exec from the moment they exist.
//
// SwiftNIO creates its event loops' epoll instances with epoll_create(128) and accepts with
// accept4(fd, NULL, NULL, SOCK_NONBLOCK), and offers no way to add EPOLL_CLOEXEC / SOCK_CLOEXEC
// or to reach a channel's descriptor afterwards. tesserad links these two definitions, which the
// static link resolves NIO's calls to (ahead of glibc's shared ones): each adds the flag and is
// otherwise the system call itself, errno included. Only the tesserad executable links this
// module; a program embedding TesseraServer keeps glibc's functions.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "CCloseOnExec.h"

int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) {
    return (int)syscall(SYS_accept4, fd, address, length, flags | SOCK_CLOEXEC);
}

int epoll_create(int size) {
    (void)size;  // ignored by the kernel since Linux 2.6.8, beyond being positive
    return (int)syscall(SYS_epoll_create1, EPOLL_CLOEXEC);
}

int tessera_mark_inherited_descriptors_close_on_exec(void) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) == 0) return 0;
#endif
    // Kernels before 5.11: every open descriptor, as /proc lists them.
    DIR *directory = opendir("/proc/self/fd");
    if (directory == NULL) return -1;
    int listing = dirfd(directory);
    struct dirent *entry;
    while ((entry = readdir(directory)) != NULL) {
        char *end;
        long fd = strtol(entry->d_name, &end, 10);
        if (*end != '\0' || end == entry->d_name || fd <= 2 || fd == listing) continue;
        int flags = fcntl((int)fd, F_GETFD);
        if (flags >= 0) fcntl((int)fd, F_SETFD, flags | FD_CLOEXEC);
    }
    closedir(directory);
    return 0;
}
