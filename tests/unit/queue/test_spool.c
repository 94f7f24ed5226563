/*
 * queue/spool: the files a commit leaves (exact bytes in msg/ and env/,
 * nothing in tmp/), free without commit, atomic update, list, remove,
 * orphan cleanup and refusal of ids that are not ours. Each test works
 * in its own temp data_dir.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/mem.h"
#include "queue/spool.h"

#define MSG_SIZE (200 * 1024 + 17) /* crosses the 64 KiB buffer */
#define MAX_IDS 64

struct fixture {
	char dir[64];
	char *msg;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	strlcpy_p(f->dir, "/tmp/postern-spool-XXXXXX", sizeof(f->dir));
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
	free(f->msg);
	free(f);
	return 0;
}

/* "<dir>/queue/<sub>[/<name>]" in a static buffer (one at a time). */
static const char *qpath(const struct fixture *f, const char *sub,
			 const char *name)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/queue/%s%s%s", f->dir, sub,
		 name != NULL ? "/" : "", name != NULL ? name : "");
	return buf;
}

static size_t count_entries(const struct fixture *f, const char *sub)
{
	DIR *d = opendir(qpath(f, sub, NULL));
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The whole file, which must be exactly len bytes equal to want. */
static void assert_file(const char *path, const void *want, size_t len)
{
	struct stat st;
	char *got;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal((size_t)st.st_size, len);
	got = xmalloc(len + 1);
	assert_int_equal(read(fd, got, len + 1), (ssize_t)len);
	assert_memory_equal(got, want, len);
	free(got);
	close(fd);
}

static void make_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

static void age_file(const char *path, time_t seconds)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - seconds;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_env(struct spool_envelope *env)
{
	spool_envelope_init(env);
	env->sender = xstrdup("alice@example.org");
	env->auth = xstrdup("alice@example.org");
	env->body = SPOOL_BODY_8BITMIME;
	spool_envelope_add_rcpt(env, "bob@example.net", "rfc822;bob@x",
				SPOOL_NOTIFY_FAILURE);
	spool_envelope_add_rcpt(env, "carol\nrcpt 5:evil@x", NULL, 0);
}

/* Queue msg (len bytes, written in uneven pieces); its id into id_r. */
static void queue_one(const struct fixture *f, const char *msg, size_t len,
		      char *id_r)
{
	struct spool_envelope env;
	struct spool_msg *m;
	const char *error = NULL;
	size_t off, n;

	m = spool_msg_new(f->dir, &error);
	assert_non_null(m);
	for (off = 0; off < len; off += n) {
		n = len - off < 7001 ? len - off : 7001;
		assert_int_equal(spool_msg_write(m, msg + off, n, &error), 0);
	}
	test_env(&env);
	assert_int_equal(spool_msg_commit(m, &env, &error), 0);
	memcpy(id_r, spool_msg_id(m), SPOOL_ID_SIZE);
	spool_msg_free(&m);
	assert_null(m);
	spool_envelope_fini(&env);
}

static void test_commit_files(void **state)
{
	struct fixture *f = *state;
	struct spool_envelope env;
	struct spool_msg *m;
	const char *error = NULL;
	char id[SPOOL_ID_SIZE], *rec;
	size_t len;
	struct stat st;
	time_t before = time(NULL);

	m = spool_msg_new(f->dir, &error);
	assert_non_null(m);
	assert_true(spool_id_valid(spool_msg_id(m)));
	memcpy(id, spool_msg_id(m), sizeof(id));
	assert_int_equal(spool_msg_write(m, f->msg, 100, &error), 0);
	assert_int_equal(
		spool_msg_write(m, f->msg + 100, MSG_SIZE - 100, &error), 0);
	/* Nothing is queued before the commit. */
	assert_int_equal(count_entries(f, "env"), 0);
	assert_int_equal(count_entries(f, "msg"), 0);
	test_env(&env);
	assert_int_equal(spool_msg_commit(m, &env, &error), 0);
	assert_string_equal(env.id, id);
	assert_int_equal(env.size, MSG_SIZE);
	assert_true(env.created >= before && env.created <= time(NULL));
	spool_msg_free(&m);

	assert_file(qpath(f, "msg", id), f->msg, MSG_SIZE);
	rec = spool_envelope_format(&env, &len);
	assert_non_null(rec);
	assert_file(qpath(f, "env", id), rec, len);
	assert_int_equal(count_entries(f, "tmp"), 0);
	assert_int_equal(count_entries(f, "msg"), 1);
	assert_int_equal(count_entries(f, "env"), 1);
	assert_int_equal(stat(qpath(f, "env", NULL), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	free(rec);
	spool_envelope_fini(&env);
}

static void test_free_without_commit(void **state)
{
	struct fixture *f = *state;
	struct spool_envelope env;
	struct spool_msg *m;
	const char *error = NULL;

	m = spool_msg_new(f->dir, &error);
	assert_non_null(m);
	assert_int_equal(spool_msg_write(m, f->msg, MSG_SIZE, &error), 0);
	assert_int_equal(count_entries(f, "tmp"), 1);
	spool_msg_free(&m);
	assert_null(m);
	spool_msg_free(&m); /* NULL is fine */
	assert_int_equal(count_entries(f, "tmp"), 0);

	/* A refused envelope (no recipients) queues nothing either. */
	m = spool_msg_new(f->dir, &error);
	assert_non_null(m);
	assert_int_equal(spool_msg_write(m, "x", 1, &error), 0);
	spool_envelope_init(&env);
	assert_int_equal(spool_msg_commit(m, &env, &error), -1);
	assert_non_null(strstr(error, "limits"));
	spool_msg_free(&m);

	/* An envelope id that is not the message's. */
	m = spool_msg_new(f->dir, &error);
	assert_non_null(m);
	test_env(&env);
	memcpy(env.id, "0000000000000000", SPOOL_ID_SIZE);
	assert_int_equal(spool_msg_commit(m, &env, &error), -1);
	spool_msg_free(&m);
	spool_envelope_fini(&env);

	assert_int_equal(count_entries(f, "tmp"), 0);
	assert_int_equal(count_entries(f, "msg"), 0);
	assert_int_equal(count_entries(f, "env"), 0);
}

static void test_write_error(void **state)
{
	struct fixture *f = *state;
	struct spool_envelope env;
	struct spool_msg *m;
	struct rlimit old, small = {.rlim_cur = 1000};
	const char *error = NULL;
	int ret;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small.rlim_max = old.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	m = spool_msg_new(f->dir, &error);
	assert_non_null(m);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	ret = spool_msg_write(m, f->msg, MSG_SIZE, &error);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(ret, -1);
	assert_non_null(strstr(error, "write "));
	/* Sticky: later writes and the commit fail the same way. */
	assert_int_equal(spool_msg_write(m, "x", 1, &error), -1);
	test_env(&env);
	assert_int_equal(spool_msg_commit(m, &env, &error), -1);
	assert_non_null(strstr(error, "write "));
	spool_msg_free(&m);
	spool_envelope_fini(&env);
	assert_int_equal(count_entries(f, "tmp"), 0);
	assert_int_equal(count_entries(f, "env"), 0);
}

static void test_read_update(void **state)
{
	struct fixture *f = *state;
	struct spool_envelope env;
	const char *error = NULL;
	char id[SPOOL_ID_SIZE];
	struct stat before, after;

	queue_one(f, f->msg, 10, id);
	assert_int_equal(spool_envelope_read(f->dir, id, &env, &error), 0);
	assert_string_equal(env.id, id);
	assert_string_equal(env.rcpts[1].address, "carol\nrcpt 5:evil@x");
	assert_int_equal(env.size, 10);

	assert_int_equal(stat(qpath(f, "env", id), &before), 0);
	env.attempts = 1;
	env.next_attempt = 1800000000;
	env.rcpts[0].state = SPOOL_RCPT_DELIVERED;
	env.rcpts[1].state = SPOOL_RCPT_DEFERRED;
	free(env.rcpts[1].last_reply);
	env.rcpts[1].last_reply = xstrdup("451 4.3.0 later\r\n");
	assert_int_equal(spool_envelope_update(f->dir, &env, &error), 0);
	/* A new file took the old one's place; no temp file is left. */
	assert_int_equal(stat(qpath(f, "env", id), &after), 0);
	assert_true(before.st_ino != after.st_ino);
	assert_int_equal(after.st_mode & 0777, 0600);
	assert_int_equal(count_entries(f, "tmp"), 0);
	spool_envelope_fini(&env);

	assert_int_equal(spool_envelope_read(f->dir, id, &env, &error), 0);
	assert_int_equal(env.attempts, 1);
	assert_int_equal(env.next_attempt, 1800000000);
	assert_int_equal(env.rcpts[0].state, SPOOL_RCPT_DELIVERED);
	assert_int_equal(env.rcpts[1].state, SPOOL_RCPT_DEFERRED);
	assert_string_equal(env.rcpts[1].last_reply, "451 4.3.0 later\r\n");

	/* Updating a removed message does not bring its envelope back. */
	assert_int_equal(spool_remove(f->dir, id, &error), 0);
	assert_int_equal(spool_envelope_update(f->dir, &env, &error), -1);
	assert_int_equal(count_entries(f, "env"), 0);
	assert_int_equal(count_entries(f, "tmp"), 0);
	spool_envelope_fini(&env);
	assert_int_equal(spool_envelope_read(f->dir, id, &env, &error), -1);
	assert_null(env.rcpts);
}

static void test_read_refuses(void **state)
{
	struct fixture *f = *state;
	struct spool_envelope env;
	const char *error = NULL;
	char id[SPOOL_ID_SIZE], other[SPOOL_ID_SIZE], from[PATH_MAX];

	queue_one(f, "x", 1, id);
	/* A record whose id is not its file name. */
	memcpy(other, id, sizeof(other));
	other[0] = other[0] == 'A' ? 'B' : 'A';
	strlcpy_p(from, qpath(f, "env", id), sizeof(from));
	assert_int_equal(rename(from, qpath(f, "env", other)), 0);
	assert_int_equal(spool_envelope_read(f->dir, other, &env, &error), -1);
	assert_non_null(strstr(error, "record is for id"));
	/* A malformed record. */
	make_file(qpath(f, "env", other), "postern-envelope 3\n");
	assert_int_equal(spool_envelope_read(f->dir, other, &env, &error), -1);
	assert_non_null(strstr(error, "version"));
	/* A symlink is not followed. */
	assert_int_equal(unlink(qpath(f, "env", other)), 0);
	assert_int_equal(symlink("/etc/passwd", qpath(f, "env", other)), 0);
	assert_int_equal(spool_envelope_read(f->dir, other, &env, &error), -1);
	assert_null(env.rcpts);
}

static void test_invalid_ids(void **state)
{
	static const char *const ids[] = {
		"",
		"../../../../etc",
		"0123456789abcdef",
		"0123456789ABCDE",
		"0123456789ABCDEF0",
		"0123456789ABCDE/",
		".",
		"..",
	};
	struct fixture *f = *state;
	struct spool_envelope env;
	const char *error;
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		error = NULL;
		assert_int_equal(
			spool_envelope_read(f->dir, ids[i], &env, &error), -1);
		assert_non_null(strstr(error, "invalid queue id"));
		assert_int_equal(spool_remove(f->dir, ids[i], &error), -1);
		assert_non_null(strstr(error, "invalid queue id"));
		assert_null(spool_msg_path(f->dir, ids[i]));
	}
	test_env(&env);
	memcpy(env.id, "../../etc/passwd", SPOOL_ID_SIZE);
	assert_int_equal(spool_envelope_update(f->dir, &env, &error), -1);
	spool_envelope_fini(&env);
}

struct collect {
	char ids[MAX_IDS][SPOOL_ID_SIZE];
	size_t n;
	int stop_at; /* return 7 at this call (1-based), 0 never */
};

static int collect_cb(const char *id, void *ctx)
{
	struct collect *c = ctx;

	assert_true(c->n < MAX_IDS);
	memcpy(c->ids[c->n++], id, SPOOL_ID_SIZE);
	return (int)c->n == c->stop_at ? 7 : 0;
}

static bool has_id(const struct collect *c, const char *id)
{
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->ids[i], id) == 0)
			return true;
	}
	return false;
}

