/*
 * lib/linereader: every row is fed whole, one byte at a time, and split in
 * two at every position; all three must give the same lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/linereader.h"

/* A string literal and its length, NULs included. */
#define S(s) s, sizeof(s) - 1

struct expect {
	enum linereader_result res; /* LINE_MORE ends the list */
	const char *line;
	size_t len;
	unsigned flags;
};

struct row {
	const char *name;
	const char *in;
	size_t in_len;
	size_t max;
	struct expect out[6];
	size_t rest; /* bytes left unconsumed at the end */
};

static const struct row rows[] = {
	{"empty", S(""), 512, {{0}}, 0},
	{"crlf", S("HELO x\r\n"), 512, {{LINE_OK, S("HELO x"), 0}}, 0},
	{"empty line", S("\r\n"), 512, {{LINE_OK, S(""), 0}}, 0},
	{"partial", S("HELO"), 512, {{0}}, 4},
	{"cr at end waits", S("HELO\r"), 512, {{0}}, 5},
	{"lone cr waits", S("\r"), 512, {{0}}, 1},
	{"bare lf", S("abc\n"), 512, {{LINE_BARE_LF, S("abc"), 0}}, 0},
	{"bare lf empty",
	 S("\n\r\n"),
	 512,
	 {{LINE_BARE_LF, S(""), 0}, {LINE_OK, S(""), 0}},
	 0},
	{"bare cr",
	 S("abc\rdef\r\n"),
	 512,
	 {{LINE_BARE_CR, S("abc"), 0}, {LINE_OK, S("def"), 0}},
	 0},
	{"bare cr then crlf",
	 S("a\r\r\n"),
	 512,
	 {{LINE_BARE_CR, S("a"), 0}, {LINE_OK, S(""), 0}},
	 0},
	{"lf then cr",
	 S("a\n\rb\r\n"),
	 512,
	 {{LINE_BARE_LF, S("a"), 0},
	  {LINE_BARE_CR, S(""), 0},
	  {LINE_OK, S("b"), 0}},
	 0},
	{"nul flagged",
	 S("a\0b\r\nc\r\n"),
	 512,
	 {{LINE_OK, S("a\0b"), LINE_F_NUL}, {LINE_OK, S("c"), 0}},
	 0},
	{"nul alone", S("\0\n"), 512, {{LINE_BARE_LF, S("\0"), LINE_F_NUL}}, 0},
	{"nul in partial", S("ab\0"), 512, {{0}}, 3},
	{"high bytes",
	 S("\xff\x80\r\n"),
	 512,
	 {{LINE_OK, S("\xff\x80"), 0}},
	 0},
	{"pipelined",
	 S("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nQU"),
	 512,
	 {{LINE_OK, S("MAIL FROM:<a@b>"), 0},
	  {LINE_OK, S("RCPT TO:<c@d>"), 0},
	  {LINE_OK, S("DATA"), 0}},
	 2},
	/* RFC 5321 4.5.3.1: the limit counts the CRLF. */
	{"exactly max", S("123456\r\n"), 8, {{LINE_OK, S("123456"), 0}}, 0},
	{"max plus one",
	 S("1234567\r\nok\r\n"),
	 8,
	 {{LINE_TOO_LONG, S("1234567\r"), 0}, {LINE_OK, S("ok"), 0}},
	 0},
	{"max plus two",
	 S("12345678\r\nok\r\n"),
	 8,
	 {{LINE_TOO_LONG, S("12345678"), 0}, {LINE_OK, S("ok"), 0}},
	 0},
	{"bare lf at max",
	 S("1234567\n"),
	 8,
	 {{LINE_BARE_LF, S("1234567"), 0}},
	 0},
	{"bare lf past max",
	 S("12345678\nok\r\n"),
	 8,
	 {{LINE_TOO_LONG, S("12345678"), 0}, {LINE_OK, S("ok"), 0}},
	 0},
	{"bare cr before max",
	 S("123456\rx\r\n"),
	 8,
	 {{LINE_BARE_CR, S("123456"), 0}, {LINE_OK, S("x"), 0}},
	 0},
	{"bare cr at max",
	 S("1234567\rx\r\nok\r\n"),
	 8,
	 {{LINE_TOO_LONG, S("1234567\r"), 0}, {LINE_OK, S("ok"), 0}},
	 0},
	{"long tail skipped",
	 S("123456789012345678\r\nok\r\n"),
	 8,
	 {{LINE_TOO_LONG, S("12345678"), 0}, {LINE_OK, S("ok"), 0}},
	 0},
	/* The tail is dropped, not parsed: no command hides in it. */
	{"tail not a line",
	 S("12345678QUIT\r\nRSET\r\n"),
	 8,
	 {{LINE_TOO_LONG, S("12345678"), 0}, {LINE_OK, S("RSET"), 0}},
	 0},
	{"tail with cr nul lf",
	 S("12345678\r\0x\ny\r\n"),
	 8,
	 {{LINE_TOO_LONG, S("12345678"), 0}, {LINE_OK, S("y"), 0}},
	 0},
	{"long without end",
	 S("1234567890abc"),
	 8,
	 {{LINE_TOO_LONG, S("12345678"), 0}},
	 0},
	{"nul in long line",
	 S("\0"
	   "2345678\r\nok\r\n"),
	 8,
	 {{LINE_TOO_LONG,
	   S("\0"
	     "2345678"),
	   LINE_F_NUL},
	  {LINE_OK, S("ok"), 0}},
	 0},
	{"two long lines",
	 S("123456789\r\nabcdefghi\r\nok\r\n"),
	 8,
	 {{LINE_TOO_LONG, S("12345678"), 0},
	  {LINE_TOO_LONG, S("abcdefgh"), 0},
	  {LINE_OK, S("ok"), 0}},
	 0},
	{"long then partial",
	 S("123456789\r\nok"),
	 8,
	 {{LINE_TOO_LONG, S("12345678"), 0}},
	 2},
	{"min max crlf",
	 S("\r\n\n"),
	 2,
	 {{LINE_OK, S(""), 0}, {LINE_BARE_LF, S(""), 0}},
	 0},
	{"min max one char",
	 S("a\r\nb\n"),
	 2,
	 {{LINE_TOO_LONG, S("a\r"), 0}, {LINE_BARE_LF, S("b"), 0}},
	 0},
};

