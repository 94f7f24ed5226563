/*
 * imap/parse: tags, strings (quoted, literal, LITERAL+), sequence sets,
 * nested lists, flags, dates, numbers, literal announcements, over-long
 * input and garbage, row by row. Every input is an exact-size heap copy
 * so the sanitizer build sees any read past the end; every valid command
 * is also cut at each byte and must then fail cleanly or parse a prefix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "imap/parse.h"
#include "store/store.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))
#define S(s) s, sizeof(s) - 1

static char *exact(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

/* ---- tag and command name ---- */

struct cmd_row {
	const char *in;
	size_t len;
	int ret;
	const char *tag, *name;
};

static const struct cmd_row cmd_rows[] = {
	{S("a1 NOOP"), 0, "a1", "NOOP"},
	{S("a1 noop"), 0, "a1", "NOOP"},
	{S("A.b-c] uid FETCH"), 0, "A.b-c]", "UID"},
	{S(""), -1, "*", NULL},
	{S(" NOOP"), -1, "*", NULL},
	{S("+ NOOP"), -1, "*", NULL},
	{S("a+ NOOP"), -1, "a", NULL},
	{S("a1"), -1, "a1", NULL},
	{S("a1 "), -1, "a1", NULL},
	{S("a1  NOOP"), -1, "a1", NULL},
	{S("a{1} NOOP"), -1, "a", NULL},
	{S("a\"b NOOP"), -1, "a", NULL},
	{S("a1 (NOOP)"), -1, "a1", NULL},
	{S("a1 VERYVERYVERYVERYVERYLONGCOMMANDNAMEXX"), -1, "a1", NULL},
};

static void test_command(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(cmd_rows); i++) {
		const struct cmd_row *r = &cmd_rows[i];
		char *in = exact(r->in, r->len);
		struct imap_args a;
		const char *tag = NULL, *name = NULL;
		int ret;

		imap_args_init(&a, in, r->len);
		ret = imap_args_command(&a, &tag, &name);
		if (ret != r->ret)
			fail_msg("row %zu (%s): %d", i, r->in, ret);
		assert_string_equal(tag, r->tag);
		if (ret == 0)
			assert_string_equal(name, r->name);
		else
			assert_true(imap_args_error(&a)[0] != '\0');
		imap_args_fini(&a);
		free(in);
	}
}

static void test_tag_too_long(void **state)
{
	char line[200];
	struct imap_args a;
	const char *tag, *name;

	(void)state;
	memset(line, 'x', IMAP_TAG_MAX + 1);
	memcpy(line + IMAP_TAG_MAX + 1, " NOOP", 5);
	imap_args_init(&a, line, IMAP_TAG_MAX + 6);
	assert_int_equal(imap_args_command(&a, &tag, &name), -1);
	assert_string_equal(tag, "*");
	imap_args_fini(&a);
	/* Exactly the maximum is fine. */
	imap_args_init(&a, line + 1, IMAP_TAG_MAX + 5);
	assert_int_equal(imap_args_command(&a, &tag, &name), 0);
	assert_int_equal(strlen(tag), IMAP_TAG_MAX);
	imap_args_fini(&a);
}

/* ---- astring / string / nstring ---- */

enum str_kind { K_ASTRING, K_STRING, K_NSTRING, K_MAILBOX, K_LISTMB };

struct str_row {
	enum str_kind kind;
	const char *in;
	size_t in_len;
	int ret;
	const char *out; /* NULL with ret 0: NIL */
	size_t out_len;
};

#define OUT(s) s, sizeof(s) - 1