static void test_list_remove(void **state)
{
	struct fixture *f = *state;
	struct collect c = {0};
	const char *error = NULL;
	char ids[3][SPOOL_ID_SIZE];
	char *path;
	size_t i;

	/* No spool yet: empty, not an error. */
	assert_int_equal(spool_list(f->dir, collect_cb, &c, &error), 0);
	assert_int_equal(c.n, 0);
	for (i = 0; i < 3; i++)
		queue_one(f, f->msg, 1000 * i, ids[i]);
	make_file(qpath(f, "env", "not-an-id"), "x");
	make_file(qpath(f, "env", "0123456789abcdef"), "x");
	assert_int_equal(spool_list(f->dir, collect_cb, &c, &error), 0);
	assert_int_equal(c.n, 3);
	for (i = 0; i < 3; i++)
		assert_true(has_id(&c, ids[i]));
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	assert_int_equal(spool_list(f->dir, collect_cb, &c, &error), 7);
	assert_int_equal(c.n, 2);

	path = spool_msg_path(f->dir, ids[1]);
	assert_non_null(path);
	assert_string_equal(path, qpath(f, "msg", ids[1]));
	assert_file(path, f->msg, 1000);
	free(path);

	assert_true(spool_queued(f->dir, ids[1]));
	assert_false(spool_queued(f->dir, "0123456789abcdef")); /* invalid */
	assert_int_equal(spool_remove(f->dir, ids[1], &error), 0);
	assert_false(spool_queued(f->dir, ids[1]));
	assert_true(spool_queued(f->dir, ids[0]));
	assert_int_equal(access(qpath(f, "env", ids[1]), F_OK), -1);
	assert_int_equal(access(qpath(f, "msg", ids[1]), F_OK), -1);
	assert_int_equal(spool_remove(f->dir, ids[1], &error), -1);
	assert_non_null(strstr(error, "not queued"));
	memset(&c, 0, sizeof(c));
	assert_int_equal(spool_list(f->dir, collect_cb, &c, &error), 0);
	assert_int_equal(c.n, 2);
	assert_false(has_id(&c, ids[1]));
	/* A message without envelope (garbage) is removed too. */
	assert_int_equal(unlink(qpath(f, "env", ids[2])), 0);
	assert_int_equal(spool_remove(f->dir, ids[2], &error), 0);
	assert_int_equal(count_entries(f, "msg"), 1);
}

