/* file.c - non-blocking, symlink-wary opens of the user's files
 * (file.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

/* The kernel's fs.protected_symlinks rule, whatever the sysctl says: a
 * link in a sticky, world-writable directory is someone else's trap. */
static bool planted_link(const char *path)
{
	struct stat st;
	if (lstat(path, &st) || !S_ISLNK(st.st_mode))
		return false;
	char *copy = strdup(path);
	if (!copy)
		return true;
	struct stat dir;
	bool bad = !stat(dirname(copy), &dir) && (dir.st_mode & S_ISVTX) &&
		   (dir.st_mode & S_IWOTH) && st.st_uid != geteuid();
	free(copy);
	return bad;
}

/* Opens an existing path for writing without creating it: *nonempty
 * says whether it is a regular file holding data (then it is not
 * truncated here). */
static int open_existing(const char *path, bool *nonempty)
{
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	*nonempty = fd >= 0 && !fstat(fd, &st) && S_ISREG(st.st_mode) &&
		    st.st_size > 0;
	return fd;
}

struct mv_error *mv_outfile_open(struct mv_outfile *o, const char *path,
				 const char *what, bool force)
{
	memset(o, 0, sizeof(*o));
	o->path = path;
	o->what = what;
	if (planted_link(path))
		return mv_error_create(MV_ERR_IO, "%s %s: a symbolic link in "
				       "a world-writable sticky directory, "
				       "not followed", what, path);
	/* New files are made with O_EXCL, so "created" is known and a
	 * failed command can take its file back. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NONBLOCK |
				    O_CLOEXEC, 0666);
	bool nonempty = false;
	if (fd >= 0)
		o->created = true;
	else if (errno == EEXIST)
		fd = open_existing(path, &nonempty);
	if (fd < 0)
		return mv_error_create(MV_ERR_IO, "%s %s: %s", what, path,
				       errno == ENXIO ? "a FIFO with no reader"
						      : strerror(errno));
	struct stat st;
	const char *why = NULL;
	if (fstat(fd, &st))
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) &&
		 !S_ISCHR(st.st_mode))
		why = "not a regular file, FIFO or character device";
	else if (nonempty && !force)
		why = "the file exists (--force writes over it)";
	else if (S_ISREG(st.st_mode) && !o->created && ftruncate(fd, 0))
		why = strerror(errno);
	/* Writes may block from here on, as a pipe's writer does. */
	else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK))
		why = strerror(errno);
	o->f = why ? NULL : fdopen(fd, "w");
	if (!o->f) {
		if (!why)
			why = strerror(errno);
		close(fd);
		if (o->created)
			unlink(path);
		o->created = false;
		return mv_error_create(MV_ERR_IO, "%s %s: %s", what, path, why);
	}
	return NULL;
}

struct mv_error *mv_outfile_write(struct mv_outfile *o, const void *data,
				  size_t len)
{
	if (!len || fwrite(data, 1, len, o->f) == len)
		return NULL;
	return mv_error_create(MV_ERR_IO, "cannot write %s: %s", o->path,
			       strerror(errno ? errno : EIO));
}

struct mv_error *mv_outfile_close(struct mv_outfile *o, bool ok)
{
	if (!o->f)
		return NULL;
	bool bad = ferror(o->f);
	errno = 0;
	bad |= fclose(o->f) != 0;
	int e = errno;
	o->f = NULL;
	struct mv_error *err = NULL;
	if (ok && bad)
		err = mv_error_create(MV_ERR_IO, "cannot write %s: %s",
				      o->path, strerror(e ? e : EIO));
	if ((!ok || err) && o->created)
		unlink(o->path);
	o->created = false;
	return err;
}

struct mv_error *mv_file_read_small(const char *path, const char *what,
				    size_t max, char **ret, size_t *len)
{
	*ret = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return mv_error_create(MV_ERR_IO, "%s %s: %s", what, path,
				       strerror(errno));
	struct stat st;
	const char *why = NULL;
	if (fstat(fd, &st))
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if ((uint64_t)st.st_size > max)
		why = "too big";
	char *buf = why ? NULL : malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the file shrank: take what is there */
		got += (size_t)n;
	}
	close(fd);
	if (why)
		return mv_error_create(MV_ERR_IO, "%s %s: %s", what, path, why);
	if (!buf)
		return mv_enomem;
	buf[got] = '\0';
	*ret = buf;
	*len = got;
	return NULL;
}
