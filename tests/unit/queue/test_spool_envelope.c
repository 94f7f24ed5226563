/*
 * queue/spool_envelope: the record format. Round trips with values chosen
 * to forge fields (newlines, "rcpt 5:" look-alikes, maximum lengths, the
 * null sender), the exact bytes of one record, a table of malformed
 * records, and every record cut at every length, which must never parse;
 * and the merge of an attempt's outcome with requests made during it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "queue/spool_envelope.h"

#define ID "0123456789ABCDEF"

/* One valid record; the rejection rows are edits of it. */
static const char golden[] = "postern-envelope 2\n"
			     "id " ID "\n"
			     "created 1700000000\n"
			     "sender 17:alice@example.org\n"
			     "envid 5:ab+2B\n"
			     "ret hdrs\n"
			     "body 8bitmime\n"
			     "smtputf8 1\n"
			     "auth 17:alice@example.org\n"
			     "size 1234\n"
			     "attempts 3\n"
			     "next_attempt 1700000600\n"
			     "held 1\n"
			     "rcpts 2\n"
			     "rcpt 15:bob@example.net\n"
			     "orcpt 22:rfc822;bob@example.net\n"
			     "notify failure,delay\n"
			     "state deferred\n"
			     "last_reply 22:451 4.7.1 Try later\r\nx\n"
			     "updated 1700000300\n"
			     "rcpt 11:c@example.c\n"
			     "orcpt 0:\n"
			     "notify default\n"
			     "state pending\n"
			     "last_reply 0:\n"
			     "updated 0\n"
			     "end\n";

static void golden_env(struct spool_envelope *env)
{
	struct spool_rcpt *r;

	spool_envelope_init(env);
	memcpy(env->id, ID, sizeof(env->id));
	env->created = 1700000000;
	env->sender = xstrdup("alice@example.org");
	env->envid = xstrdup("ab+2B");
	env->ret = SPOOL_RET_HDRS;
	env->body = SPOOL_BODY_8BITMIME;
	env->smtputf8 = true;
	env->auth = xstrdup("alice@example.org");
	env->size = 1234;
	env->attempts = 3;
	env->next_attempt = 1700000600;
	env->held = true;
	r = spool_envelope_add_rcpt(env, "bob@example.net",
				    "rfc822;bob@example.net",
				    SPOOL_NOTIFY_FAILURE | SPOOL_NOTIFY_DELAY);
	r->state = SPOOL_RCPT_DEFERRED;
	free(r->last_reply);
	r->last_reply = xstrdup("451 4.7.1 Try later\r\nx");
	r->updated = 1700000300;
	spool_envelope_add_rcpt(env, "c@example.c", NULL, 0);
}

static const char *s_or_empty(const char *s)
{
	return s != NULL ? s : "";
}

static void assert_str_equal(const char *a, const char *b)
{
	assert_string_equal(s_or_empty(a), s_or_empty(b));
}

static void assert_env_equal(const struct spool_envelope *a,
			     const struct spool_envelope *b)
{
	size_t i;

	assert_string_equal(a->id, b->id);
	assert_int_equal(a->created, b->created);
	assert_str_equal(a->sender, b->sender);
	assert_str_equal(a->envid, b->envid);
	assert_int_equal(a->ret, b->ret);
	assert_int_equal(a->body, b->body);
	assert_int_equal(a->smtputf8, b->smtputf8);
	assert_str_equal(a->auth, b->auth);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->attempts, b->attempts);
	assert_int_equal(a->next_attempt, b->next_attempt);
	assert_int_equal(a->held, b->held);
	assert_int_equal(a->nrcpts, b->nrcpts);
	for (i = 0; i < a->nrcpts; i++) {
		const struct spool_rcpt *x = &a->rcpts[i], *y = &b->rcpts[i];

		assert_str_equal(x->address, y->address);
		assert_str_equal(x->orcpt, y->orcpt);
		assert_int_equal(x->notify, y->notify);
		assert_int_equal(x->state, y->state);
		assert_str_equal(x->last_reply, y->last_reply);
		assert_int_equal(x->updated, y->updated);
	}
}