static const struct str_row str_rows[] = {
	{K_ASTRING, S("abc"), 0, OUT("abc")},
	{K_ASTRING, S("a]b"), 0, OUT("a]b")},
	{K_ASTRING, S("\"\""), 0, OUT("")},
	{K_ASTRING, S("\"a b\""), 0, OUT("a b")},
	{K_ASTRING, S("\"a\\\"b\\\\c\""), 0, OUT("a\"b\\c")},
	{K_ASTRING, S("\"a\\b\""), -1, NULL, 0},
	{K_ASTRING, S("\"abc"), -1, NULL, 0},
	{K_ASTRING, S("\"ab\\\""), -1, NULL, 0},
	{K_ASTRING, S("\"a\rb\""), -1, NULL, 0},
	{K_ASTRING, S("{3}\r\nabc"), 0, OUT("abc")},
	{K_ASTRING, S("{3+}\r\na\"c"), 0, OUT("a\"c")},
	{K_ASTRING, S("{0}\r\n"), 0, OUT("")},
	{K_ASTRING, S("{5}\r\nabc"), -1, NULL, 0},
	{K_ASTRING, S("{3}abc"), -1, NULL, 0},
	{K_ASTRING, S("{3}\nabc"), -1, NULL, 0},
	{K_ASTRING, S("{}\r\n"), -1, NULL, 0},
	{K_ASTRING, S("{3-}\r\nabc"), -1, NULL, 0},
	{K_ASTRING, S("{4294967296}\r\nabc"), -1, NULL, 0},
	{K_ASTRING, S("{99999999999999999999}\r\n"), -1, NULL, 0},
	{K_ASTRING, S("{3}\r\na\0c"), -1, NULL, 0},
	{K_ASTRING, S("(abc)"), -1, NULL, 0},
	{K_ASTRING, S("a%c"), 0, OUT("a")}, /* then extra input */
	{K_ASTRING, S(""), -1, NULL, 0},
	{K_STRING, S("abc"), -1, NULL, 0},
	{K_STRING, S("\"abc\""), 0, OUT("abc")},
	{K_STRING, S("\"caf\xc3\xa9\""), 0, OUT("caf\xc3\xa9")},
	{K_NSTRING, S("NIL"), 0, NULL, 0},
	{K_NSTRING, S("nil"), 0, NULL, 0},
	{K_NSTRING, S("NILS"), -1, NULL, 0},
	{K_NSTRING, S("\"NIL\""), 0, OUT("NIL")},
	{K_MAILBOX, S("inbox"), 0, OUT("INBOX")},
	{K_MAILBOX, S("\"InBoX\""), 0, OUT("INBOX")},
	{K_MAILBOX, S("INBOX/sub"), 0, OUT("INBOX/sub")},
	{K_MAILBOX, S("A*"), 0, OUT("A")},
	{K_LISTMB, S("A*%"), 0, OUT("A*%")},
	{K_LISTMB, S("\"*\""), 0, OUT("*")},
	{K_LISTMB, S("%/x]"), 0, OUT("%/x]")},
};

static int read_str(struct imap_args *a, enum str_kind kind, const char **s,
		    size_t *len)
{
	*len = (size_t)-1;
	switch (kind) {
	case K_ASTRING:
		return imap_args_astring(a, s, len);
	case K_STRING:
		return imap_args_string(a, s, len);
	case K_NSTRING:
		return imap_args_nstring(a, s, len);
	case K_MAILBOX:
		return imap_args_mailbox(a, s);
	case K_LISTMB:
		return imap_args_list_mailbox(a, s);
	}
	return -2;
}

static void test_strings(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(str_rows); i++) {
		const struct str_row *r = &str_rows[i];
		char *in = exact(r->in, r->in_len);
		struct imap_args a;
		const char *s = "unset";
		size_t len;
		int ret;

		imap_args_init(&a, in, r->in_len);
		ret = read_str(&a, r->kind, &s, &len);
		if (ret != r->ret)
			fail_msg("row %zu (%s): %d %s", i, r->in, ret,
				 imap_args_error(&a));
		if (ret == 0 && r->out == NULL) {
			assert_null(s);
		} else if (ret == 0) {
			assert_non_null(s);
			assert_int_equal(strlen(s), r->out_len);
			assert_memory_equal(s, r->out, r->out_len);
			if (r->kind <= K_NSTRING)
				assert_int_equal(len, r->out_len);
		} else {
			/* A failure leaves the cursor where it was. */
			assert_ptr_equal(a.p, in);
		}
		imap_args_fini(&a);
		free(in);
	}
}

