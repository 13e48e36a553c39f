/* help_man.h - the command table rendered for front ends beyond --help:
 * manual pages (help_man.c) and option lists (command_options.c). */
#ifndef MV_HELP_MAN_H
#define MV_HELP_MAN_H

#include "buf.h"
#include "command.h"

/* Every option of cmd, its own then the common ones (json, help), in the
 * order the parser tries them; returns how many (at most max). */
size_t mv_command_all_options(const struct mv_command *cmd,
			      const struct mv_option **ret, size_t max);

/* A manual page in troff (man(7) macros): section 1 is the memview
 * program, section 7 the gdb and lldb commands.  False for another
 * section. */
bool mv_commands_render_man(int section, struct mv_buf *out);

#endif
