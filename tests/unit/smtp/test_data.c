/*
 * smtp/data: every row is fed whole, one byte at a time, split in two at
 * every position and (short rows) in three at every pair of positions;
 * all must give the same output, return, consumed and flags. Each call
 * gets exact-size copies so that a sanitizer sees any access past them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/limits.h"
#include "smtp/data.h"

/* A string literal and its length, NULs included. */
#define S(s) s, sizeof(s) - 1

#define M LIMIT_SMTP_TEXT_LINE
#define LF SMTP_DATA_BARE_LF
#define CR SMTP_DATA_BARE_CR
#define LONG SMTP_DATA_LONG_LINE
#define NUL SMTP_DATA_NUL
#define HI SMTP_DATA_8BIT

/* dot mode, max_line, input, output, consumed, return, flags. */
struct row {
	const char *name;
	bool dot;
	unsigned max;
	const char *in;
	size_t in_len;
	const char *out;
	size_t out_len;
	size_t consumed;
	int ret;
	unsigned flags; /* BDAT: as smtp_data_end() returns them */
};

static const struct row rows[] = {
	/* RFC 5321 4.1.1.4 */
	{"plain", true, M, S("Subject: hi\r\n\r\nbody\r\n.\r\n"),
	 S("Subject: hi\r\n\r\nbody\r\n"), 24, 1, 0},
	{"empty message", true, M, S(".\r\n"), S(""), 3, 1, 0},
	{"one empty line", true, M, S("\r\n.\r\n"), S("\r\n"), 5, 1, 0},
	{"nothing yet", true, M, S(""), S(""), 0, 0, 0},
	{"no end yet", true, M, S("a\r\nb"), S("a\r\nb"), 4, 0, 0},
	{"cr pending", true, M, S("a\r"), S("a\r"), 2, 0, 0},
	{"dot pending", true, M, S("a\r\n."), S("a\r\n"), 4, 0, 0},
	{"dot cr pending", true, M, S("a\r\n.\r"), S("a\r\n"), 5, 0, 0},
	{"mid-line dots", true, M, S("a.b.\r\n.\r\n"), S("a.b.\r\n"), 9, 1, 0},
	/* RFC 5321 4.5.2 */
	{"stuffed dot line", true, M, S("..\r\n.\r\n"), S(".\r\n"), 7, 1, 0},
	{"stuffed text", true, M, S(".x\r\n.\r\n"), S("x\r\n"), 7, 1, 0},
	{"stuffed first only", true, M, S("a\r\n...\r\n.x.\r\n.\r\n"),
	 S("a\r\n..\r\nx.\r\n"), 16, 1, 0},
	{"stuffed dot then eom", true, M, S("..\r\n..\r\n.\r\n"),
	 S(".\r\n.\r\n"), 11, 1, 0},
	/* Pipelined commands after the end are not consumed. */
	{"pipelined", true, M, S("a\r\n.\r\nQUIT\r\n"), S("a\r\n"), 6, 1, 0},
	{"pipelined after empty", true, M, S(".\r\nMAIL FROM:<>\r\n"), S(""), 3,
	 1, 0},
	{"pipelined eom twice", true, M, S("a\r\n.\r\n.\r\n"), S("a\r\n"), 6, 1,
	 0},
	{"pipelined bad bytes", true, M, S(".\r\n\n\r\0\x80"), S(""), 3, 1, 0},
	/* SMTP smuggling: no end but <CRLF>.<CRLF>, RFC 5321 2.3.8. */
	{"lf dot lf", true, M, S("a\n.\nb\r\n.\r\n"), S("a\n.\nb\r\n"), 10, 1,
	 LF},
	{"lf dot lf no end", true, M, S("a\n.\n"), S("a\n.\n"), 4, 0, LF},
	{"lf dot crlf", true, M, S("a\n.\r\nb\r\n.\r\n"), S("a\n.\r\nb\r\n"),
	 11, 1, LF},
	{"lf dot crlf no end", true, M, S("a\n.\r\n"), S("a\n.\r\n"), 5, 0, LF},
	{"cr dot cr", true, M, S("a\r.\rb\r\n.\r\n"), S("a\r.\rb\r\n"), 10, 1,
	 CR},
	{"cr dot crlf", true, M, S("a\r.\r\nb\r\n.\r\n"), S("a\r.\r\nb\r\n"),
	 11, 1, CR},
	{"crlf dot lf", true, M, S("a\r\n.\nb\r\n.\r\n"), S("a\r\n\nb\r\n"), 11,
	 1, LF},
	{"crlf dot lf no end", true, M, S("a\r\n.\n"), S("a\r\n\n"), 5, 0, LF},
	{"crlf dot cr x", true, M, S("a\r\n.\rb\r\n.\r\n"), S("a\r\nb\r\n"), 11,
	 1, CR},
	{"crlf dot cr cr lf", true, M, S("a\r\n.\r\r\n.\r\n"), S("a\r\n\r\n"),
	 10, 1, CR},
	{"crlf dot cr dot", true, M, S("a\r\n.\r.\r\n"), S("a\r\n.\r\n"), 8, 0,
	 CR},
	{"lf dot cr lf", true, M, S("\n.\r\n"), S("\n.\r\n"), 4, 0, LF},
	{"cr lf split by lf", true, M, S("a\r\n\n.\r\n.\r\n"),
	 S("a\r\n\n.\r\n"), 10, 1, LF},
	{"cr cr lf dot", true, M, S("a\r\r\n.\r\n"), S("a\r\r\n"), 7, 1, CR},
	{"lf cr lf", true, M, S("a\n\r\n.\r\n"), S("a\n\r\n"), 7, 1, LF},
	{"lf cr dot cr lf", true, M, S("a\n\r.\r\n.\r\n"), S("a\n\r.\r\n"), 9,
	 1, LF | CR},
	{"bare lf mid-line", true, M, S("ab\ncd\r\n.\r\n"), S("ab\ncd\r\n"), 10,
	 1, LF},
	{"bare lf line start", true, M, S("a\r\n\nb\r\n.\r\n"),
	 S("a\r\n\nb\r\n"), 10, 1, LF},
	{"bare lf data start", true, M, S("\n.\r\n.\r\n"), S("\n.\r\n"), 7, 1,
	 LF},
	{"bare cr data start", true, M, S("\r.\r\n.\r\n"), S("\r.\r\n"), 7, 1,
	 CR},
	{"dot lf data start", true, M, S(".\n\r\n.\r\n"), S("\n\r\n"), 7, 1,
	 LF},
	{"dot cr data start", true, M, S(".\rx\r\n.\r\n"), S("x\r\n"), 8, 1,
	 CR},
	{"dot dot lf", true, M, S("..\n.\r\n"), S(".\n.\r\n"), 6, 0, LF},
	{"crlf lf dot crlf", true, M, S("\r\n\n.\r\n"), S("\r\n\n.\r\n"), 6, 0,
	 LF},
	{"bare cr before eom", true, M, S("a\r\r\n.\r\n"), S("a\r\r\n"), 7, 1,
	 CR},
	{"double cr", true, M, S("a\r\r.\r\n.\r\n"), S("a\r\r.\r\n"), 9, 1, CR},
	{"bare lf after eom", true, M, S("a\r\n.\r\n\n.\n"), S("a\r\n"), 6, 1,
	 0},
	/* RFC 5321 4.5.3.1.6, counted as received; M = 8 here. */
	{"line at max", true, 8, S("123456\r\n.\r\n"), S("123456\r\n"), 11, 1,
	 0},
	{"line over max", true, 8, S("1234567\r\n.\r\n"), S("1234567\r\n"), 12,
	 1, LONG},
	{"stuffed at max", true, 8, S("..2345\r\n.\r\n"), S(".2345\r\n"), 11, 1,
	 0},
	{"stuffed over max", true, 8, S("..23456\r\n.\r\n"), S(".23456\r\n"),
	 12, 1, LONG},
	{"bare lf inside long", true, 8, S("abc\ndef\r\n.\r\n"),
	 S("abc\ndef\r\n"), 12, 1, LF | LONG},
	{"bare lf short lines", true, 8, S("abc\r\n\ndef\r\n.\r\n"),
	 S("abc\r\n\ndef\r\n"), 14, 1, LF},
	{"long without end", true, 8, S("123456789"), S("123456789"), 9, 0,
	 LONG},
	{"max is 2", true, 2, S("\r\n.\r\n"), S("\r\n"), 5, 1, 0},
	{"max is 2, one octet", true, 2, S("a\r\n.\r\n"), S("a\r\n"), 6, 1,
	 LONG},
	{"long then short", true, 8, S("1234567890\r\nok\r\n.\r\n"),
	 S("1234567890\r\nok\r\n"), 19, 1, LONG},
	/* Content checks. */
	{"nul", true, M, S("a\0b\r\n.\r\n"), S("a\0b\r\n"), 8, 1, NUL},
	{"nul after dot", true, M, S(".\0\r\n.\r\n"), S("\0\r\n"), 7, 1, NUL},
	{"8bit", true, M, S("caf\xc3\xa9\r\n.\r\n"), S("caf\xc3\xa9\r\n"), 10,
	 1, HI},
	{"8bit after dot", true, M, S(".\xff\r\n.\r\n"), S("\xff\r\n"), 7, 1,
	 HI},
	{"8bit then nul", true, M,
	 S("\x80"
	   "abcdefghijklmno\0pqrstuvwxyz\r\n.\r\n"),
	 S("\x80"
	   "abcdefghijklmno\0pqrstuvwxyz\r\n"),
	 33, 1, HI | NUL},
	{"nul then 8bit then lf", true, M,
	 S("\0"
	   "abcdefghijklmnopq\x80rstuvwxyz0123456789\nABCDEFGH\r\n.\r\n"),
	 S("\0"
	   "abcdefghijklmnopq\x80rstuvwxyz0123456789\nABCDEFGH\r\n"),
	 52, 1, NUL | HI | LF},
	/* Specials on and across the 8-octet words of the fast path. */
	{"word edges", true, M,
	 S("0123456\r\n01234567\r\n012345678\r\n0123456789abcdef\r\n"
	   ".0123456789abcde\r\n.\r\n"),
	 S("0123456\r\n01234567\r\n012345678\r\n0123456789abcdef\r\n"
	   "0123456789abcde\r\n"),
	 69, 1, 0},
	{"word edges bare", true, M,
	 S("01234567\n0123456\r0123456789abcdef\x80xyz\r\n.\r\n"),
	 S("01234567\n0123456\r0123456789abcdef\x80xyz\r\n"), 42, 1,
	 LF | CR | HI},
	/* RFC 3030: BDAT is raw octets, same checks, no dots. */
	{"bdat plain", false, M, S("a\r\nb\r\n"), S("a\r\nb\r\n"), 6, 0, 0},
	{"bdat empty", false, M, S(""), S(""), 0, 0, 0},
	{"bdat dots kept", false, M, S("..\r\n.\r\nQUIT\r\n"),
	 S("..\r\n.\r\nQUIT\r\n"), 13, 0, 0},
	{"bdat bare lf", false, M, S("a\nb\r\n"), S("a\nb\r\n"), 5, 0, LF},
	{"bdat bare cr", false, M, S("a\rb\r\n"), S("a\rb\r\n"), 5, 0, CR},
	{"bdat lf dot lf", false, M, S("a\n.\n"), S("a\n.\n"), 4, 0, LF},
	{"bdat trailing cr", false, M, S("a\r\nb\r"), S("a\r\nb\r"), 5, 0, CR},
	{"bdat lone cr", false, M, S("\r"), S("\r"), 1, 0, CR},
	{"bdat no final crlf", false, M, S("a\r\nb"), S("a\r\nb"), 4, 0, 0},
	{"bdat nul 8bit", false, M, S("a\0\x80\r\n"), S("a\0\x80\r\n"), 5, 0,
	 NUL | HI},
	{"bdat at max", false, 8, S("123456\r\n"), S("123456\r\n"), 8, 0, 0},
	{"bdat over max", false, 8, S("1234567\r\nx\r\n"),
	 S("1234567\r\nx\r\n"), 12, 0, LONG},
	{"bdat last line at max", false, 8, S("x\r\n123456"), S("x\r\n123456"),
	 9, 0, 0},
	{"bdat last line over max", false, 8, S("x\r\n1234567"),
	 S("x\r\n1234567"), 10, 0, LONG},
};

