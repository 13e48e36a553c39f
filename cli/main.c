/* main.c - the standalone memview program: every command as a
 * subcommand, over a core dump, a live process, or an executable alone. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "command.h"
#include "help_man.h"
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


static const char usage[] =
	"Usage: memview [--core FILE [--exe FILE] | --pid PID | --exe FILE] "
	"[--SETTING VALUE...] COMMAND [ARGS...]\n"
	"       memview help [COMMAND | --markdown | --man 1|7]\n"
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
	fputs("\nSettings (defaults for every command that has the option):\n",
	      f);
	for (const char *const *n = mv_setting_names(); *n; n++)
		fprintf(f, "  --%-12s %s\n", *n, mv_setting_help(*n));
	fputs("\nRun 'memview help COMMAND' for a command's options.\n", f);
}

/* Progress on stderr, only when it is a terminal, after a second, four
 * times a second at most, with numbers as people read them (1.2G);
 * cleared before the answer is written and when the command ends. */
struct progress {
	struct timespec start, last;
	bool shown;
};

static double seconds_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) +
	       (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* 1234567 -> "1.2M", as the plugins print it. */
static const char *human(double n, char *buf, size_t size)
{
	static const char units[] = "KMGTP";
	if (n < 1000) {
		snprintf(buf, size, "%.0f", n);
		return buf;
	}
	size_t u = 0;
	for (n /= 1000; n >= 1000 && u + 1 < sizeof(units) - 1; u++)
		n /= 1000;
	snprintf(buf, size, "%.1f%c", n, units[u]);
	return buf;
}

static void show_progress(void *arg, const char *what, uint64_t done,
			  uint64_t total)
{
	struct progress *p = arg;
	double elapsed = seconds_since(&p->start);
	if (elapsed < 1.0 || (p->shown && seconds_since(&p->last) < 0.25))
		return;
	clock_gettime(CLOCK_MONOTONIC, &p->last);
	char d[16], t[16], r[16];
	human((double)done, d, sizeof(d));
	human((double)done / elapsed, r, sizeof(r));
	if (total)
		fprintf(stderr, "\r\033[Kmemview: %s/%s %s (%llu%%), %s/s", d,
			human((double)total, t, sizeof(t)), what,
			(unsigned long long)(done * 100.0 / (double)total), r);
	else
		fprintf(stderr, "\r\033[Kmemview: %s %s, %s/s", d, what, r);
	fflush(stderr);
	p->shown = true;
}

static void end_progress(struct progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = false;
}

static int write_stdout(void *arg, const char *data, size_t len)
{
	/* The answer never runs into a progress line on the same
	 * terminal. */
	end_progress(arg);
	return fwrite(data, 1, len, stdout) == len;
}

/* --SETTING VALUE before the command: true if a is one (consumed). */
static int take_setting(const char *a, const char *value,
			struct mv_buf *defaults, const char **color,
			int *width)
{
	const char *kind = mv_setting_kind(a + 2);
	if (strncmp(a, "--", 2) || !kind)
		return 0;
	if (!value) {
		fprintf(stderr, "memview: %s needs a value (%s)\n", a, kind);
		return -1;
	}
	struct mv_error *err = mv_setting_check(a + 2, value);
	if (err) {
		fprintf(stderr, "memview: %s\n", mv_error_message(err));
		mv_error_destroy(err);
		return -1;
	}
	if (!strcmp(a + 2, "color"))
		*color = value;
	else if (!strcmp(a + 2, "width"))
		*width = atoi(value);
	else if (!strcmp(kind, "bool")) {
		if (!strcmp(value, "on"))
			mv_buf_printf(defaults, " %s", a);
	} else if (*value) {
		mv_buf_printf(defaults, " %s=%s", a, value);
	}
	return 1;
}

static int terminal_width(void)
{
	struct winsize ws;
	if (!ioctl(1, TIOCGWINSZ, &ws) && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
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
	} else if (!strcmp(argv[1], "--man")) {
		if (argc < 3 || !mv_commands_render_man(atoi(argv[2]), &b)) {
			fprintf(stderr, "memview: help --man takes 1 (the "
					"program) or 7 (the debugger commands)\n");
			mv_buf_deinit(&b);
			return 2;
		}
	} else {
		const struct mv_command *c = mv_command_find(argv[1]);
		if (!c) {
			const char *near = mv_command_suggest(argv[1], "memview");
			fprintf(stderr, "memview: unknown command '%s'%s%s%s\n",
				argv[1], near ? "; did you mean '" : "",
				near ? near : "", near ? "'?" : "");
			return 2;
		}
		mv_command_render_help(c, "memview", &b);
	}
	/* Help on a terminal fits it, as commands' output does (markdown
	 * and man pages are for files). */
	struct mv_buf folded;
	mv_buf_init(&folded);
	bool for_files = !strcmp(argv[1], "--markdown") ||
			 !strcmp(argv[1], "--man");
	if (b.data && isatty(1) && !for_files)
		mv_buf_fold(&folded, b.data, b.len, (unsigned)terminal_width());
	if (folded.data)
		fputs(folded.data, stdout);
	else if (b.data)
		fputs(b.data, stdout);
	mv_buf_deinit(&folded);
	mv_buf_deinit(&b);
	return 0;
}

int main(int argc, char **argv)
{
	const char *core = NULL, *exe = NULL, *color = "auto";
	int pid = 0, width = 0, status = 0;
	struct mv_buf defaults;
	mv_buf_init(&defaults);
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
		} else if ((status = take_setting(a, i + 1 < argc ? argv[i + 1]
								 : NULL,
						  &defaults, &color, &width))) {
			if (status < 0) {
				mv_buf_deinit(&defaults);
				return 2;
			}
			status = 0;
			i++;
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
		const char *near = mv_command_suggest(argv[i], "memview");
		if (near)
			fprintf(stderr, "memview: unknown command '%s'; did you "
					"mean '%s'?\n", argv[i], near);
		else
			fprintf(stderr, "memview: unknown command '%s' (see "
					"--help)\n", argv[i]);
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

	struct progress progress;
	memset(&progress, 0, sizeof(progress));
	struct mv_session *s;
	struct mv_error *err = mv_session_create(&s);
	if (!err) {
		mv_session_set_output(s, write_stdout, &progress);
		mv_session_set_poll(s, poll_interrupt);
		mv_session_set_frontend(s, "memview");
		bool tty = isatty(1);
		mv_session_set_terminal(s, width ? width : tty ? terminal_width()
							       : 0,
					!strcmp(color, "on") ||
						(!strcmp(color, "auto") && tty &&
						 !getenv("NO_COLOR")));
		if (isatty(2))
			mv_session_set_progress(s, show_progress, &progress);
		if (core)
			err = mv_session_open_core(s, core, exe);
		else if (pid)
			err = mv_session_open_pid(s, pid);
		else if (exe)
			err = mv_session_add_objfile(s, exe, 0);
	}
	char *opts = NULL;
	if (!err && defaults.len)
		err = mv_command_filter_options(argv[i], defaults.data, &opts);
	if (!err && opts && *opts) {
		/* The settings go first, so the command line's own options
		 * win. */
		char **words;
		int nwords;
		err = mv_split_words(opts, &words, &nwords);
		if (!err) {
			int n = argc - i + nwords;
			const char **args = calloc((size_t)n + 1, sizeof(*args));
			if (!args) {
				err = mv_enomem;
			} else {
				args[0] = argv[i];
				for (int k = 0; k < nwords; k++)
					args[1 + k] = words[k];
				for (int k = i + 1; k < argc; k++)
					args[nwords + k - i] = argv[k];
				clock_gettime(CLOCK_MONOTONIC, &progress.start);
				err = mv_session_run(s, n, args);
				free(args);
			}
			mv_free_words(words, nwords);
		}
	} else if (!err) {
		clock_gettime(CLOCK_MONOTONIC, &progress.start);
		err = mv_session_run(s, argc - i, (const char *const *)argv + i);
	}
	end_progress(&progress);
	mv_free(opts);
	mv_buf_deinit(&defaults);
	fflush(stdout);
	if (err) {
		enum mv_error_code code = mv_error_code(err);
		const char *msg = mv_error_message(err);
		if (code == MV_ERR_INTERRUPTED && interrupted &&
		    strncmp(msg, "interrupted", 11))
			fprintf(stderr, "memview: interrupted\n");
		else
			fprintf(stderr, "memview: %s\n", mv_error_message(err));
		status = code == MV_ERR_USAGE	    ? 2
			 : code == MV_ERR_INTERRUPTED ? 130
			 : code == MV_ERR_FOUND &&
				   mv_session_exit_status(s) > 0
			     ? mv_session_exit_status(s)
			     : 1;
		mv_error_destroy(err);
	} else if (interrupted) {
		/* The command printed its partial answer: exit 130 as
		 * memview(1) says, the interrupted line last (issue 18.2). */
		fprintf(stderr, "memview: interrupted\n");
		status = 130;
	}
	mv_session_destroy(s);
	return status;
}