/* Parsing must fail on every strict prefix of a record. */
static void assert_prefixes_fail(const char *rec, size_t len)
{
	struct spool_envelope env;
	const char *error;
	size_t i;

	for (i = 0; i < len; i++) {
		/* An exact-size copy, so a read past the cut is caught by
		 * ASan. */
		char *cut = xmalloc(i > 0 ? i : 1);

		memcpy(cut, rec, i);
		error = NULL;
		assert_int_equal(spool_envelope_parse(cut, i, &env, &error),
				 -1);
		assert_non_null(error);
		assert_null(env.rcpts);
		assert_null(env.sender);
		free(cut);
	}
}

/* format(env) parses back equal, formats to the same bytes, and no
 * prefix of it parses. */
static void round_trip(const struct spool_envelope *env, bool prefixes)
{
	struct spool_envelope back;
	const char *error = NULL;
	size_t len, len2;
	char *rec = spool_envelope_format(env, &len), *rec2;

	assert_non_null(rec);
	assert_int_equal(strlen(rec), len);
	assert_int_equal(spool_envelope_parse(rec, len, &back, &error), 0);
	assert_env_equal(env, &back);
	rec2 = spool_envelope_format(&back, &len2);
	assert_non_null(rec2);
	assert_int_equal(len, len2);
	assert_memory_equal(rec, rec2, len);
	if (prefixes)
		assert_prefixes_fail(rec, len);
	spool_envelope_fini(&back);
	free(rec);
	free(rec2);
}

static void test_golden_bytes(void **state)
{
	struct spool_envelope env, parsed;
	const char *error = NULL;
	size_t len;
	char *rec;

	golden_env(&env);
	rec = spool_envelope_format(&env, &len);
	assert_non_null(rec);
	assert_int_equal(len, strlen(golden));
	assert_string_equal(rec, golden);
	assert_int_equal(
		spool_envelope_parse(golden, strlen(golden), &parsed, &error),
		0);
	assert_env_equal(&env, &parsed);
	assert_prefixes_fail(golden, strlen(golden));
	spool_envelope_fini(&parsed);
	spool_envelope_fini(&env);
	free(rec);
}