/* Arguments separated by exactly one SP, literals in between. */
static void test_arguments(void **state)
{
	static const char in[] = "LOGIN {5}\r\nalice {6+}\r\nsecret";
	char *buf = exact(in, sizeof(in) - 1);
	struct imap_args a;
	const char *s;

	(void)state;
	imap_args_init(&a, buf, sizeof(in) - 1);
	assert_int_equal(imap_args_atom(&a, &s), 0);
	assert_string_equal(s, "LOGIN");
	assert_false(imap_args_at_end(&a));
	assert_int_equal(imap_args_astring(&a, &s, NULL), 0);
	assert_string_equal(s, "alice");
	assert_int_equal(imap_args_astring(&a, &s, NULL), 0);
	assert_string_equal(s, "secret");
	assert_true(imap_args_at_end(&a));
	assert_int_equal(imap_args_finish(&a), 0);
	assert_int_equal(imap_args_astring(&a, &s, NULL), -1);
	imap_args_fini(&a);
	imap_args_fini(&a); /* twice is fine */
	free(buf);

	/* Two spaces, a trailing space: syntax errors. */
	buf = exact("a  b", 4);
	imap_args_init(&a, buf, 4);
	assert_int_equal(imap_args_atom(&a, &s), 0);
	assert_int_equal(imap_args_atom(&a, &s), -1);
	imap_args_fini(&a);
	free(buf);
	buf = exact("a ", 2);
	imap_args_init(&a, buf, 2);
	assert_int_equal(imap_args_atom(&a, &s), 0);
	assert_int_equal(imap_args_finish(&a), -1);
	assert_int_equal(imap_args_atom(&a, &s), -1);
	imap_args_fini(&a);
	free(buf);
}

/* ---- lists ---- */

static void test_nested_lists(void **state)
{
	static const char in[] = "(a (b (c) \"d e\") () {1}\r\nf) g";
	char *buf = exact(in, sizeof(in) - 1);
	struct imap_args a;
	const char *s;

	(void)state;
	imap_args_init(&a, buf, sizeof(in) - 1);
	assert_true(imap_args_is_list(&a));
	assert_int_equal(imap_args_list_open(&a), 0);
	assert_int_equal(imap_args_atom(&a, &s), 0);
	assert_string_equal(s, "a");
	assert_int_equal(imap_args_list_open(&a), 0);
	assert_int_equal(imap_args_atom(&a, &s), 0);
	assert_string_equal(s, "b");
	assert_int_equal(imap_args_skip(&a), 0); /* (c) */
	assert_int_equal(imap_args_string(&a, &s, NULL), 0);
	assert_string_equal(s, "d e");
	assert_true(imap_args_at_end(&a));
	assert_int_equal(imap_args_list_close(&a), 0);
	assert_int_equal(imap_args_list_open(&a), 0);
	assert_true(imap_args_at_end(&a));
	assert_int_equal(imap_args_list_close(&a), 0);
	assert_int_equal(imap_args_astring(&a, &s, NULL), 0);
	assert_string_equal(s, "f");
	assert_int_equal(imap_args_list_close(&a), 0);
	assert_int_equal(imap_args_list_close(&a), -1);
	assert_int_equal(imap_args_atom(&a, &s), 0);
	assert_string_equal(s, "g");
	assert_int_equal(imap_args_finish(&a), 0);
	imap_args_fini(&a);

	/* The same list skipped whole. */
	imap_args_init(&a, buf, sizeof(in) - 1);
	assert_int_equal(imap_args_skip(&a), 0);
	assert_int_equal(imap_args_skip(&a), 0);
	assert_int_equal(imap_args_finish(&a), 0);
	imap_args_fini(&a);
	free(buf);
}

static void test_list_limits(void **state)
{
	char deep[2 * IMAP_LIST_DEPTH_MAX + 10];
	struct imap_args a;
	size_t n = IMAP_LIST_DEPTH_MAX + 1;

	(void)state;
	memset(deep, '(', n);
	memset(deep + n, ')', n);
	imap_args_init(&a, deep, 2 * n);
	assert_int_equal(imap_args_skip(&a), -1);
	imap_args_fini(&a);
	imap_args_init(&a, deep + 1, 2 * n - 2);
	assert_int_equal(imap_args_skip(&a), 0);
	assert_int_equal(imap_args_finish(&a), 0);
	imap_args_fini(&a);
	/* Unbalanced. */
	imap_args_init(&a, "(a (b)", 6);
	assert_int_equal(imap_args_skip(&a), -1);
	imap_args_fini(&a);
	imap_args_init(&a, "(a", 2);
	assert_int_equal(imap_args_list_open(&a), 0);
	assert_int_equal(imap_args_skip(&a), 0);
	assert_int_equal(imap_args_finish(&a), -1);
	imap_args_fini(&a);
}

