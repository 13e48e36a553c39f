/* smoke.c - a user's first program against the installed libmemview:
 * built with `pkg-config --cflags --libs memview`, it opens a core and
 * prints what one command renders through the write callback.
 *
 * Usage: smoke CORE EXE COMMAND ARGS-LINE */
#include <stdio.h>
#include <string.h>

#include <memview.h>

static int write_out(void *arg, const char *data, size_t len)
{
	size_t *total = arg;
	*total += len;
	return fwrite(data, 1, len, stdout) == len;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: smoke CORE EXE COMMAND ARGS-LINE\n");
		return 2;
	}
	struct mv_session *s;
	struct mv_error *err = mv_session_create(&s);
	if (err) {
		fprintf(stderr, "smoke: %s\n", mv_error_message(err));
		return 1;
	}
	size_t total = 0;
	mv_session_set_output(s, write_out, &total);
	err = mv_session_open_core(s, argv[1], argv[2]);
	if (!err)
		err = mv_session_run_line(s, argv[3], argv[4]);
	int status = 0;
	if (err) {
		fprintf(stderr, "smoke: %s\n", mv_error_message(err));
		mv_error_destroy(err);
		status = 1;
	} else if (!total) {
		fprintf(stderr, "smoke: the command wrote nothing\n");
		status = 1;
	}
	mv_session_destroy(s);
	fprintf(stderr, "smoke: libmemview %s, %zu bytes\n", MV_VERSION,
		total);
	return status;
}