static char *repeat(char c, size_t n)
{
	char *s = xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* Values that would forge a field in a format without length prefixes. */
static void test_round_trip_forgeries(void **state)
{
	static const char *const evil[] = {
		"",
		" ",
		"\n",
		"a\nrcpt 5:x@y\n",
		"x\nend\n",
		"\nstate delivered\nlast_reply 0:\nupdated 0\n",
		"5:abcde",
		"rcpt 5:",
		"with spaces and \t tab",
		"\r\n.\r\n",
		"\xff\xfe utf-8 \xc3\xa9",
		"1000:",
	};
	struct spool_envelope env;
	size_t i;

	for (i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		struct spool_rcpt *r;

		spool_envelope_init(&env);
		memcpy(env.id, "FFFFFFFFFFFFFFFF", sizeof(env.id));
		env.sender = xstrdup(evil[i]);
		env.envid = xstrdup(evil[i]);
		env.auth = xstrdup(evil[i]);
		r = spool_envelope_add_rcpt(&env, evil[i], evil[i],
					    SPOOL_NOTIFY_ALL);
		free(r->last_reply);
		r->last_reply = xstrdup(evil[i]);
		r->state = SPOOL_RCPT_FAILED;
		spool_envelope_add_rcpt(&env, "second@example.org", NULL,
					SPOOL_NOTIFY_NEVER);
		round_trip(&env, true);
		spool_envelope_fini(&env);
	}
}

static void test_round_trip_limits(void **state)
{
	struct spool_envelope env;
	struct spool_rcpt *r;
	char *big = repeat('x', SPOOL_FIELD_MAX);
	size_t len, i;

	/* Every field at its maximum; the null sender. */
	spool_envelope_init(&env);
	memcpy(env.id, ID, sizeof(env.id));
	env.sender = xstrdup("");
	env.envid = xstrdup(big);
	env.auth = xstrdup(big);
	env.created = env.next_attempt = INT64_MAX;
	env.size = UINT64_MAX;
	env.attempts = UINT32_MAX;
	r = spool_envelope_add_rcpt(&env, big, big, SPOOL_NOTIFY_SUCCESS);
	free(r->last_reply);
	r->last_reply = xstrdup(big);
	r->updated = INT64_MAX;
	r->state = SPOOL_RCPT_DELIVERED;
	round_trip(&env, true);

	/* One byte over a field limit: format refuses. */
	free(env.sender);
	env.sender = repeat('y', SPOOL_FIELD_MAX + 1);
	assert_null(spool_envelope_format(&env, &len));
	free(env.sender);
	env.sender = NULL; /* NULL formats as "" */

	/* The most recipients, then one more. */
	for (i = 1; i < SPOOL_MAX_RCPTS; i++)
		spool_envelope_add_rcpt(&env, "r@example.org", NULL, 0);
	round_trip(&env, false);
	spool_envelope_add_rcpt(&env, "r@example.org", NULL, 0);
	assert_null(spool_envelope_format(&env, &len));
	spool_envelope_fini(&env);
	free(big);
}

static void test_format_refuses(void **state)
{
	struct spool_envelope env;
	size_t len;

	golden_env(&env);
	env.id[3] = 'a'; /* lower case */
	assert_null(spool_envelope_format(&env, &len));
	memcpy(env.id, ID, sizeof(env.id));
	env.ret = (enum spool_ret)7;
	assert_null(spool_envelope_format(&env, &len));
	env.ret = SPOOL_RET_FULL;
	env.rcpts[1].notify = 0x10;
	assert_null(spool_envelope_format(&env, &len));
	env.rcpts[1].notify = 0;
	env.rcpts[1].state = (enum spool_rcpt_state)4;
	assert_null(spool_envelope_format(&env, &len));
	env.rcpts[1].state = SPOOL_RCPT_PENDING;
	env.created = -1;
	assert_null(spool_envelope_format(&env, &len));
	env.created = 0;
	spool_envelope_fini(&env);
	/* No recipients. */
	memcpy(env.id, ID, sizeof(env.id));
	assert_null(spool_envelope_format(&env, &len));
}

struct edit {
	const char *name;
	const char *from;  /* replace the first occurrence in golden... */
	const char *to;	   /* ...with this */
	const char *error; /* what the parser says */
};

/* Each row: golden with one edit, which must be refused. */
static const struct edit bad[] = {
	{"bad magic", "postern-envelope 2", "postern-envelop 2",
	 "not a postern envelope"},
	{"version 3", "postern-envelope 2", "postern-envelope 3",
	 "unsupported envelope version"},
	{"version 0", "postern-envelope 2", "postern-envelope 0",
	 "unsupported envelope version"},
	{"version 02", "postern-envelope 2", "postern-envelope 02",
	 "unsupported envelope version"},
	{"no version", "postern-envelope 2", "postern-envelope",
	 "not a postern envelope"},
	/* Version 1 has no held line; version 2 must have it. */
	{"v1 with held", "postern-envelope 2", "postern-envelope 1",
	 "missing or misplaced field"},
	{"v2 without held", "held 1\n", "", "missing or misplaced field"},
	{"held 2", "held 1", "held 2", "bad number"},
	{"held empty", "held 1", "held ", "bad number"},
	{"empty id", "id " ID, "id ", "bad id"},
	{"short id", "id " ID, "id 0123456789ABCDE", "bad id"},
	{"long id", "id " ID, "id " ID "0", "bad id"},
	{"lower id", "id " ID, "id 0123456789abcdef", "bad id"},
	{"path id", "id " ID, "id ../../../etc/pw", "bad id"},
	{"length too small",
	 "sender 17:", "sender 16:", "length prefix does not match the value"},
	{"length too large",
	 "sender 17:", "sender 18:", "length prefix does not match the value"},
	{"length leading zero",
	 "sender 17:", "sender 017:", "bad length prefix"},
	{"length over max", "sender 17:", "sender 1001:", "bad length prefix"},
	{"length huge",
	 "sender 17:", "sender 99999999999999999999:", "bad length prefix"},
	{"length negative", "sender 17:", "sender -17:", "bad length prefix"},
	{"length no colon", "sender 17:", "sender 17", "bad length prefix"},
	{"length empty", "sender 17:", "sender :", "bad length prefix"},
	{"length plus", "sender 17:", "sender +17:", "bad length prefix"},
	{"missing field", "envid 5:ab+2B\n", "", "missing or misplaced field"},
	{"swapped fields", "ret hdrs\nbody 8bitmime\n",
	 "body 8bitmime\nret hdrs\n", "missing or misplaced field"},
	{"duplicate field", "ret hdrs\n", "ret hdrs\nret hdrs\n",
	 "missing or misplaced field"},
	{"unknown field", "ret hdrs\n", "ret hdrs\nextra 0:\n",
	 "missing or misplaced field"},
	{"bad ret", "ret hdrs", "ret HDRS", "unknown keyword"},
	{"bad body", "body 8bitmime", "body binarymime", "unknown keyword"},
	{"smtputf8 2", "smtputf8 1", "smtputf8 2", "bad number"},
	{"number space", "size 1234", "size 1234 ", "bad number"},
	{"number leading zero", "size 1234", "size 01234", "bad number"},
	{"number empty", "size 1234", "size ", "bad number"},
	{"number negative", "created 1700000000", "created -1", "bad number"},
	{"number hex", "size 1234", "size 0x12", "bad number"},
	{"size overflow", "size 1234", "size 18446744073709551616",
	 "bad number"},
	{"attempts overflow", "attempts 3", "attempts 4294967296",
	 "bad number"},
	{"time overflow", "updated 0", "updated 9223372036854775808",
	 "bad number"},
	{"double space", "size 1234", "size  1234", "bad number"},
	{"CRLF lines", "size 1234\n", "size 1234\r\n", "bad number"},
	{"zero rcpts", "rcpts 2", "rcpts 0", "no recipients"},
	{"too few rcpts", "rcpts 2", "rcpts 1",
	 "missing end or too many recipients"},
	{"too many rcpts", "rcpts 2", "rcpts 3", "missing or misplaced field"},
	{"rcpts over max", "rcpts 2", "rcpts 10001", "too many recipients"},
	{"bad state", "state pending", "state done", "unknown keyword"},
	{"notify empty", "notify default", "notify ", "bad notify"},
	{"notify dup", "notify failure,delay", "notify failure,failure",
	 "bad notify"},
	{"notify trailing comma", "notify failure,delay", "notify failure,",
	 "bad notify"},
	{"notify leading comma", "notify failure,delay", "notify ,delay",
	 "bad notify"},
	{"notify unknown", "notify failure,delay", "notify failure,bounce",
	 "bad notify"},
	{"notify default and", "notify default", "notify default,delay",
	 "bad notify"},
	{"notify number", "notify default", "notify 6", "bad notify"},
	{"NUL in value", "alice@example.org\n", "alice@exa\0ple.org\n",
	 "NUL in envelope"},
	{"no end", "end\n", "", "truncated envelope"},
	{"end without LF", "end\n", "end", "truncated envelope"},
	{"END", "end\n", "END\n", "missing end or too many recipients"},
	{"trailing data", "end\n", "end\nx", "trailing data after end"},
	{"trailing LF", "end\n", "end\n\n", "trailing data after end"},
	{"trailing record", "end\n", "end\npostern-envelope 2\n",
	 "trailing data after end"},
	{"field without value", "attempts 3\n", "attempts\n",
	 "missing or misplaced field"},
	{"token too long", "size 1234",
	 "size 123412341234123412341234123412341", "value too long"},
};

/* golden with e's edit applied. */
static char *apply(const struct edit *e, size_t *len_r)
{
	const char *at = strstr(golden, e->from);
	size_t from_len = strlen(e->from), to_len = strlen(e->to);
	size_t head, len;
	char *out;

	assert_non_null(at);
	/* The NUL row's "to" is as long as its "from". */
	if (strcmp(e->name, "NUL in value") == 0)
		to_len = from_len;
	head = (size_t)(at - golden);
	len = strlen(golden) - from_len + to_len;
	out = xmalloc(len > 0 ? len : 1);
	memcpy(out, golden, head);
	memcpy(out + head, e->to, to_len);
	/* Records are not C strings: no NUL is wanted at the end. */
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
	memcpy(out + head + to_len, at + from_len,
	       strlen(golden) - head - from_len);
	*len_r = len;
	return out;
}

static void test_rejects(void **state)
{
	size_t i, len, cut;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct spool_envelope env;
		const char *error = NULL;
		char *rec = apply(&bad[i], &len);

		if (spool_envelope_parse(rec, len, &env, &error) != -1)
			fail_msg("row '%s' parsed", bad[i].name);
		if (error == NULL || strcmp(error, bad[i].error) != 0)
			fail_msg("row '%s': error '%s'", bad[i].name,
				 error != NULL ? error : "(null)");
		assert_null(env.rcpts);
		/* Its prefixes may only parse when they end a record. */
		for (cut = 0; cut < len; cut++) {
			char *p = xmalloc(cut > 0 ? cut : 1);

			memcpy(p, rec, cut);
			if (spool_envelope_parse(p, cut, &env, &error) == 0) {
				assert_true(cut >= 4);
				assert_memory_equal(p + cut - 4, "end\n", 4);
				spool_envelope_fini(&env);
			}
			free(p);
		}
		free(rec);
	}
}

