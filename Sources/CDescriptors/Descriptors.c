// tesserad's own descriptors: whatever the process inherited is marked close-on-exec at start, so
// nothing passes on to a program it starts. (Every descriptor tesserad opens itself is
// close-on-exec from the moment it exists: CEventPoll's epoll set, eventfd and accepted sockets,
// LMDB's files and the log all ask for it.)
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "CDescriptors.h"

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