static void test_unique_ids(void **state)
{
	struct fixture *f = *state;
	struct spool_msg *m[MAX_IDS];
	const char *error = NULL;
	size_t i, j;

	for (i = 0; i < MAX_IDS; i++) {
		m[i] = spool_msg_new(f->dir, &error);
		assert_non_null(m[i]);
		for (j = 0; j < i; j++)
			assert_string_not_equal(spool_msg_id(m[i]),
						spool_msg_id(m[j]));
	}
	assert_int_equal(count_entries(f, "tmp"), MAX_IDS);
	for (i = 0; i < MAX_IDS; i++)
		spool_msg_free(&m[i]);
	assert_int_equal(count_entries(f, "tmp"), 0);
}

static void test_cleanup(void **state)
{
	struct fixture *f = *state;
	const char *error = NULL;
	char queued[SPOOL_ID_SIZE], orphan[SPOOL_ID_SIZE];

	queue_one(f, "queued", 6, queued);
	queue_one(f, "orphan", 6, orphan);
	assert_int_equal(unlink(qpath(f, "env", orphan)), 0);
	make_file(qpath(f, "msg", "AAAAAAAAAAAAAAAA"), "young orphan");
	make_file(qpath(f, "tmp", "BBBBBBBBBBBBBBBB.msg"), "old tmp");
	make_file(qpath(f, "tmp", "CCCCCCCCCCCCCCCC.u0123ABCD"), "old upd");
	make_file(qpath(f, "tmp", "DDDDDDDDDDDDDDDD.env"), "young tmp");
	make_file(qpath(f, "tmp", "foreign"), "not ours");
	age_file(qpath(f, "msg", queued), 7200);
	age_file(qpath(f, "msg", orphan), 7200);
	age_file(qpath(f, "tmp", "BBBBBBBBBBBBBBBB.msg"), 7200);
	age_file(qpath(f, "tmp", "CCCCCCCCCCCCCCCC.u0123ABCD"), 7200);
	age_file(qpath(f, "tmp", "foreign"), 7200);

	assert_int_equal(
		spool_cleanup_orphans(f->dir, time(NULL) - 3600, &error), 3);
	assert_int_equal(access(qpath(f, "msg", queued), F_OK), 0);
	assert_int_equal(access(qpath(f, "msg", orphan), F_OK), -1);
	assert_int_equal(access(qpath(f, "msg", "AAAAAAAAAAAAAAAA"), F_OK), 0);
	assert_int_equal(access(qpath(f, "tmp", "DDDDDDDDDDDDDDDD.env"), F_OK),
			 0);
	assert_int_equal(access(qpath(f, "tmp", "foreign"), F_OK), 0);
	assert_int_equal(count_entries(f, "tmp"), 2);
	/* Nothing left that is old enough. */
	assert_int_equal(
		spool_cleanup_orphans(f->dir, time(NULL) - 3600, &error), 0);
}