struct result {
	char *out;
	size_t out_len;
	int ret;
	size_t consumed;
	unsigned flags;
};

/*
 * Feed in[0..in_len) in pieces that end at cuts[0..ncuts) (ascending)
 * and at in_len, as a connection does; stop at the end of DATA.
 */
static void feed(const struct row *row, const size_t *cuts, size_t ncuts,
		 struct result *r)
{
	struct smtp_data d;
	size_t fed = 0;

	smtp_data_init(&d, row->dot, row->max);
	memset(r, 0, sizeof(*r));
	r->out = malloc(row->in_len + 1);
	assert_non_null(r->out);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : row->in_len;
		size_t n = to - fed, out_len = 99, consumed = 99;
		char *in = malloc(n ? n : 1), *out = malloc(n ? n : 1);
		int ret;

		assert_non_null(in);
		assert_non_null(out);
		memcpy(in, row->in + fed, n);
		ret = smtp_data_decode(&d, in, n, out, &out_len, &consumed);
		assert_true(consumed <= n);
		assert_true(out_len <= consumed);
		assert_true(ret == 0 || ret == 1);
		if (ret == 0)
			assert_int_equal(consumed, n);
		if (!row->dot)
			assert_int_equal(ret, 0);
		memcpy(r->out + r->out_len, out, out_len);
		r->out_len += out_len;
		r->consumed = fed + consumed;
		r->ret = ret;
		free(in);
		free(out);
		fed = to;
		if (ret == 1)
			break;
	}
	r->flags = row->dot ? d.flags : smtp_data_end(&d);
	assert_int_equal(d.size, r->out_len);
}

