/* file.h - files a command reads or writes at the user's word: opened so
 * that they can never block the debugger (a FIFO without a reader, a
 * device that never ends) nor be turned against the user (a symbolic
 * link planted in a world-writable sticky directory such as /tmp).
 *
 * Layering: base (error only). */
#ifndef MV_FILE_H
#define MV_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "memview.h"

/* Opens path for writing ("w" semantics: created or truncated).  A FIFO
 * is taken only if a reader is there now; a symbolic link in a
 * world-writable sticky directory is not followed; what is neither a
 * regular file, a FIFO nor a character device (/dev/null, a terminal)
 * is refused.  what names the option in the one-line error. */
struct mv_error *mv_file_create(const char *path, const char *what,
				FILE **ret);

/* Reads a regular file of at most max bytes whole, NUL-terminated
 * (the caller frees *ret).  Anything else (a FIFO, /dev/zero, a
 * directory, a bigger file) is refused without blocking. */
struct mv_error *mv_file_read_small(const char *path, const char *what,
				    size_t max, char **ret, size_t *len);

#endif
