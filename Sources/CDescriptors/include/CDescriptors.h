#ifndef TESSERA_CDESCRIPTORS_H
#define TESSERA_CDESCRIPTORS_H

#include <stddef.h>

/// Marks every descriptor above 2 that the process inherited close-on-exec (close_range, or
/// /proc/self/fd on kernels before 5.11). 0 on success, -1 when /proc cannot be listed.
int tessera_mark_inherited_descriptors_close_on_exec(void);

#endif