/* Set next_attempt (and the hold) of id on disk. */
static void set_schedule(const struct fixture *f, const char *id, time_t next,
			 bool held)
{
	struct spool_envelope env;
	const char *error = NULL;

	assert_int_equal(spool_envelope_read(f->dir, id, &env, &error), 0);
	env.next_attempt = next;
	env.held = held;
	assert_int_equal(spool_envelope_update(f->dir, &env, &error), 0);
	spool_envelope_fini(&env);
}

static time_t next_of(const struct fixture *f, const char *id)
{
	struct spool_envelope env;
	const char *error = NULL;
	time_t t;

	assert_int_equal(spool_envelope_read(f->dir, id, &env, &error), 0);
	t = env.next_attempt;
	spool_envelope_fini(&env);
	return t;
}

/* flush (and ETRN) make due what waits, by domain, but not held mail. */
static void test_flush_skips_held(void **state)
{
	struct fixture *f = *state;
	char a[SPOOL_ID_SIZE], b[SPOOL_ID_SIZE];
	const char *error = NULL;
	size_t n = 99;

	queue_one(f, "a", 1, a);
	queue_one(f, "b", 1, b);
	set_schedule(f, a, 1700000000, false);
	set_schedule(f, b, 1700000000, true);
	assert_int_equal(spool_flush(f->dir, "other.example", &n, &error), 0);
	assert_int_equal(n, 0);
	assert_int_equal(next_of(f, a), 1700000000);
	assert_int_equal(spool_flush(f->dir, "EXAMPLE.NET", &n, &error), 0);
	assert_int_equal(n, 1);
	assert_int_equal(next_of(f, a), 0);
	assert_int_equal(next_of(f, b), 1700000000);
	/* Released, it is flushed like the others. */
	set_schedule(f, b, 1700000000, false);
	assert_int_equal(spool_flush(f->dir, NULL, &n, &error), 0);
	assert_int_equal(n, 2);
	assert_int_equal(next_of(f, b), 0);
	/* RFC 1985 5.3: "@name" is name and its subdomains, by labels. */
	set_schedule(f, a, 1700000000, false);
	set_schedule(f, b, 1700000000, false);
	assert_int_equal(spool_flush(f->dir, "@ample.net", &n, &error), 0);
	assert_int_equal(n, 0);
	assert_int_equal(spool_flush(f->dir, "@sub.example.net", &n, &error),
			 0);
	assert_int_equal(n, 0);
	assert_int_equal(spool_flush(f->dir, "example.", &n, &error), 0);
	assert_int_equal(n, 0);
	assert_int_equal(spool_flush(f->dir, "@NET", &n, &error), 0);
	assert_int_equal(n, 2);
	/* Due already (0): still a change, that an attempt running now
	 * sees (spool_due_now). */
	assert_int_equal(next_of(f, a), 0);
	assert_int_equal(spool_flush(f->dir, NULL, &n, &error), 0);
	assert_int_equal(next_of(f, a), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_files, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_free_without_commit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_read_update, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_read_refuses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_invalid_ids, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_remove, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unique_ids, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cleanup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_skips_held, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