/* A record with a big recipient count but few bytes allocates by what is
 * there, and a record with too many recipients stops at the limit. */
static void test_rcpts_limit(void **state)
{
	struct spool_envelope env;
	const char *error;
	char *rec, *p;
	size_t len, one, i;
	const char *rcpt = "rcpt 1:a\norcpt 0:\nnotify default\n"
			   "state pending\nlast_reply 0:\nupdated 0\n";
	const char *head = strstr(golden, "rcpts 2\n");

	one = strlen(rcpt);
	len = (size_t)(head - golden) + strlen("rcpts 10000\n") +
	      (SPOOL_MAX_RCPTS + 1) * one + 4;
	rec = xmalloc(len);
	p = rec;
	memcpy(p, golden, (size_t)(head - golden));
	p += head - golden;
	memcpy(p, "rcpts 10000\n", 12);
	p += 12;
	for (i = 0; i < SPOOL_MAX_RCPTS + 1; i++, p += one)
		memcpy(p, rcpt, one);
	memcpy(p, "end\n", 4);
	/* 10001 recipients against a count of 10000. */
	assert_int_equal(spool_envelope_parse(rec, len, &env, &error), -1);
	/* Exactly 10000. */
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
	memcpy(rec + len - 4 - one, "end\n", 4);
	assert_int_equal(spool_envelope_parse(rec, len - one, &env, &error), 0);
	assert_int_equal(env.nrcpts, SPOOL_MAX_RCPTS);
	spool_envelope_fini(&env);
	free(rec);
}