#define MAX_GOT 16

struct got {
	enum linereader_result res;
	char line[64];
	size_t len;
	unsigned flags;
};

struct run {
	char *buf; /* bytes received, not yet consumed */
	size_t len;
	struct got got[MAX_GOT];
	size_t n;
};

/*
 * Call linereader_next until it needs more input, as a connection does:
 * drop line.consumed after every call. Each call sees an exact-size copy
 * so that a sanitizer catches any read past len.
 */
static void drain(struct linereader *lr, struct run *r)
{
	for (;;) {
		struct line line;
		enum linereader_result res;
		char *copy = malloc(r->len ? r->len : 1);

		assert_non_null(copy);
		memcpy(copy, r->buf, r->len);
		res = linereader_next(lr, copy, r->len, &line);
		assert_true(line.consumed <= r->len);
		assert_true(line.len <= lr->max);
		if (res != LINE_MORE) {
			/* Progress: the line and its terminator go. */
			assert_true(line.consumed > line.len ||
				    res == LINE_TOO_LONG);
			assert_true(line.consumed >= line.len);
			assert_true(r->n < MAX_GOT);
			assert_true(line.len <= sizeof(r->got[0].line));
			r->got[r->n].res = res;
			r->got[r->n].len = line.len;
			r->got[r->n].flags = line.flags;
			memcpy(r->got[r->n].line, copy, line.len);
			r->n++;
		} else {
			assert_int_equal(line.flags, 0);
		}
		free(copy);
		memmove(r->buf, r->buf + line.consumed, r->len - line.consumed);
		r->len -= line.consumed;
		if (res == LINE_MORE && line.consumed == 0) {
			/* Waiting for input only while under the limit. */
			assert_true(r->len < lr->max);
			return;
		}
	}
}

/* Feed in[0..len) in pieces of step bytes; first is the first piece. */
static void feed(const struct row *row, size_t first, size_t step,
		 struct run *r)
{
	struct linereader lr;
	size_t fed = 0;

	linereader_init(&lr, row->max);
	memset(r, 0, sizeof(*r));
	r->buf = malloc(row->in_len + 1);
	assert_non_null(r->buf);
	do {
		size_t n = fed == 0 ? first : step;

		if (n > row->in_len - fed)
			n = row->in_len - fed;
		memcpy(r->buf + r->len, row->in + fed, n);
		r->len += n;
		fed += n;
		drain(&lr, r);
	} while (fed < row->in_len);
	free(r->buf);
	r->buf = NULL;
}