/* FETCH-style words that run into punctuation. */
static void test_fetch_section(void **state)
{
	static const char in[] =
		"BODY.PEEK[HEADER.FIELDS (From To)]<0.100> UID";
	char *buf = exact(in, sizeof(in) - 1);
	struct imap_args a;
	const char *s;
	uint32_t n;

	(void)state;
	imap_args_init(&a, buf, sizeof(in) - 1);
	assert_int_equal(imap_args_atom_until(&a, "[<", &s), 0);
	assert_string_equal(s, "BODY.PEEK");
	assert_true(imap_args_peek(&a, '['));
	assert_int_equal(imap_args_char(&a, '['), 0);
	assert_int_equal(imap_args_atom_until(&a, "[<", &s), 0);
	assert_string_equal(s, "HEADER.FIELDS");
	assert_int_equal(imap_args_list_open(&a), 0);
	assert_int_equal(imap_args_astring(&a, &s, NULL), 0);
	assert_string_equal(s, "From");
	assert_int_equal(imap_args_astring(&a, &s, NULL), 0);
	assert_string_equal(s, "To");
	assert_int_equal(imap_args_list_close(&a), 0);
	assert_int_equal(imap_args_char(&a, ']'), 0);
	assert_int_equal(imap_args_char(&a, '<'), 0);
	assert_int_equal(imap_args_number(&a, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(imap_args_char(&a, '.'), 0);
	assert_int_equal(imap_args_nz_number(&a, &n), 0);
	assert_int_equal(n, 100);
	assert_int_equal(imap_args_char(&a, '>'), 0);
	assert_int_equal(imap_args_char(&a, '>'), -1);
	assert_int_equal(imap_args_atom(&a, &s), 0);
	assert_string_equal(s, "UID");
	assert_int_equal(imap_args_finish(&a), 0);
	imap_args_fini(&a);
	free(buf);
}

/* ---- numbers ---- */

static void test_numbers(void **state)
{
	struct imap_args a;
	uint32_t n;
	uint64_t n64;

	(void)state;
	imap_args_init(&a, "0 4294967295 4294967296", 23);
	assert_int_equal(imap_args_number(&a, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(imap_args_number(&a, &n), 0);
	assert_int_equal(n, 4294967295u);
	assert_int_equal(imap_args_number(&a, &n), -1);
	imap_args_fini(&a);

	imap_args_init(&a, "0", 1);
	assert_int_equal(imap_args_nz_number(&a, &n), -1);
	assert_int_equal(imap_args_number(&a, &n), 0);
	imap_args_fini(&a);

	imap_args_init(&a, "x", 1);
	assert_int_equal(imap_args_number(&a, &n), -1);
	imap_args_fini(&a);

	imap_args_init(&a, "9223372036854775807 9223372036854775808", 39);
	assert_int_equal(imap_args_number64(&a, &n64), 0);
	assert_true(n64 == 9223372036854775807ull);
	assert_int_equal(imap_args_number64(&a, &n64), -1);
	imap_args_fini(&a);
}

/* ---- sequence sets ---- */

struct seq_row {
	const char *in;
	int ret;
	size_t n;
	struct imap_seq_range r[4];
};

#define STAR IMAP_SEQ_STAR

static const struct seq_row seq_rows[] = {
	{"1", 0, 1, {{1, 1}}},
	{"2:4", 0, 1, {{2, 4}}},
	{"4:2", 0, 1, {{4, 2}}},
	{"*", 0, 1, {{STAR, STAR}}},
	{"5:*", 0, 1, {{5, STAR}}},
	{"*:5", 0, 1, {{STAR, 5}}},
	{"1,3:5,7", 0, 3, {{1, 1}, {3, 5}, {7, 7}}},
	{"4294967295", 0, 1, {{4294967295u, 4294967295u}}},
	{"4294967296", -1, 0, {{0}}},
	{"0", -1, 0, {{0}}},
	{"01", -1, 0, {{0}}},
	{"1:0", -1, 0, {{0}}},
	{"1:", -1, 0, {{0}}},
	{":1", -1, 0, {{0}}},
	{",1", -1, 0, {{0}}},
	{"1,", -1, 0, {{0}}},
	{"1,,2", -1, 0, {{0}}},
	{"1::2", -1, 0, {{0}}},
	{"1:2:3", -1, 0, {{0}}},
	{"**", -1, 0, {{0}}},
	{"1:3x", -1, 0, {{0}}},
	/* "$" alone: the saved search result (RFC 9051 6.4.4.1) */
	{"$", 0, 0, {{0}}},
	{"$1", -1, 0, {{0}}},
	{"$,1", -1, 0, {{0}}},
	{"1,$", -1, 0, {{0}}},
	{"$$", -1, 0, {{0}}},
	{"", -1, 0, {{0}}},
};

static void test_seqsets(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(seq_rows); i++) {
		const struct seq_row *r = &seq_rows[i];
		size_t len = strlen(r->in);
		char *in = exact(r->in, len);
		struct imap_args a;
		struct imap_seqset set = {0};
		int ret;

		imap_args_init(&a, in, len);
		ret = imap_args_seqset(&a, &set);
		if (ret != r->ret)
			fail_msg("row %zu (%s): %d", i, r->in, ret);
		if (ret == 0) {
			assert_int_equal(set.saved, strcmp(r->in, "$") == 0);
			assert_int_equal(set.n, r->n);
			for (size_t k = 0; k < r->n; k++) {
				assert_int_equal(set.ranges[k].lo, r->r[k].lo);
				assert_int_equal(set.ranges[k].hi, r->r[k].hi);
			}
			assert_int_equal(imap_args_finish(&a), 0);
		}
		imap_args_fini(&a);
		free(in);
	}
}

static void test_seqset_resolve(void **state)
{
	struct imap_args a;
	struct imap_seqset set;

	(void)state;
	imap_args_init(&a, "", 0);
	assert_int_equal(imap_seqset_parse(&a, "4:2,*,1,9:10", 12, &set), 0);
	assert_true(imap_seqset_contains(&set, 3, 10));
	assert_true(imap_seqset_contains(&set, 10, 10));
	assert_false(imap_seqset_contains(&set, 5, 10));
	assert_false(imap_seqset_contains(&set, 11, 10));
	imap_seqset_resolve(&set, 10);
	assert_int_equal(set.n, 2);
	assert_int_equal(set.ranges[0].lo, 1);
	assert_int_equal(set.ranges[0].hi, 4);
	assert_int_equal(set.ranges[1].lo, 9);
	assert_int_equal(set.ranges[1].hi, 10);

	/* "5:*" with 3 messages is 3:5 (RFC 3501 9 seq-range). */
	assert_int_equal(imap_seqset_parse(&a, "5:*", 3, &set), 0);
	imap_seqset_resolve(&set, 3);
	assert_int_equal(set.n, 1);
	assert_int_equal(set.ranges[0].lo, 3);
	assert_int_equal(set.ranges[0].hi, 5);

	/* "*" of an empty mailbox names nothing; "1:*" names 1. */
	assert_int_equal(imap_seqset_parse(&a, "*", 1, &set), 0);
	imap_seqset_resolve(&set, 0);
	assert_int_equal(set.n, 0);
	assert_int_equal(imap_seqset_parse(&a, "1:*", 3, &set), 0);
	imap_seqset_resolve(&set, 0);
	assert_int_equal(set.n, 1);
	assert_int_equal(set.ranges[0].lo, 1);
	assert_int_equal(set.ranges[0].hi, 1);

	/* Overlaps and neighbours merge. */
	assert_int_equal(
		imap_seqset_parse(&a, "7,1:3,4,2:5,4294967295", 22, &set), 0);
	imap_seqset_resolve(&set, 100);
	assert_int_equal(set.n, 3);
	assert_int_equal(set.ranges[0].lo, 1);
	assert_int_equal(set.ranges[0].hi, 5);
	assert_int_equal(set.ranges[1].lo, 7);
	assert_int_equal(set.ranges[2].lo, 4294967295u);
	imap_args_fini(&a);
}

static void test_seqset_limit(void **state)
{
	size_t n = IMAP_SEQSET_RANGES_MAX + 1;
	char *in = malloc(2 * n);
	struct imap_args a;
	struct imap_seqset set;

	(void)state;
	assert_non_null(in);
	for (size_t i = 0; i < n; i++) {
		in[2 * i] = '1';
		in[2 * i + 1] = ',';
	}
	imap_args_init(&a, in, 2 * n - 1);
	assert_int_equal(imap_args_seqset(&a, &set), -1);
	imap_args_fini(&a);
	imap_args_init(&a, in, 2 * n - 3);
	assert_int_equal(imap_args_seqset(&a, &set), 0);
	assert_int_equal(set.n, n - 1);
	imap_args_fini(&a);
	free(in);
}

/* ---- flags ---- */

struct flag_row {
	const char *in;
	bool optional;
	int ret;
	unsigned flags;
	const char *keywords;
};

static const struct flag_row flag_rows[] = {
	{"(\\Seen \\deleted $Junk foo)", false, 0,
	 STORE_F_SEEN | STORE_F_DELETED, "$Junk foo"},
	{"()", false, 0, 0, NULL},
	{"(\\Answered \\Flagged \\Draft)", false, 0,
	 STORE_F_ANSWERED | STORE_F_FLAGGED | STORE_F_DRAFT, NULL},
	{"\\Seen \\Flagged", true, 0, STORE_F_SEEN | STORE_F_FLAGGED, NULL},
	{"\\Seen", false, -1, 0, NULL},
	{"(\\Recent)", false, -1, 0, NULL},
	{"(\\Foo)", false, -1, 0, NULL},
	{"(\\*)", false, -1, 0, NULL},
	{"(\\)", false, -1, 0, NULL},
	{"(\\Seen", false, -1, 0, NULL},
	{"(a  b)", false, -1, 0, NULL},
	{"(a\"b)", false, -1, 0, NULL},
	{"", true, -1, 0, NULL},
	{"(k12345678901234567890123456789012345678901234567890123456789012345)",
	 false, -1, 0, NULL},
};

static void test_flags(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(flag_rows); i++) {
		const struct flag_row *r = &flag_rows[i];
		size_t len = strlen(r->in);
		char *in = exact(r->in, len);
		struct imap_args a;
		unsigned flags = 99;
		const char *kw = "unset";
		int ret;

		imap_args_init(&a, in, len);
		ret = imap_args_flags(&a, r->optional, &flags, &kw);
		if (ret != r->ret)
			fail_msg("row %zu (%s): %d", i, r->in, ret);
		if (ret == 0) {
			assert_int_equal(flags, r->flags);
			if (r->keywords == NULL)
				assert_null(kw);
			else
				assert_string_equal(kw, r->keywords);
			assert_int_equal(imap_args_finish(&a), 0);
		} else {
			assert_ptr_equal(a.p, in);
			assert_int_equal(a.depth, 0);
		}
		imap_args_fini(&a);
		free(in);
	}
}

/* ---- dates ---- */

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {0};

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return timegm(&tm);
}

static void test_dates(void **state)
{
	static const struct {
		const char *in;
		int ret;
		int y, mo, d;
	} rows[] = {
		{"1-Feb-2024", 0, 2024, 2, 1},
		{"01-feb-2024", 0, 2024, 2, 1},
		{"\"29-Feb-2024\"", 0, 2024, 2, 29},
		{"29-Feb-2023", -1, 0, 0, 0},
		{"32-Jan-2024", -1, 0, 0, 0},
		{"0-Jan-2024", -1, 0, 0, 0},
		{"1-Foo-2024", -1, 0, 0, 0},
		{"1-Feb-24", -1, 0, 0, 0},
		{"1-Feb-2024x", -1, 0, 0, 0},
		{"\"1-Feb-2024", -1, 0, 0, 0},
		{"123-Feb-2024", -1, 0, 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		size_t len = strlen(rows[i].in);
		char *in = exact(rows[i].in, len);
		struct imap_args a;
		time_t t;
		int ret;

		imap_args_init(&a, in, len);
		ret = imap_args_date(&a, &t);
		if (ret != rows[i].ret)
			fail_msg("row %zu (%s): %d", i, rows[i].in, ret);
		if (ret == 0)
			assert_true(t == utc(rows[i].y, rows[i].mo, rows[i].d,
					     0, 0, 0));
		imap_args_fini(&a);
		free(in);
	}
}

static void test_datetimes(void **state)
{
	static const struct {
		const char *in;
		int ret;
		time_t t;
	} rows[] = {
		{"\"17-Jul-1996 02:44:25 -0700\"", 0, 837596665},
		{"\" 7-Jul-1996 02:44:25 +0000\"", 0, 836707465},
		{"\"07-Jul-1996 02:44:25 +0130\"", 0, 836707465 - 5400},
		{"17-Jul-1996 02:44:25 -0700", -1, 0},
		{"\"17-Jul-1996 02:44 -0700\"", -1, 0},
		{"\"17-Jul-1996 24:00:00 -0700\"", -1, 0},
		{"\"17-Jul-1996 02:44:25 0700\"", -1, 0},
		{"\"17-Jul-1996 02:44:25 -0760\"", -1, 0},
		{"\"17-Jul-1996 02:44:25 -0700", -1, 0},
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		size_t len = strlen(rows[i].in);
		char *in = exact(rows[i].in, len);
		struct imap_args a;
		time_t t;
		int ret;

		imap_args_init(&a, in, len);
		ret = imap_args_datetime(&a, &t);
		if (ret != rows[i].ret)
			fail_msg("row %zu (%s): %d", i, rows[i].in, ret);
		if (ret == 0 && t != rows[i].t)
			fail_msg("row %zu: %lld", i, (long long)t);
		imap_args_fini(&a);
		free(in);
	}
	assert_true(utc(1996, 7, 17, 9, 44, 25) == 837596665);
}

/* ---- APPEND's message literal ---- */

static void test_message(void **state)
{
	static const char in[] = "~{3}\r\na\0b {2+}\r\nxy \"q\"";
	char *buf = exact(in, sizeof(in) - 1);
	struct imap_args a;
	const char *data;
	size_t len;
	bool binary;

	(void)state;
	imap_args_init(&a, buf, sizeof(in) - 1);
	assert_int_equal(imap_args_message(&a, &data, &len, &binary), 0);
	assert_true(binary);
	assert_int_equal(len, 3);
	assert_ptr_equal(data, buf + 6); /* in place, not copied */
	assert_int_equal(imap_args_message(&a, &data, &len, &binary), 0);
	assert_false(binary);
	assert_memory_equal(data, "xy", 2);
	assert_int_equal(imap_args_message(&a, &data, &len, &binary), -1);
	imap_args_fini(&a);
	free(buf);
}

/* ---- literal announcements ---- */

static void test_literal_announce(void **state)
{
	static const struct {
		const char *in;
		int ret;
		uint64_t size;
		bool nonsync;
	} rows[] = {
		{"a APPEND INBOX {310}", 1, 310, false},
		{"a LOGIN {5+}", 1, 5, true},
		{"a LOGIN {0}", 1, 0, false},
		{"a APPEND x ~{12}", 1, 12, false},
		{"{4294967295}", 1, 4294967295u, false},
		{"a {4294967296}", -1, 0, false},
		{"a {99999999999999999999}", -1, 0, false},
		{"a LOGIN {}", 0, 0, false},
		{"a LOGIN {+}", 0, 0, false},
		{"a LOGIN {5-}", 0, 0, false},
		{"a LOGIN 5}", 0, 0, false},
		{"a LOGIN \"x\"", 0, 0, false},
		{"}", 0, 0, false},
		{"", 0, 0, false},
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		size_t len = strlen(rows[i].in);
		char *in = exact(rows[i].in, len);
		uint64_t size = 7;
		bool nonsync = false;
		int ret = imap_literal_announce(in, len, &size, &nonsync);

		if (ret != rows[i].ret)
			fail_msg("row %zu (%s): %d", i, rows[i].in, ret);
		if (ret == 1) {
			assert_true(size == rows[i].size);
			assert_int_equal(nonsync, rows[i].nonsync);
		}
		free(in);
	}
}

static void test_peek_command(void **state)
{
	char tag[IMAP_TAG_MAX + 1], name[IMAP_NAME_MAX + 1];

	(void)state;
	imap_peek_command("a1 append INBOX {3}", 19, tag, name);
	assert_string_equal(tag, "a1");
	assert_string_equal(name, "APPEND");
	imap_peek_command("a1", 2, tag, name);
	assert_string_equal(tag, "a1");
	assert_string_equal(name, "");
	imap_peek_command("a+ APPEND", 9, tag, name);
	assert_string_equal(tag, "");
	assert_string_equal(name, "");
	imap_peek_command("(x APPEND", 9, tag, name);
	assert_string_equal(tag, "");
}

/* ---- LIST patterns ---- */

static void test_list_match(void **state)
{
	static const struct {
		const char *pat, *name;
		bool match;
	} rows[] = {
		{"*", "INBOX", true},
		{"*", "A/B/C", true},
		{"%", "A", true},
		{"%", "A/B", false},
		{"%/%", "A/B", true},
		{"%/%", "A/B/C", false},
		{"A/*", "A/B/C", true},
		{"A/*", "A", false},
		{"A*", "A", true},
		{"A%", "AB", true},
		{"A%", "A/B", false},
		{"inbox", "INBOX", true},
		{"InBox/%", "INBOX/Sub", true},
		{"inbox", "Inboxes", false},
		{"sent", "Sent", false}, /* only INBOX is case-insensitive */
		{"", "", true},
		{"", "A", false},
		{"Sent", "Sent", true},
		{"S*t", "Sent", true},
		{"S*t", "Sen", false},
		{"*%*%*%*%*%*%*%*%*%*%*%*%*%*%*x",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
		{"*%*%*%*%*%*%*%*%*%*%*%*%*%*%*a",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true},
	};
	char *longpat = malloc(IMAP_PATTERN_MAX + 2);

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++)
		if (imap_list_match(rows[i].pat, rows[i].name) != rows[i].match)
			fail_msg("row %zu: %s ~ %s", i, rows[i].pat,
				 rows[i].name);
	assert_non_null(longpat);
	memset(longpat, '*', IMAP_PATTERN_MAX + 1);
	longpat[IMAP_PATTERN_MAX + 1] = '\0';
	assert_false(imap_list_match(longpat, "A"));
	longpat[IMAP_PATTERN_MAX] = '\0';
	assert_true(imap_list_match(longpat, "A"));
	free(longpat);
}

/* ---- every prefix, garbage ---- */

/* Read a whole command generically; returns 0 when it parses. */
static int walk(const char *in, size_t len)
{
	struct imap_args a;
	const char *tag, *name;
	int ret;

	imap_args_init(&a, in, len);
	ret = imap_args_command(&a, &tag, &name);
	while (ret == 0 && !imap_args_at_end(&a))
		ret = imap_args_skip(&a);
	if (ret == 0)
		ret = imap_args_finish(&a);
	assert_non_null(tag);
	if (ret != 0)
		assert_true(imap_args_error(&a)[0] != '\0');
	imap_args_fini(&a);
	return ret;
}

static const char *const valid_cmds[] = {
	"a1 LOGIN {5}\r\nalice {6+}\r\nsecret",
	"a2 FETCH 1:*,3 (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>)",
	"a3 APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {10}\r\n"
	"hello\r\nabc",
	"a4 SEARCH OR (FROM \"x y\" SINCE 1-Feb-2024) NOT DELETED",
	"a5 LIST \"\" \"*\" RETURN (SUBSCRIBED SPECIAL-USE)",
	"a6 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211))",
	"a7 STORE 1 +FLAGS.SILENT (\\Deleted)",
};

static void test_prefixes(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(valid_cmds); i++) {
		size_t len = strlen(valid_cmds[i]);

		for (size_t cut = 0; cut <= len; cut++) {
			char *in = exact(valid_cmds[i], cut);

			(void)walk(in, cut);
			free(in);
		}
		{
			char *in = exact(valid_cmds[i], len);

			if (walk(in, len) != 0)
				fail_msg("row %zu does not parse", i);
			free(in);
		}
	}
}

static void test_garbage(void **state)
{
	uint32_t x = 12345;
	static const char alphabet[] = "a1 ()[]{}<>\"\\*%+~:,.-\r\n\0\x80NIL09";

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t len = round % 64;
		char *in = malloc(len ? len : 1);

		assert_non_null(in);
		for (size_t i = 0; i < len; i++) {
			x = x * 1103515245u + 12345u;
			in[i] = alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
		}
		(void)walk(in, len);
		free(in);
	}
}

static void test_long_input(void **state)
{
	size_t len = 1 << 20;
	char *in = malloc(len);
	struct imap_args a;
	const char *s;

	(void)state;
	assert_non_null(in);
	memset(in, 'x', len);
	imap_args_init(&a, in, len);
	assert_int_equal(imap_args_atom(&a, &s), 0);
	assert_int_equal(strlen(s), len);
	imap_args_fini(&a);
	/* A megabyte of open quotes or braces fails without harm. */
	memset(in, '"', len);
	assert_int_equal(walk(in, len), -1);
	memset(in, '{', len);
	assert_int_equal(walk(in, len), -1);
	memset(in, '(', len);
	in[0] = 'a';
	in[1] = ' ';
	in[2] = 'X';
	in[3] = ' ';
	assert_int_equal(walk(in, len), -1);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command),
		cmocka_unit_test(test_tag_too_long),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_nested_lists),
		cmocka_unit_test(test_list_limits),
		cmocka_unit_test(test_fetch_section),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_seqsets),
		cmocka_unit_test(test_seqset_resolve),
		cmocka_unit_test(test_seqset_limit),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_datetimes),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_literal_announce),
		cmocka_unit_test(test_peek_command),
		cmocka_unit_test(test_list_match),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_long_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