/* A version 1 record (before hold existed) still parses, as not held, and
 * is written back as version 2. */
static void test_version1(void **state)
{
	struct spool_envelope env, want;
	const char *error = NULL;
	const char *held = strstr(golden, "held 1\n");
	size_t head = (size_t)(held - golden), len, out_len;
	char *v1, *out;

	len = strlen(golden) - strlen("held 1\n");
	v1 = xmalloc(len);
	memcpy(v1, golden, head);
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
	memcpy(v1 + head, held + strlen("held 1\n"),
	       strlen(golden) - head - strlen("held 1\n"));
	v1[strlen("postern-envelope ")] = '1';
	assert_int_equal(spool_envelope_parse(v1, len, &env, &error), 0);
	golden_env(&want);
	want.held = false;
	assert_env_equal(&want, &env);
	out = spool_envelope_format(&env, &out_len);
	assert_non_null(out);
	assert_int_equal(out_len, len + strlen("held 0\n"));
	assert_memory_equal(out, "postern-envelope 2\n", 19);
	assert_non_null(
		strstr(out, "next_attempt 1700000600\nheld 0\nrcpts 2\n"));
	assert_prefixes_fail(v1, len);
	free(out);
	free(v1);
	spool_envelope_fini(&env);
	spool_envelope_fini(&want);
}

