/* error.c - the one way to fail: an error object, never exit or abort. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "memview.h"

struct mv_error {
	enum mv_error_code code;
	bool has_address;
	uint64_t address;
	char *message;
};

/* Static so that reporting out-of-memory never allocates. */
static struct mv_error enomem_error = {
	.code = MV_ERR_NOMEM,
	.message = (char *)"out of memory",
};
struct mv_error *const mv_enomem = &enomem_error;

static const char *const code_names[] = {
#define MV_X(name, desc) desc,
	MV_ERROR_CODES(MV_X)
#undef MV_X
};

const char *mv_error_code_name(enum mv_error_code code)
{
	if ((unsigned)code >= MV_ERR_COUNT_)
		return "error";
	return code_names[code];
}

struct mv_error *mv_error_vcreate(enum mv_error_code code, const char *fmt,
				  va_list ap)
{
	if (code == MV_ERR_NOMEM)
		return mv_enomem;
	struct mv_error *err = calloc(1, sizeof(*err));
	if (!err)
		return mv_enomem;
	err->code = code;
	if (vasprintf(&err->message, fmt, ap) < 0) {
		free(err);
		return mv_enomem;
	}
	/* One line: a message must never carry a newline to the user. */
	for (char *p = err->message; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return err;
}

struct mv_error *mv_error_create(enum mv_error_code code, const char *fmt,
				 ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct mv_error *err = mv_error_vcreate(code, fmt, ap);
	va_end(ap);
	return err;
}

struct mv_error *mv_error_fault(uint64_t address, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct mv_error *err = mv_error_vcreate(MV_ERR_FAULT, fmt, ap);
	va_end(ap);
	if (err != mv_enomem) {
		err->has_address = true;
		err->address = address;
	}
	return err;
}

/* err's message becomes fmt's text, which may take the old message as
 * an argument; unchanged if that cannot be allocated. */
static void reword(struct mv_error *err, const char *fmt, ...)
	MV_PRINTF(2, 3);
static void reword(struct mv_error *err, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n >= 0) {
		free(err->message);
		err->message = msg;
	}
}

struct mv_error *mv_error_wrap(struct mv_error *err, const char *fmt, ...)
{
	if (!err || err == mv_enomem)
		return err;
	char *prefix;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&prefix, fmt, ap);
	va_end(ap);
	if (n < 0)
		return err;
	reword(err, "%s: %s", prefix, err->message);
	free(prefix);
	return err;
}

struct mv_error *mv_error_interrupted(struct mv_error *err, const char *left,
				      const char *fmt, ...)
{
	if (err && (err->code != MV_ERR_INTERRUPTED ||
		    strncmp(err->message, "interrupted", 11)))
		return err;
	mv_error_destroy(err);
	va_list ap;
	va_start(ap, fmt);
	struct mv_error *ret = mv_error_vcreate(MV_ERR_INTERRUPTED, fmt, ap);
	va_end(ap);
	if (ret != mv_enomem)
		reword(ret, "interrupted while %s: %s", ret->message, left);
	return ret;
}

void mv_error_destroy(struct mv_error *err)
{
	if (!err || err == mv_enomem)
		return;
	free(err->message);
	free(err);
}

enum mv_error_code mv_error_code(const struct mv_error *err)
{
	return err ? err->code : MV_ERR_OTHER;
}

const char *mv_error_message(const struct mv_error *err)
{
	return err ? err->message : "";
}

bool mv_error_address(const struct mv_error *err, uint64_t *ret)
{
	if (!err || !err->has_address)
		return false;
	*ret = err->address;
	return true;
}