/* Print what differs; the caller fails once it has seen every row. */
static bool check(const struct row *row, struct result *r, const char *how,
		  size_t a, size_t b)
{
	bool ok = r->out_len == row->out_len &&
		  memcmp(r->out, row->out, row->out_len) == 0 &&
		  r->ret == row->ret && r->consumed == row->consumed &&
		  r->flags == row->flags;

	if (!ok) {
		print_error("row '%s' fed %s %zu %zu:\n", row->name, how, a, b);
		print_error(
			"  got ret %d consumed %zu flags 0x%x out_len %zu\n",
			r->ret, r->consumed, r->flags, r->out_len);
		print_error("  want ret %d consumed %zu flags 0x%x out_len "
			    "%zu\n",
			    row->ret, row->consumed, row->flags, row->out_len);
	}
	free(r->out);
	r->out = NULL;
	return ok;
}

/* Returns whether every way of feeding the row gave the row's result. */
static bool run_row(const struct row *row, bool three_way)
{
	size_t n = row->in_len, *cuts = malloc((n + 2) * sizeof(*cuts));
	struct result r;
	bool ok;

	assert_non_null(cuts);
	feed(row, NULL, 0, &r);
	ok = check(row, &r, "whole", 0, 0);
	for (size_t i = 1; i < n; i++)
		cuts[i - 1] = i;
	feed(row, cuts, n ? n - 1 : 0, &r);
	ok = ok && check(row, &r, "bytewise", 0, 0);
	for (size_t i = 0; ok && i <= n; i++) {
		cuts[0] = i;
		feed(row, cuts, 1, &r);
		ok = check(row, &r, "split at", i, 0);
	}
	for (size_t i = 0; ok && three_way && i <= n; i++) {
		for (size_t j = i; ok && j <= n; j++) {
			cuts[0] = i;
			cuts[1] = j;
			feed(row, cuts, 2, &r);
			ok = check(row, &r, "split at", i, j);
		}
	}
	free(cuts);
	return ok;
}