static void test_id_valid(void **state)
{
	assert_true(spool_id_valid(ID));
	assert_true(spool_id_valid("FFFFFFFFFFFFFFFF"));
	assert_false(spool_id_valid(NULL));
	assert_false(spool_id_valid(""));
	assert_false(spool_id_valid("0123456789ABCDE"));
	assert_false(spool_id_valid(ID "0"));
	assert_false(spool_id_valid("0123456789ABCDEf"));
	assert_false(spool_id_valid("0123456789ABCDEG"));
	assert_false(spool_id_valid("../../etc/passwd"));
	assert_false(spool_id_valid("0123456789ABCDE/"));
	assert_false(spool_id_valid("0123456789ABCDE."));
}

/* ---- requests made during an attempt (spool_envelope_merge) ---- */

#define OURS_REPLY "451 4.7.1 attempt's reply"
#define DISK_REPLY "550 5.0.0 returned to sender by the administrator"

/* One recipient: its state after the attempt and on disk now, and what
 * the merge keeps (and whose reply). */
static const struct merge_row {
	enum spool_rcpt_state ours, disk, want;
	bool disk_reply;
} merge_rows[] = {
	/* bounced while the attempt deferred it, or did not get to it */
	{SPOOL_RCPT_DEFERRED, SPOOL_RCPT_FAILED, SPOOL_RCPT_FAILED, true},
	{SPOOL_RCPT_PENDING, SPOOL_RCPT_FAILED, SPOOL_RCPT_FAILED, true},
	/* final on disk by any means: the same */
	{SPOOL_RCPT_DEFERRED, SPOOL_RCPT_DELIVERED, SPOOL_RCPT_DELIVERED, true},
	/* delivered by the attempt: that mail is gone, it stays delivered */
	{SPOOL_RCPT_DELIVERED, SPOOL_RCPT_FAILED, SPOOL_RCPT_DELIVERED, false},
	/* failed by the attempt: the server's reply is the better reason */
	{SPOOL_RCPT_FAILED, SPOOL_RCPT_FAILED, SPOOL_RCPT_FAILED, false},
	/* nothing asked: the attempt's outcome */
	{SPOOL_RCPT_DEFERRED, SPOOL_RCPT_PENDING, SPOOL_RCPT_DEFERRED, false},
	{SPOOL_RCPT_DELIVERED, SPOOL_RCPT_PENDING, SPOOL_RCPT_DELIVERED, false},
	{SPOOL_RCPT_FAILED, SPOOL_RCPT_PENDING, SPOOL_RCPT_FAILED, false},
	{SPOOL_RCPT_DEFERRED, SPOOL_RCPT_DEFERRED, SPOOL_RCPT_DEFERRED, false},
	{SPOOL_RCPT_PENDING, SPOOL_RCPT_PENDING, SPOOL_RCPT_PENDING, false},
};

/* An envelope with one recipient per row, in the ours or disk state. */
static void merge_env(struct spool_envelope *env, bool disk, time_t next,
		      bool held)
{
	spool_envelope_init(env);
	memcpy(env->id, ID, sizeof(env->id));
	env->sender = xstrdup("alice@example.org");
	env->next_attempt = next;
	env->held = held;
	for (size_t i = 0; i < sizeof(merge_rows) / sizeof(merge_rows[0]);
	     i++) {
		char addr[32];
		struct spool_rcpt *r;

		snprintf(addr, sizeof(addr), "r%zu@example.net", i);
		r = spool_envelope_add_rcpt(env, addr, NULL, 0);
		r->state = disk ? merge_rows[i].disk : merge_rows[i].ours;
		free(r->last_reply);
		r->last_reply = xstrdup(disk ? DISK_REPLY : OURS_REPLY);
		r->updated = disk ? 1700000900 : 1700000500;
	}
}