static int same(const struct row *row, const struct run *r)
{
	size_t n = 0;

	while (n < 6 && row->out[n].res != LINE_MORE)
		n++;
	if (r->n != n || r->len != row->rest)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct expect *e = &row->out[i];

		if (r->got[i].res != e->res || r->got[i].len != e->len ||
		    memcmp(r->got[i].line, e->line, e->len) != 0 ||
		    r->got[i].flags != e->flags)
			return 0;
	}
	return 1;
}

static void check(const struct row *row, const struct run *r, const char *how,
		  size_t at)
{
	if (same(row, r))
		return;
	for (size_t i = 0; i < r->n; i++)
		print_error("  got %d len %zu flags %u\n", (int)r->got[i].res,
			    r->got[i].len, r->got[i].flags);
	print_error("  rest %zu (want %zu)\n", r->len, row->rest);
	fail_msg("row '%s' fed %s %zu", row->name, how, at);
}

static void test_rows_whole(void **state)
{
	struct run r;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		feed(&rows[i], rows[i].in_len, 1, &r);
		check(&rows[i], &r, "whole", 0);
	}
}

static void test_rows_bytewise(void **state)
{
	struct run r;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		feed(&rows[i], 1, 1, &r);
		check(&rows[i], &r, "bytewise", 1);
	}
}

/* Two reads split at every position: CRLF across the boundary included. */
static void test_rows_split(void **state)
{
	struct run r;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (size_t k = 1; k < rows[i].in_len; k++) {
			feed(&rows[i], k, rows[i].in_len, &r);
			check(&rows[i], &r, "split at", k);
		}
	}
}

static void test_init_clamps_max(void **state)
{
	struct linereader lr;
	struct line line;

	linereader_init(&lr, 0);
	assert_int_equal(lr.max, 2);
	assert_int_equal(linereader_next(&lr, S("\r\n"), &line), LINE_OK);
	assert_int_equal(line.len, 0);
	assert_int_equal(line.consumed, 2);
}

/* The state the connection layer relies on, call by call. */
static void test_cr_at_end_then_lf(void **state)
{
	struct linereader lr;
	struct line line;

	linereader_init(&lr, 512);
	assert_int_equal(linereader_next(&lr, S("abc\r"), &line), LINE_MORE);
	assert_int_equal(line.consumed, 0);
	assert_int_equal(linereader_next(&lr, S("abc\r\n"), &line), LINE_OK);
	assert_int_equal(line.len, 3);
	assert_int_equal(line.consumed, 5);
}

static void test_cr_at_end_then_other(void **state)
{
	struct linereader lr;
	struct line line;

	linereader_init(&lr, 512);
	assert_int_equal(linereader_next(&lr, S("abc\r"), &line), LINE_MORE);
	assert_int_equal(linereader_next(&lr, S("abc\rx"), &line),
			 LINE_BARE_CR);
	assert_int_equal(line.len, 3);
	assert_int_equal(line.consumed, 4);
}

static void test_nul_flag_across_reads(void **state)
{
	struct linereader lr;
	struct line line;

	linereader_init(&lr, 512);
	assert_int_equal(linereader_next(&lr, S("a\0"), &line), LINE_MORE);
	assert_int_equal(linereader_next(&lr, S("a\0b\r\n"), &line), LINE_OK);
	assert_int_equal(line.flags, LINE_F_NUL);
	assert_int_equal(linereader_next(&lr, S("c\r\n"), &line), LINE_OK);
	assert_int_equal(line.flags, 0);
}

/*
 * A tail that ends in a later read is dropped by a LINE_MORE with a
 * non-zero consumed; the next line then starts at data[0].
 */
static void test_tail_across_reads(void **state)
{
	struct linereader lr;
	struct line line;

	linereader_init(&lr, 4);
	assert_int_equal(linereader_next(&lr, S("abcdef"), &line),
			 LINE_TOO_LONG);
	assert_int_equal(line.len, 4);
	assert_int_equal(line.consumed, 6);
	assert_int_equal(linereader_next(&lr, S("gh\r\nok\r\n"), &line),
			 LINE_MORE);
	assert_int_equal(line.consumed, 4);
	assert_int_equal(linereader_next(&lr, S("ok\r\n"), &line), LINE_OK);
	assert_int_equal(line.len, 2);
	assert_int_equal(line.consumed, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_whole),
		cmocka_unit_test(test_rows_bytewise),
		cmocka_unit_test(test_rows_split),
		cmocka_unit_test(test_init_clamps_max),
		cmocka_unit_test(test_cr_at_end_then_lf),
		cmocka_unit_test(test_cr_at_end_then_other),
		cmocka_unit_test(test_nul_flag_across_reads),
		cmocka_unit_test(test_tail_across_reads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
