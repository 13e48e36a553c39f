/* main.c - the standalone memview program: every command as a
 * subcommand, over a core dump, a live process, or an executable alone. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "command.h"
#include "memview.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int poll_interrupt(void)
{
	return interrupted;
}

static int write_stdout(void *arg, const char *data, size_t len)
{
	(void)arg;
	return fwrite(data, 1, len, stdout) == len;
}

static const char usage[] =
	"Usage: memview [--core FILE [--exe FILE] | --pid PID | --exe FILE] "
	"COMMAND [ARGS...]\n"
	"       memview help [COMMAND | --markdown]\n"
	"       memview --version\n"
	"\n"
	"Inspect the memory of a core dump or a stopped process: views,\n"
	"layouts, deep sizes, object graphs, leaks and cycles.\n"
	"\n"
	"Commands:\n";

static void print_usage(FILE *f)
{
	fputs(usage, f);
	for (const struct mv_command *const *cp = mv_commands; *cp; cp++)
		fprintf(f, "  %-12s %s\n", (*cp)->name, (*cp)->summary);
	fputs("\nRun 'memview help COMMAND' for a command's options.\n", f);
}

static int cmd_help(int argc, char **argv)
{
	struct mv_buf b;
	mv_buf_init(&b);
	if (argc < 2) {
		print_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--markdown")) {
		mv_commands_render_markdown(&b);
	} else {
		const struct mv_command *c = mv_command_find(argv[1]);
		if (!c) {
			fprintf(stderr, "memview: unknown command '%s'\n", argv[1]);
			return 2;
		}
		mv_command_render_help(c, "memview", &b);
	}
	if (b.data)
		fputs(b.data, stdout);
	mv_buf_deinit(&b);
	return 0;
}

int main(int argc, char **argv)
{
	const char *core = NULL, *exe = NULL;
	int pid = 0;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--version")) {
			printf("memview %s\n", MV_VERSION);
			return 0;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			print_usage(stdout);
			return 0;
		} else if ((!strcmp(a, "--core") || !strcmp(a, "--exe") ||
			    !strcmp(a, "--pid")) && i + 1 < argc) {
			const char *v = argv[++i];
			if (a[2] == 'c') {
				core = v;
			} else if (a[2] == 'e') {
				exe = v;
			} else {
				char *end;
				long p = strtol(v, &end, 10);
				if (*end || p <= 0 || p > 0x7fffffff) {
					fprintf(stderr, "memview: --pid expects a "
							"process id, not '%s'\n", v);
					return 2;
				}
				pid = (int)p;
			}
		} else {
			fprintf(stderr, "memview: unknown or incomplete option "
					"'%s' (see --help)\n", a);
			return 2;
		}
	}
	if (i >= argc) {
		print_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "help"))
		return cmd_help(argc - i, argv + i);
	if (!mv_command_find(argv[i])) {
		fprintf(stderr, "memview: unknown command '%s' (see --help)\n",
			argv[i]);
		return 2;
	}
	if (core && pid) {
		fprintf(stderr, "memview: give --core or --pid, not both\n");
		return 2;
	}

	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);

	struct mv_session *s;
	struct mv_error *err = mv_session_create(&s);
	if (!err) {
		mv_session_set_output(s, write_stdout, NULL);
		mv_session_set_poll(s, poll_interrupt);
		mv_session_set_frontend(s, "memview");
		mv_session_set_terminal(s, isatty(1) ? 80 : 0, false);
		if (core)
			err = mv_session_open_core(s, core, exe);
		else if (pid)
			err = mv_session_open_pid(s, pid);
		else if (exe)
			err = mv_session_add_objfile(s, exe, 0);
	}
	if (!err)
		err = mv_session_run(s, argc - i, (const char *const *)argv + i);
	fflush(stdout);
	int status = 0;
	if (err) {
		enum mv_error_code code = mv_error_code(err);
		if (code == MV_ERR_INTERRUPTED && interrupted)
			fprintf(stderr, "memview: interrupted\n");
		else
			fprintf(stderr, "memview: %s\n", mv_error_message(err));
		status = code == MV_ERR_USAGE ? 2 : code == MV_ERR_INTERRUPTED ? 130 : 1;
		mv_error_destroy(err);
	}
	mv_session_destroy(s);
	return status;
}