static void test_rows(void **state)
{
	size_t failed = 0;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		failed += !run_row(&rows[i], rows[i].in_len <= 80);
	assert_int_equal(failed, 0);
}

/* The output may be the input buffer itself. */
static void test_rows_in_place(void **state)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *row = &rows[i];
		char *buf = malloc(row->in_len + 1);
		struct smtp_data d;
		size_t out_len, consumed;
		int ret;

		assert_non_null(buf);
		memcpy(buf, row->in, row->in_len);
		smtp_data_init(&d, row->dot, row->max);
		ret = smtp_data_decode(&d, buf, row->in_len, buf, &out_len,
				       &consumed);
		assert_int_equal(ret, row->ret);
		assert_int_equal(consumed, row->consumed);
		assert_int_equal(out_len, row->out_len);
		assert_memory_equal(buf, row->out, out_len);
		free(buf);
	}
}

/* RFC 5321 4.5.3.1.6 at the real limit: 1000 octets with the CRLF. */
static void run_long(bool dot, bool stuffed, size_t line, bool crlf,
		     unsigned flags)
{
	size_t body = line - (crlf ? 2 : 0);
	char *in = malloc(line + 5), *out = malloc(line + 5);
	struct row row = {.name = "at the limit",
			  .dot = dot,
			  .max = LIMIT_SMTP_TEXT_LINE};
	size_t n = 0, o = 0;
	bool ok;

	assert_non_null(in);
	assert_non_null(out);
	memset(in, 'x', body);
	memset(out, 'x', body);
	if (stuffed) {
		in[0] = '.';
		in[1] = '.';
		out[0] = '.';
	}
	n = body;
	o = body - (stuffed ? 1 : 0);
	if (crlf) {
		in[n++] = '\r';
		in[n++] = '\n';
		out[o++] = '\r';
		out[o++] = '\n';
	}
	if (dot) {
		in[n++] = '.';
		in[n++] = '\r';
		in[n++] = '\n';
	}
	row.in = in;
	row.in_len = n;
	row.out = out;
	row.out_len = o;
	row.ret = dot;
	row.consumed = n;
	row.flags = flags;
	ok = run_row(&row, false);
	free(in);
	free(out);
	assert_true(ok);
}

