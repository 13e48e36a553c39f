/* progress.c - how far a long command is, for the front end to show.
 * Throttled here so that the walks may call it often: a coarse clock
 * read costs nanoseconds, a call into a debugger's Python much more. */
#include <time.h>

#include "session.h"

#define PROGRESS_INTERVAL_NS 100000000ull /* ten calls a second */

void mv_session_set_progress(struct mv_session *s, mv_progress_fn progress,
			     void *arg)
{
	s->progress = progress;
	s->progress_arg = arg;
	s->progress_last_ns = 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void mv_progress_report(struct mv_session *s, const char *what,
			uint64_t done, uint64_t total)
{
	if (!s || !s->progress)
		return;
	uint64_t now = now_ns();
	if (now - s->progress_last_ns < PROGRESS_INTERVAL_NS)
		return;
	s->progress_last_ns = now;
	s->progress(s->progress_arg, what ? what : "items", done, total);
}
