/* file.h - files a command reads or writes at the user's word: opened so
 * that they can never block the debugger (a FIFO without a reader, a
 * device that never ends) nor be turned against the user (a symbolic
 * link planted in a world-writable sticky directory such as /tmp).
 *
 * Layering: base (error only). */
#ifndef MV_FILE_H
#define MV_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "memview.h"

/* An output file the user named (--output, --binary, --dot, --svg, graph's
 * JSON), opened before the command does its work so that a refusal
 * costs nothing. */
struct mv_outfile {
	FILE *f;
	const char *path;  /* the caller's string, not copied */
	const char *what;  /* the option, for messages */
	bool created;      /* did not exist: removed if the command fails */
};

/* Opens path for writing.  A regular file that exists and is not empty
 * is refused unless force ("--force writes over it"): the user's data is
 * never replaced by accident; an empty one, a character device
 * (/dev/null, a terminal) or a FIFO with a reader now is written.  A FIFO
 * without a reader is refused (opening it would block), a symbolic link
 * in a world-writable sticky directory is not followed, anything else
 * (a directory, a socket) is refused.  what names the option in the
 * one-line error. */
struct mv_error *mv_outfile_open(struct mv_outfile *o, const char *path,
				 const char *what, bool force);
/* Writes len bytes; an error naming the file if they did not all go. */
struct mv_error *mv_outfile_write(struct mv_outfile *o, const void *data,
				  size_t len);
/* Closes o (if open).  ok: the command succeeded, and a failed close (a
 * full disk) is its error.  !ok: a file this command created is removed
 * again, so a failed command leaves nothing half-written behind. */
struct mv_error *mv_outfile_close(struct mv_outfile *o, bool ok);

/* Reads a regular file of at most max bytes whole, NUL-terminated
 * (the caller frees *ret).  Anything else (a FIFO, /dev/zero, a
 * directory, a bigger file) is refused without blocking. */
struct mv_error *mv_file_read_small(const char *path, const char *what,
				    size_t max, char **ret, size_t *len);

#endif
