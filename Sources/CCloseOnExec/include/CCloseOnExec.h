#ifndef TESSERA_CCLOSEONEXEC_H
#define TESSERA_CCLOSEONEXEC_H

/// Marks every descriptor above 2 that the process inherited close-on-exec (close_range, or
/// /proc/self/fd on kernels before 5.11). Called first thing at start, which also keeps this
/// module (its accept4 and epoll_create) in tesserad's link. 0 on success, -1 when /proc
/// cannot be listed.
int tessera_mark_inherited_descriptors_close_on_exec(void);

#endif