static void test_merge_rcpts(void **state)
{
	struct spool_envelope ours, disk;

	(void)state;
	merge_env(&ours, false, 1700000600, false);
	merge_env(&disk, true, 1700000600, false);
	assert_false(spool_envelope_merge(&ours, &disk));
	for (size_t i = 0; i < ours.nrcpts; i++) {
		const struct merge_row *m = &merge_rows[i];
		const struct spool_rcpt *r = &ours.rcpts[i];

		print_message("row %zu\n", i);
		assert_int_equal(r->state, m->want);
		assert_string_equal(r->last_reply,
				    m->disk_reply ? DISK_REPLY : OURS_REPLY);
		assert_int_equal(r->updated,
				 m->disk_reply ? 1700000900 : 1700000500);
	}
	spool_envelope_fini(&ours);
	spool_envelope_fini(&disk);
}

/* A record whose recipients are not the attempt's: none is taken. */
static void test_merge_mismatch(void **state)
{
	struct spool_envelope ours, disk;

	(void)state;
	merge_env(&ours, false, 0, false);
	merge_env(&disk, true, 0, true);
	free(disk.rcpts[0].address);
	disk.rcpts[0].address = xstrdup("other@example.net");
	assert_false(spool_envelope_merge(&ours, &disk));
	assert_int_equal(ours.rcpts[0].state, SPOOL_RCPT_DEFERRED);
	assert_int_equal(ours.rcpts[1].state, SPOOL_RCPT_FAILED); /* row 1 */
	assert_true(ours.held); /* the hold is the message's all the same */
	spool_envelope_fini(&disk);
	spool_envelope_fini(&ours);
	merge_env(&ours, false, 0, false);
	merge_env(&disk, true, 0, false);
	disk.nrcpts--; /* one fewer: the last one is not freed by fini */
	free(disk.rcpts[disk.nrcpts].address);
	free(disk.rcpts[disk.nrcpts].orcpt);
	free(disk.rcpts[disk.nrcpts].last_reply);
	(void)spool_envelope_merge(&ours, &disk);
	for (size_t i = 0; i < ours.nrcpts; i++)
		assert_string_equal(ours.rcpts[i].last_reply, OURS_REPLY);
	spool_envelope_fini(&disk);
	spool_envelope_fini(&ours);
}

/* held comes from the disk; a rewritten next_attempt asks for one now. */
static void test_merge_schedule(void **state)
{
	static const struct {
		time_t ours_next, disk_next;
		bool disk_held, asked;
	} rows[] = {
		{0, 0, false, false},
		{0, 1, false, true}, /* flush of a new message */
		{1700000600, 1700000600, false, false},
		{1700000600, 0, false, true},	       /* flush of a retry */
		{1700000600, 1700000600, true, false}, /* hold */
		{0, 0, true, false},
		{1, 0, false, true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct spool_envelope ours, disk;

		print_message("row %zu\n", i);
		merge_env(&ours, false, rows[i].ours_next, false);
		merge_env(&disk, false, rows[i].disk_next, rows[i].disk_held);
		assert_int_equal(spool_envelope_merge(&ours, &disk),
				 rows[i].asked);
		assert_int_equal(ours.held, rows[i].disk_held);
		/* The schedule itself is the caller's to set. */
		assert_int_equal(ours.next_attempt, rows[i].ours_next);
		spool_envelope_fini(&ours);
		spool_envelope_fini(&disk);
	}
}

/* Due now, and never what it was: so a flush always shows. */
static void test_due_now(void **state)
{
	static const time_t rows[] = {0, 1, 2, 1700000600, INT64_MAX};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		time_t t = spool_due_now(rows[i]);

		assert_true(t != rows[i]);
		assert_true(t == 0 || t == 1);
		assert_int_equal(spool_due_now(spool_due_now(rows[i])) != t,
				 true);
	}
	assert_int_equal(spool_due_now(0), 1);
	assert_int_equal(spool_due_now(1700000600), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_bytes),
		cmocka_unit_test(test_round_trip_forgeries),
		cmocka_unit_test(test_round_trip_limits),
		cmocka_unit_test(test_format_refuses),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_rcpts_limit),
		cmocka_unit_test(test_version1),
		cmocka_unit_test(test_id_valid),
		cmocka_unit_test(test_merge_rcpts),
		cmocka_unit_test(test_merge_mismatch),
		cmocka_unit_test(test_merge_schedule),
		cmocka_unit_test(test_due_now),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
