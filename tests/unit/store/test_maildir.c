/*
 * store/maildir: delivery to one and several Maildirs, byte-identical
 * files in new/, unique names, maildirsize upkeep, quota answers, and the
 * rollback when one target fails. Each test works in its own temp
 * data_dir.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/mem.h"
#include "store/maildir.h"

#define MSG_SIZE (200 * 1024 + 17) /* crosses the 64 KiB buffer */
#define MAX_NAMES 16

struct fixture {
	char dir[64];
	char shm[64]; /* test_copy_fallback's other filesystem, or "" */
	char *msg;
};

/* pathf() results live until the test's teardown. */
static char *paths[1024];
static size_t n_paths;

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	strlcpy_p(f->dir, "/tmp/postern-maildir-XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	f->msg = xmalloc(MSG_SIZE);
	for (size_t i = 0; i < MSG_SIZE; i++)
		f->msg[i] = (char)("Subject: x\r\n\r\nbody\r\n"[i % 20] +
				   i / 20 % 3);
	*state = f;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (f->shm[0] != '\0')
		nftw(f->shm, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	while (n_paths > 0)
		free(paths[--n_paths]);
	free(f->msg);
	free(f);
	return 0;
}

__attribute__((format(printf, 1, 2))) static char *pathf(const char *fmt, ...)
{
	char *p;
	va_list ap;

	va_start(ap, fmt);
	p = xmalloc(PATH_MAX);
	vsnprintf(p, PATH_MAX, fmt, ap);
	va_end(ap);
	assert_true(n_paths < sizeof(paths) / sizeof(paths[0]));
	paths[n_paths++] = p;
	return p;
}

/* Names in a directory, "." and ".." left out; -1 when it cannot open. */
static int list_dir(const char *path, char names[][NAME_MAX + 1])
{
	DIR *dir = opendir(path);
	struct dirent *de;
	int n = 0;

	if (dir == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		assert_true(n < MAX_NAMES);
		strlcpy_p(names[n++], de->d_name, NAME_MAX + 1);
	}
	closedir(dir);
	return n;
}

static void assert_file_equals(const char *path, const char *data, size_t len)
{
	char *buf = xmalloc(len + 1);
	int fd = open(path, O_RDONLY);
	size_t got = 0;
	ssize_t n;

	assert_true(fd >= 0);
	while ((n = read(fd, buf + got, len + 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	assert_int_equal(got, len);
	assert_memory_equal(buf, data, len);
	free(buf);
}

static void write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

static void read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, size - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

/* A delivery holding the fixture's message, written in uneven pieces. */
static struct maildir_delivery *start(struct fixture *f, const char *host)
{
	const char *error = NULL;
	struct maildir_delivery *d = maildir_delivery_new(f->dir, host, &error);
	size_t off = 0, piece = 1;

	if (d == NULL)
		fail_msg("new: %s", error);
	while (off < MSG_SIZE) {
		size_t n = MSG_SIZE - off < piece ? MSG_SIZE - off : piece;

		assert_int_equal(
			maildir_delivery_write(d, f->msg + off, n, &error), 0);
		off += n;
		piece = piece * 3 + 1;
	}
	assert_int_equal(maildir_delivery_size(d), MSG_SIZE);
	return d;
}

static void commit_ok(struct maildir_delivery *d,
		      const struct maildir_target *t, size_t n)
{
	char id[MAILDIR_ID_SIZE];
	const char *error = NULL;

	if (maildir_delivery_commit(d, t, n, id, sizeof(id), &error) != 0)
		fail_msg("commit: %s", error);
	assert_string_equal(id, maildir_delivery_id(d));
}

/* "<sec>.M<usec>P<pid>Q<n>.<host>,S=<size>" */
static void assert_unique_name(const char *name, const char *host)
{
	char want[128];
	const char *p = name;

	while (*p >= '0' && *p <= '9')
		p++;
	assert_true(p > name);
	assert_true(strncmp(p, ".M", 2) == 0);
	p = strchr(p, 'P');
	assert_non_null(p);
	snprintf(want, sizeof(want), "P%ldQ", (long)getpid());
	assert_true(strncmp(p, want, strlen(want)) == 0);
	snprintf(want, sizeof(want), ".%s,S=%d", host, MSG_SIZE);
	assert_non_null(strstr(p, want));
	assert_string_equal(strstr(p, want), want);
}

static void test_deliver_one(void **state)
{
	struct fixture *f = *state;
	struct maildir_target t = {"example.org", "alice", 0};
	char names[MAX_NAMES][NAME_MAX + 1];
	struct maildir_delivery *d = start(f, "mx.example.org");
	const char *md = pathf("%s/mail/example.org/alice", f->dir);
	const char *id = maildir_delivery_id(d);
	struct stat st;

	assert_int_equal(strlen(id), MAILDIR_ID_LEN);
	assert_int_equal(strspn(id, "0123456789ABCDEF"), MAILDIR_ID_LEN);
	assert_int_equal(list_dir(pathf("%s/tmp", f->dir), names), 1);
	commit_ok(d, &t, 1);
	maildir_delivery_free(&d);
	assert_null(d);

	assert_int_equal(list_dir(pathf("%s/new", md), names), 1);
	assert_unique_name(names[0], "mx.example.org");
	assert_file_equals(pathf("%s/new/%s", md, names[0]), f->msg, MSG_SIZE);
	assert_int_equal(stat(pathf("%s/new/%s", md, names[0]), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(list_dir(pathf("%s/cur", md), names), 0);
	assert_int_equal(list_dir(pathf("%s/tmp", md), names), 0);
	assert_int_equal(stat(md, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* The temp file is gone once committed. */
	assert_int_equal(list_dir(pathf("%s/tmp", f->dir), names), 0);
}

static void test_deliver_three(void **state)
{
	struct fixture *f = *state;
	const struct maildir_target t[] = {
		{"example.org", "alice", 0},
		{"example.org", "bob", 0},
		{"example.net", "carol", 0},
		{"example.org", "alice", 0}, /* repeated: delivered once */
	};
	char names[MAX_NAMES][NAME_MAX + 1];
	char first[NAME_MAX + 1] = "";
	struct maildir_delivery *d = start(f, "mx");
	struct stat st;

	commit_ok(d, t, 4);
	maildir_delivery_free(&d);
	for (size_t i = 0; i < 3; i++) {
		const char *new_dir = pathf("%s/mail/%s/%s/new", f->dir,
					    t[i].domain, t[i].local);

		assert_int_equal(list_dir(new_dir, names), 1);
		assert_unique_name(names[0], "mx");
		if (i == 0)
			strlcpy_p(first, names[0], sizeof(first));
		assert_string_equal(names[0], first);
		assert_file_equals(pathf("%s/%s", new_dir, names[0]), f->msg,
				   MSG_SIZE);
		/* One inode, three links: no copy was needed. */
		assert_int_equal(stat(pathf("%s/%s", new_dir, names[0]), &st),
				 0);
		assert_int_equal(st.st_nlink, 3);
	}
	assert_int_equal(list_dir(pathf("%s/tmp", f->dir), names), 0);
}

static void test_unique_names(void **state)
{
	struct fixture *f = *state;
	struct maildir_target t = {"example.org", "alice", 0};
	char names[MAX_NAMES][NAME_MAX + 1];
	char ids[3][MAILDIR_ID_SIZE];

	for (int i = 0; i < 3; i++) {
		struct maildir_delivery *d = start(f, "mail/host:25");

		strlcpy_p(ids[i], maildir_delivery_id(d), sizeof(ids[i]));
		commit_ok(d, &t, 1);
		maildir_delivery_free(&d);
	}
	assert_string_not_equal(ids[0], ids[1]);
	assert_string_not_equal(ids[1], ids[2]);
	assert_int_equal(
		list_dir(pathf("%s/mail/example.org/alice/new", f->dir), names),
		3);
	assert_string_not_equal(names[0], names[1]);
	assert_string_not_equal(names[0], names[2]);
	assert_string_not_equal(names[1], names[2]);
	/* '/' and ':' in the host are escaped as Dovecot does. */
	for (int i = 0; i < 3; i++)
		assert_unique_name(names[i], "mail\\057host\\07225");
}

static void test_free_uncommitted(void **state)
{
	struct fixture *f = *state;
	char names[MAX_NAMES][NAME_MAX + 1];
	struct maildir_delivery *d = start(f, "mx");

	assert_int_equal(list_dir(pathf("%s/tmp", f->dir), names), 1);
	maildir_delivery_free(&d);
	assert_null(d);
	maildir_delivery_free(&d); /* NULL is fine */
	assert_int_equal(list_dir(pathf("%s/tmp", f->dir), names), 0);
	assert_int_equal(list_dir(pathf("%s/mail", f->dir), names), -1);
}

static void test_commit_twice(void **state)
{
	struct fixture *f = *state;
	struct maildir_target t = {"example.org", "alice", 0};
	struct maildir_delivery *d = start(f, "mx");
	char id[MAILDIR_ID_SIZE];
	const char *error = NULL;

	assert_int_equal(
		maildir_delivery_commit(d, &t, 0, id, sizeof(id), &error), -1);
	assert_string_equal(error, "no recipients");
	assert_int_equal(maildir_delivery_commit(d, &t, 1, id, 5, &error), -1);
	commit_ok(d, &t, 1);
	assert_int_equal(
		maildir_delivery_commit(d, &t, 1, id, sizeof(id), &error), -1);
	assert_string_equal(error, "delivery already committed");
	assert_int_equal(maildir_delivery_write(d, "x", 1, &error), -1);
	maildir_delivery_free(&d);
}

static void test_refused_names(void **state)
{
	struct fixture *f = *state;
	static const struct maildir_target bad[] = {
		{"example.org", "", 0},	       {"example.org", ".", 0},
		{"example.org", "..", 0},      {"..", "alice", 0},
		{"example.org", "a/b", 0},     {"example.org/../x", "a", 0},
		{"example.org", ".hidden", 0}, {NULL, "alice", 0},
		{"example.org", NULL, 10},
	};
	char names[MAX_NAMES][NAME_MAX + 1];
	char id[MAILDIR_ID_SIZE];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct maildir_delivery *d = start(f, "mx");
		const struct maildir_target two[] = {
			{"example.org", "alice", 0}, bad[i]};
		const char *error = NULL;

		assert_int_equal(maildir_delivery_commit(d, two, 2, id,
							 sizeof(id), &error),
				 -1);
		assert_non_null(strstr(error, "refused maildir name"));
		assert_int_equal(maildir_quota_check(f->dir, &bad[i], 1), -1);
		maildir_delivery_free(&d);
	}
	/* Names are checked before anything is made. */
	assert_int_equal(list_dir(pathf("%s/mail", f->dir), names), -1);
	assert_int_equal(list_dir(pathf("%s/tmp", f->dir), names), 0);
}

/* One target's new/ is a regular file: the others are rolled back. */
static void test_rollback(void **state)
{
	struct fixture *f = *state;
	const struct maildir_target t[] = {
		{"example.org", "alice", 0},
		{"example.org", "bob", 0},
		{"example.org", "broken", 0},
		{"example.org", "carol", 0},
	};
	char names[MAX_NAMES][NAME_MAX + 1];
	char id[MAILDIR_ID_SIZE] = "";
	const char *error = NULL;
	const char *broken = pathf("%s/mail/example.org/broken", f->dir);
	struct maildir_delivery *d;

	assert_int_equal(mkdir(pathf("%s/mail", f->dir), 0700), 0);
	assert_int_equal(mkdir(pathf("%s/mail/example.org", f->dir), 0700), 0);
	assert_int_equal(mkdir(broken, 0700), 0);
	write_file(pathf("%s/new", broken), "not a directory");

	d = start(f, "mx");
	assert_int_equal(
		maildir_delivery_commit(d, t, 4, id, sizeof(id), &error), -1);
	assert_string_equal(id, "");
	/* The error names the path and the errno text. */
	assert_non_null(strstr(error, broken));
	assert_non_null(strstr(error, strerror(ENOTDIR)));
	assert_int_equal(
		list_dir(pathf("%s/mail/example.org/alice/new", f->dir), names),
		0);
	assert_int_equal(
		list_dir(pathf("%s/mail/example.org/bob/new", f->dir), names),
		0);
	assert_int_equal(
		list_dir(pathf("%s/mail/example.org/carol", f->dir), names),
		-1);
	/* The message is still whole: a retry without the bad target works. */
	assert_int_equal(list_dir(pathf("%s/tmp", f->dir), names), 1);
	commit_ok(d, t, 2);
	maildir_delivery_free(&d);
	assert_int_equal(
		list_dir(pathf("%s/mail/example.org/bob/new", f->dir), names),
		1);
	assert_file_equals(
		pathf("%s/mail/example.org/bob/new/%s", f->dir, names[0]),
		f->msg, MSG_SIZE);
	assert_int_equal(list_dir(pathf("%s/tmp", f->dir), names), 0);

	/* Failed and freed: the temp file goes too. */
	d = start(f, "mx");
	assert_int_equal(
		maildir_delivery_commit(d, &t[2], 1, id, sizeof(id), &error),
		-1);
	maildir_delivery_free(&d);
	assert_int_equal(list_dir(pathf("%s/tmp", f->dir), names), 0);
}

/* A file size limit stands in for ENOSPC: the error is sticky. */
static void test_write_error(void **state)
{
	struct fixture *f = *state;
	struct maildir_target t = {"example.org", "alice", 0};
	struct rlimit old, small = {.rlim_cur = 4096};
	char names[MAX_NAMES][NAME_MAX + 1];
	char id[MAILDIR_ID_SIZE];
	const char *error = NULL;
	struct maildir_delivery *d;
	int ret;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small.rlim_max = old.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	d = maildir_delivery_new(f->dir, "mx", &error);
	assert_non_null(d);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	ret = maildir_delivery_write(d, f->msg, MSG_SIZE, &error);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(ret, -1);
	assert_non_null(strstr(error, "write "));
	assert_non_null(strstr(error, f->dir));
	assert_non_null(strstr(error, strerror(EFBIG)));
	assert_int_equal(maildir_delivery_write(d, "x", 1, &error), -1);
	assert_int_equal(
		maildir_delivery_commit(d, &t, 1, id, sizeof(id), &error), -1);
	assert_non_null(strstr(error, strerror(EFBIG)));
	maildir_delivery_free(&d);
	assert_int_equal(list_dir(pathf("%s/mail", f->dir), names), -1);
}

static void test_new_errors(void **state)
{
	const char *error = NULL;

	assert_null(maildir_delivery_new("/dev/null/x", "mx", &error));
	assert_non_null(strstr(error, "/dev/null"));
	assert_non_null(strstr(error, strerror(ENOTDIR)));
	assert_null(maildir_delivery_new("", "mx", &error));
	assert_non_null(error);
}

/*
 * link(2) across filesystems gives EXDEV: the message is copied through
 * the Maildir's tmp/. new/ and tmp/ are symlinks to /dev/shm, so the test
 * is skipped where /dev/shm shares the filesystem of /tmp.
 */
static void test_copy_fallback(void **state)
{
	struct fixture *f = *state;
	struct maildir_target t[] = {
		{"example.org", "far", 0},
		{"example.org", "near", 0},
	};
	char names[MAX_NAMES][NAME_MAX + 1];
	char *shm = f->shm;
	const char *md = pathf("%s/mail/example.org/far", f->dir);
	struct maildir_delivery *d;
	struct stat a, b;

	if (stat("/dev/shm", &a) < 0 || stat(f->dir, &b) < 0 ||
	    a.st_dev == b.st_dev)
		skip();
	strlcpy_p(shm, "/dev/shm/postern-test-XXXXXX", sizeof(f->shm));
	if (mkdtemp(shm) == NULL) {
		shm[0] = '\0';
		skip();
	}
	assert_int_equal(mkdir(pathf("%s/new", shm), 0700), 0);
	assert_int_equal(mkdir(pathf("%s/tmp", shm), 0700), 0);
	assert_int_equal(mkdir(pathf("%s/mail", f->dir), 0700), 0);
	assert_int_equal(mkdir(pathf("%s/mail/example.org", f->dir), 0700), 0);
	assert_int_equal(mkdir(md, 0700), 0);
	assert_int_equal(mkdir(pathf("%s/cur", md), 0700), 0);
	assert_int_equal(symlink(pathf("%s/new", shm), pathf("%s/new", md)), 0);
	assert_int_equal(symlink(pathf("%s/tmp", shm), pathf("%s/tmp", md)), 0);

	d = start(f, "mx");
	commit_ok(d, t, 2);
	maildir_delivery_free(&d);
	assert_int_equal(list_dir(pathf("%s/new", shm), names), 1);
	assert_file_equals(pathf("%s/new/%s", shm, names[0]), f->msg, MSG_SIZE);
	assert_int_equal(list_dir(pathf("%s/tmp", shm), names), 0);
	assert_int_equal(
		list_dir(pathf("%s/mail/example.org/near/new", f->dir), names),
		1);
}

static void test_maildirsize_upkeep(void **state)
{
	struct fixture *f = *state;
	struct maildir_target t = {"example.org", "alice", 1000000};
	const char *size_file =
		pathf("%s/mail/example.org/alice/maildirsize", f->dir);
	char text[256], want[256];
	struct maildir_delivery *d;

	/* No Maildir yet: it fits, and there is nothing to cache. */
	assert_int_equal(maildir_quota_check(f->dir, &t, MSG_SIZE), 0);
	assert_int_equal(access(size_file, F_OK), -1);
	/* The first delivery does not create maildirsize... */
	d = start(f, "mx");
	commit_ok(d, &t, 1);
	maildir_delivery_free(&d);
	assert_int_equal(access(size_file, F_OK), -1);
	/* ...the next check writes it from the files... */
	assert_int_equal(maildir_quota_check(f->dir, &t, MSG_SIZE), 0);
	read_text(size_file, text, sizeof(text));
	snprintf(want, sizeof(want), "1000000S\n%d 1\n", MSG_SIZE);
	assert_string_equal(text, want);
	/* ...and later deliveries append to it. */
	d = start(f, "mx");
	commit_ok(d, &t, 1);
	maildir_delivery_free(&d);
	read_text(size_file, text, sizeof(text));
	snprintf(want, sizeof(want), "1000000S\n%d 1\n%d 1\n", MSG_SIZE,
		 MSG_SIZE);
	assert_string_equal(text, want);
	/* 2 x 204817 used of 1000000: 590366 more fit, 590367 do not. */
	assert_int_equal(maildir_quota_check(f->dir, &t, 590366), 0);
	assert_int_equal(maildir_quota_check(f->dir, &t, 590367), 1);
}

/* Rows: a maildirsize text (NULL: none), the quota, a size, the answer. */
static void test_quota_rows(void **state)
{
	static const struct {
		const char *file;
		uint64_t quota, size;
		int want;
	} rows[] = {
		{NULL, 0, UINT64_MAX, 0}, /* unlimited */
		{NULL, 100, 101, 2},	  /* alone too large */
		{NULL, 1000, 1000, 1},	  /* files hold 350 (see below) */
		{NULL, 1000, 650, 0},
		{NULL, 1000, 651, 1},
		{"1000S\n60 1\n", 1000, 940, 0},
		{"1000S\n60 1\n", 1000, 941, 1},
		{"1000S\n60 1\n", 2000, 1700, 1}, /* other quota: rescan */
		{"1000S,10C\n60 1\n-20 -1\n", 1000, 960, 0},
		{"1000S,10C\n60 1\n-20 -1\n", 1000, 961, 1},
		{"1000S\n60 1\n7", 1000, 651, 1},  /* torn line: rescan */
		{"1000S\n60 x\n", 1000, 651, 1},   /* malformed: rescan */
		{"1000S\n-900 1\n", 1000, 651, 1}, /* negative: rescan */
		{"", 1000, 651, 1},
		{"1000S\n0 0\n", 1000, 1000, 0},
		{"1000S\n0 0\n", 1000, 1001, 2},
	};
	struct fixture *f = *state;
	struct maildir_target t = {"example.org", "alice", 0};
	const char *md = pathf("%s/mail/example.org/alice", f->dir);
	const char *size_file = pathf("%s/maildirsize", md);

	/* 350 bytes: sizes from ",S=" names, from stat, and in a folder. */
	assert_int_equal(mkdir(pathf("%s/mail", f->dir), 0700), 0);
	assert_int_equal(mkdir(pathf("%s/mail/example.org", f->dir), 0700), 0);
	assert_int_equal(mkdir(md, 0700), 0);
	assert_int_equal(mkdir(pathf("%s/cur", md), 0700), 0);
	assert_int_equal(mkdir(pathf("%s/new", md), 0700), 0);
	assert_int_equal(mkdir(pathf("%s/tmp", md), 0700), 0);
	assert_int_equal(mkdir(pathf("%s/.Sent", md), 0700), 0);
	assert_int_equal(mkdir(pathf("%s/.Sent/cur", md), 0700), 0);
	write_file(pathf("%s/cur/1.M1P1Q1.h,S=200:2,S", md), "tiny");
	write_file(pathf("%s/new/2.M1P1Q1.h", md), "0123456789");
	write_file(pathf("%s/.Sent/cur/3.M1P1Q1.h,S=140,W=150:2,", md), "x");
	write_file(pathf("%s/tmp/4.M1P1Q1.h,S=9999", md), "in tmp: no");

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int got;

		unlink(size_file);
		if (rows[i].file != NULL)
			write_file(size_file, rows[i].file);
		t.quota = rows[i].quota;
		got = maildir_quota_check(f->dir, &t, rows[i].size);
		if (got != rows[i].want)
			fail_msg("row %zu: got %d want %d", i, got,
				 rows[i].want);
	}
}

/* A maildirsize past 5120 bytes is rewritten from the files. */
static void test_maildirsize_too_large(void **state)
{
	struct fixture *f = *state;
	struct maildir_target t = {"example.org", "alice", 100000};
	const char *md = pathf("%s/mail/example.org/alice", f->dir);
	char *big = xmalloc(8192);
	char text[256];
	size_t len;

	assert_int_equal(mkdir(pathf("%s/mail", f->dir), 0700), 0);
	assert_int_equal(mkdir(pathf("%s/mail/example.org", f->dir), 0700), 0);
	assert_int_equal(mkdir(md, 0700), 0);
	assert_int_equal(mkdir(pathf("%s/new", md), 0700), 0);
	assert_int_equal(mkdir(pathf("%s/tmp", md), 0700), 0);
	write_file(pathf("%s/new/1.M1P1Q1.h,S=500", md), "x");
	len = (size_t)snprintf(big, 8192, "100000S\n");
	while (len < 5200)
		len += (size_t)snprintf(big + len, 8192 - len, "1 1\n");
	write_file(pathf("%s/maildirsize", md), big);
	free(big);
	/* The file says 1,298 bytes; the folder holds 500. */
	assert_int_equal(maildir_quota_check(f->dir, &t, 99500), 0);
	assert_int_equal(maildir_quota_check(f->dir, &t, 99501), 1);
	read_text(pathf("%s/maildirsize", md), text, sizeof(text));
	assert_string_equal(text, "100000S\n500 1\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deliver_one, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_deliver_three, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unique_names, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_free_uncommitted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_commit_twice, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refused_names, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error, setup,
						teardown),
		cmocka_unit_test(test_new_errors),
		cmocka_unit_test_setup_teardown(test_copy_fallback, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_maildirsize_upkeep, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_quota_rows, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_maildirsize_too_large,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
