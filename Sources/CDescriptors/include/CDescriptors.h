#ifndef TESSERA_CDESCRIPTORS_H
#define TESSERA_CDESCRIPTORS_H

#include <stddef.h>

/// Marks every descriptor above 2 that the process inherited close-on-exec (close_range, or
/// /proc/self/fd on kernels before 5.11). 0 on success, -1 when /proc cannot be listed.
int tessera_mark_inherited_descriptors_close_on_exec(void);

/// Prepares shedding at the descriptor limit: keeps one spare descriptor open and a copy of
/// `message` (the frame a shed connection receives before it is closed). Call once at start,
/// before serving; it also keeps this module (its accept4 and epoll_create) in tesserad's link.
/// 0 on success, -1 when the spare descriptor or the copy cannot be had.
int tessera_prepare_descriptor_shedding(const unsigned char *message, size_t length);

/// Connections shed at the descriptor limit so far.
unsigned long tessera_connections_shed(void);

#endif
