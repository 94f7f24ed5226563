/*
 * Helpers shared by the store tests: a temp data_dir per test, the user's
 * Maildir paths, files written by hand as another tool would, and
 * directory listings. Include after cmocka.h.
 */
#ifndef TEST_STORE_UTIL_H
#define TEST_STORE_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/mem.h"
#include "store/store.h"

#define UNUSED __attribute__((unused))

struct fx {
	char dir[64];
	char root[PATH_MAX / 2];
	struct store_user *u;
};

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static UNUSED struct store_user *open_user(struct fx *f)
{
	const char *error = NULL;
	struct store_user *u =
		store_user_open(f->dir, "example.org", "alice", &error);

	if (u == NULL)
		fail_msg("store_user_open: %s", error);
	return u;
}

static UNUSED int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	strlcpy_p(f->dir, "/tmp/postern-store-XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->root, sizeof(f->root), "%s/mail/example.org/alice", f->dir);
	f->u = open_user(f);
	*state = f;
	return 0;
}

static UNUSED int teardown(void **state)
{
	struct fx *f = *state;

	store_user_free(&f->u);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* A path under the user's Maildir; static buffer per call slot. */
static UNUSED const char *mpath(struct fx *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static UNUSED const char *mpath(struct fx *f, const char *fmt, ...)
{
	static char bufs[8][PATH_MAX];
	static int slot;
	char rel[PATH_MAX / 2];
	char *p = bufs[slot++ % 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(p, PATH_MAX, "%s/%s", f->root, rel);
	return p;
}

/* Write a file as another tool would; mtime set to when (0 = now). */
static UNUSED void put_file(const char *path, const char *data, time_t when)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	if (when != 0) {
		struct timespec ts[2] = {{.tv_sec = when}, {.tv_sec = when}};

		assert_int_equal(futimens(fd, ts), 0);
	}
	close(fd);
}

/* Number of entries in a directory ("." and ".." not counted). */
static UNUSED int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return n;
}

/* A file name in dir/ (not hidden) starting with prefix, into out; false
 * if none. */
static UNUSED bool find_file(const char *dir, const char *prefix, char *out,
			     size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	if (d == NULL)
		return false;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' &&
		    strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
			strlcpy_p(out, de->d_name, size);
			found = true;
		}
	}
	closedir(d);
	return found;
}

/* Set a directory's mtime (old enough for a sync to trust it). */
static UNUSED void set_mtime(const char *path, time_t sec)
{
	struct timespec ts[2] = {{sec, 123456789}, {sec, 123456789}};

	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static UNUSED struct store_mailbox *open_mb(struct fx *f, const char *name,
					    bool readonly)
{
	enum store_err err = STORE_OK;
	const char *error = NULL;
	struct store_mailbox *mb =
		store_mailbox_open(f->u, name, readonly, &err, &error);

	if (mb == NULL)
		fail_msg("store_mailbox_open %s: %d %s", name, err, error);
	return mb;
}

static UNUSED size_t n_msgs(const struct store_mailbox *mb)
{
	const struct store_msg *msgs;
	size_t n;

	store_mailbox_messages(mb, &msgs, &n);
	return n;
}

static UNUSED uint32_t append(struct fx *f, const char *box, const char *data,
			      unsigned flags, const char *kw)
{
	uint32_t uidv = 0, uid = 0;
	const char *error = NULL;
	int rc = store_append(f->u, box, data, strlen(data), flags, kw, 0,
			      &uidv, &uid, &error);

	if (rc != 0)
		fail_msg("store_append %s: %d %s", box, rc, error);
	assert_true(uidv > 0);
	return uid;
}

static UNUSED int sync_mb(struct store_mailbox *mb)
{
	const char *error = NULL;
	int rc = store_mailbox_sync(mb, &error);

	if (rc < 0)
		fail_msg("store_mailbox_sync: %d %s", rc, error);
	return rc;
}

#endif
