// tesserad's descriptors: close-on-exec from the moment they exist, and no busy loop when the
// process runs out of them.
//
// tesserad links the two definitions below, which the static link resolves calls to ahead of
// glibc's shared ones: accept4 (the socket loop's, through CEventPoll's tessera_accept) and
// epoll_create (any library that still asks for an epoll set without EPOLL_CLOEXEC). Both add
// the close-on-exec flag. Only the tesserad executable links this module; a program embedding
// TesseraServer keeps glibc's functions.
//
// Out of descriptors (EMFILE, ENFILE), accept fails but the connection stays queued and the
// listening socket stays readable: the connection would hang until a descriptor frees up. So on
// that failure accept4 frees its spare descriptor, accepts the queued connection, sends it the
// prepared frame (`busy`, retry later), closes it and takes the spare back, then reports the
// failure as before. Each failure sheds one queued connection; the socket loop calls again until
// the queue is empty (EAGAIN), and pauses accepting for a second only if failures go on. (The
// daemon also caps its connections below the descriptor limit, so this is the second line:
// descriptors taken by something else, or the system-wide limit.)
//
// accept4 is called only from the socket loop that owns the listening socket: one thread.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "CDescriptors.h"

static int spare = -1;
static unsigned char *shed_message = NULL;
static size_t shed_length = 0;
static unsigned long shed_count = 0;

static int open_spare(void) { return open("/dev/null", O_RDONLY | O_CLOEXEC); }

int tessera_prepare_descriptor_shedding(const unsigned char *message, size_t length) {
    shed_message = malloc(length);
    if (shed_message == NULL) return -1;
    memcpy(shed_message, message, length);
    shed_length = length;
    spare = open_spare();
    return spare >= 0 ? 0 : -1;
}

unsigned long tessera_connections_shed(void) { return __atomic_load_n(&shed_count, __ATOMIC_RELAXED); }

int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) {
    int accepted = (int)syscall(SYS_accept4, fd, address, length, flags | SOCK_CLOEXEC);
    if (accepted >= 0) {
        if (spare < 0 && shed_message != NULL) spare = open_spare();
        return accepted;
    }
    int error = errno;
    if ((error == EMFILE || error == ENFILE) && spare >= 0) {
        close(spare);
        spare = -1;
        int shed = (int)syscall(SYS_accept4, fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (shed >= 0) {
            (void)send(shed, shed_message, shed_length, MSG_NOSIGNAL | MSG_DONTWAIT);
            close(shed);
            __atomic_add_fetch(&shed_count, 1, __ATOMIC_RELAXED);
        }
        spare = open_spare();
    }
    errno = error;
    return -1;
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