static void test_long_lines(void **state)
{
	run_long(true, false, 1000, true, 0);
	run_long(true, false, 1001, true, LONG);
	run_long(true, true, 1000, true, 0);
	run_long(true, true, 1001, true, LONG);
	run_long(false, false, 1000, true, 0);
	run_long(false, false, 1001, true, LONG);
	/* BDAT final line without CRLF: measured with the CRLF it needs. */
	run_long(false, false, 998, false, 0);
	run_long(false, false, 999, false, LONG);
}

/* After the end, DATA consumes nothing and keeps saying so. */
static void test_after_end(void **state)
{
	struct smtp_data d;
	char out[16];
	size_t out_len, consumed;

	smtp_data_init(&d, true, LIMIT_SMTP_TEXT_LINE);
	assert_int_equal(smtp_data_decode(&d, S("a\r\n.\r\nQUIT"), out,
					  &out_len, &consumed),
			 1);
	assert_int_equal(consumed, 6);
	assert_int_equal(out_len, 3);
	assert_int_equal(
		smtp_data_decode(&d, S("QUIT\r\n"), out, &out_len, &consumed),
		1);
	assert_int_equal(consumed, 0);
	assert_int_equal(out_len, 0);
	assert_int_equal(
		smtp_data_decode(&d, NULL, 0, NULL, &out_len, &consumed), 1);
	assert_int_equal(d.size, 3);
	assert_int_equal(smtp_data_end(&d), 0);
}

/* Flags accumulate over BDAT chunks; the end is checked once. */
static void test_bdat_chunks(void **state)
{
	struct smtp_data d;
	char out[16];
	size_t out_len, consumed;

	smtp_data_init(&d, false, LIMIT_SMTP_TEXT_LINE);
	assert_int_equal(
		smtp_data_decode(&d, S("a\r"), out, &out_len, &consumed), 0);
	assert_int_equal(d.flags, 0);
	assert_int_equal(
		smtp_data_decode(&d, S("\nb\0"), out, &out_len, &consumed), 0);
	assert_int_equal(consumed, 3);
	assert_int_equal(d.flags, NUL);
	assert_int_equal(
		smtp_data_decode(&d, S("\r\n"), out, &out_len, &consumed), 0);
	assert_int_equal(smtp_data_end(&d), NUL);
	assert_int_equal(d.size, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_rows_in_place),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_after_end),
		cmocka_unit_test(test_bdat_chunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
