/*
 * smtp/reply: reply lines, whole replies and EHLO keywords, row by row.
 * Each line is handed over as an exact-size heap copy so the sanitizer
 * build sees any read past it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtp/reply.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

struct reply_row {
	const char *in; /* lines joined by CRLF, no final CRLF */
	int ret;	/* of the last smtp_reply_add() */
	size_t lines;	/* lines fed, the last one included */
	int code;
	const char *status;
	const char *text;
};

static const struct reply_row reply_rows[] = {
	{"250 ok", 1, 1, 250, "", "ok"},
	{"250", 1, 1, 250, "", ""},
	{"220 mx.example.org ESMTP", 1, 1, 220, "", "mx.example.org ESMTP"},
	{"250-first\r\n250 second", 1, 2, 250, "", "first second"},
	{"250-\r\n250 x", 1, 2, 250, "", "x"},
	/* RFC 2034: the status repeats on every line; shown once. */
	{"550-5.1.1 The email\r\n550-5.1.1 account\r\n550 5.1.1 is gone", 1, 3,
	 550, "5.1.1", "The email account is gone"},
	{"550-5.1.1 a\r\n550 5.7.1 b", 1, 2, 550, "5.1.1", "a 5.7.1 b"},
	{"250 2.0.0 Ok: queued as 4Fx", 1, 1, 250, "2.0.0",
	 "Ok: queued as 4Fx"},
	{"250 2.0.0", 1, 1, 250, "2.0.0", ""},
	{"451 4.7.1 greylisted", 1, 1, 451, "4.7.1", "greylisted"},
	{"452 4.5.3 Too many recipients", 1, 1, 452, "4.5.3",
	 "Too many recipients"},
	{"250 2.123.456 x", 1, 1, 250, "2.123.456", "x"},
	/* Not a status: class differs, too many digits, no separator. */
	{"550 4.1.1 x", 1, 1, 550, "", "4.1.1 x"},
	{"250 2.1 x", 1, 1, 250, "", "2.1 x"},
	{"250 2.1.0x", 1, 1, 250, "", "2.1.0x"},
	{"250 2.1000.0 x", 1, 1, 250, "", "2.1000.0 x"},
	{"354 3.0.0 go", 1, 1, 354, "", "3.0.0 go"},
	{"354 End data with <CR><LF>.<CR><LF>", 1, 1, 354, "",
	 "End data with <CR><LF>.<CR><LF>"},
	/* Control characters are neutralised. */
	{"250 a\tb\x01"
	 "c\x7f",
	 1, 1, 250, "", "a?b?c?"},
	{"250 caf\xc3\xa9", 1, 1, 250, "", "caf\xc3\xa9"},
	/* RFC 5321 4.2.1: every line has the same code. */
	{"250-a\r\n251 b", -1, 2, 250, "", "a"},
	{"25 x", -1, 1, 0, "", ""},
	{"2500 x", -1, 1, 0, "", ""},
	{"250x", -1, 1, 0, "", ""},
	{"150 x", -1, 1, 0, "", ""},
	{"650 x", -1, 1, 0, "", ""},
	{"260 x", -1, 1, 0, "", ""},
	{"25a x", -1, 1, 0, "", ""},
	{"", -1, 1, 0, "", ""},
	{" 250 x", -1, 1, 0, "", ""},
	{"250-a\r\nxyz", -1, 2, 250, "", "a"},
	{"250-a\r\n250-b", 0, 2, 250, "", "a b"},
};

/* Feed the CRLF-separated lines of in; returns the last result. */
static int feed(struct smtp_reply *r, const char *in, size_t *lines_r)
{
	const char *p = in;
	int ret = 0;

	*lines_r = 0;
	for (;;) {
		const char *end = strstr(p, "\r\n");
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *copy = malloc(len ? len : 1);

		assert_non_null(copy);
		memcpy(copy, p, len);
		ret = smtp_reply_add(r, copy, len, NULL);
		free(copy);
		(*lines_r)++;
		if (ret != 0 || end == NULL)
			return ret;
		p = end + 2;
	}
}

static void test_reply_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(reply_rows); i++) {
		const struct reply_row *row = &reply_rows[i];
		struct smtp_reply r;
		size_t lines;
		int ret;

		smtp_reply_init(&r);
		ret = feed(&r, row->in, &lines);
		if (ret != row->ret || lines != row->lines)
			fail_msg("row %zu \"%s\": ret %d lines %zu", i, row->in,
				 ret, lines);
		if (ret < 0 && row->code == 0)
			continue;
		if (r.code != row->code || strcmp(r.status, row->status) != 0 ||
		    strcmp(r.text, row->text) != 0)
			fail_msg("row %zu \"%s\": %d [%s] [%s]", i, row->in,
				 r.code, r.status, r.text);
	}
}

static void test_reply_line(void **state)
{
	struct smtp_reply_line l;

	(void)state;
	assert_int_equal(smtp_reply_parse_line("250-PIPELINING", 14, &l), 0);
	assert_int_equal(l.code, 250);
	assert_false(l.last);
	assert_int_equal(l.text_len, 10);
	assert_memory_equal(l.text, "PIPELINING", 10);
	assert_int_equal(smtp_reply_parse_line("221", 3, &l), 0);
	assert_true(l.last);
	assert_int_equal(l.text_len, 0);
}

static void test_reply_limits(void **state)
{
	char line[SMTP_REPLY_LINE_MAX];
	struct smtp_reply r;
	int ret = 0;
	size_t n = 0;

	(void)state;
	/* RFC 5321 4.5.3.1.5: 512 octets with CRLF. */
	memset(line, 'x', sizeof(line));
	memcpy(line, "250 ", 4);
	smtp_reply_init(&r);
	assert_int_equal(
		smtp_reply_add(&r, line, SMTP_REPLY_LINE_MAX - 2, NULL), 1);
	assert_int_equal(strlen(r.text), SMTP_REPLY_LINE_MAX - 2 - 4);
	/* The text kept is cut; the reply goes on. */
	memcpy(line, "250-", 4);
	smtp_reply_init(&r);
	assert_int_equal(smtp_reply_add(&r, line, 300, NULL), 0);
	assert_int_equal(smtp_reply_add(&r, line, 300, NULL), 0);
	memcpy(line, "250 ", 4);
	assert_int_equal(smtp_reply_add(&r, line, 300, NULL), 1);
	assert_int_equal(strlen(r.text), SMTP_REPLY_TEXT_MAX - 1);
	smtp_reply_init(&r);
	assert_int_equal(
		smtp_reply_add(&r, line, SMTP_REPLY_LINE_MAX - 1, NULL), -1);
	/* A reply may not grow without end. */
	memcpy(line, "250-", 4);
	smtp_reply_init(&r);
	while (ret == 0 && n++ < 1000)
		ret = smtp_reply_add(&r, line, 500, NULL);
	assert_int_equal(ret, -2);
	assert_true(n * 502 > SMTP_REPLY_MAX);
	assert_true((n - 1) * 502 <= SMTP_REPLY_MAX);
	/* Complete: more lines are an error until init. */
	smtp_reply_init(&r);
	assert_int_equal(smtp_reply_add(&r, "250 a", 5, NULL), 1);
	assert_int_equal(smtp_reply_add(&r, "250 a", 5, NULL), -1);
}

/* Every prefix of every row, to find reads past the end. */
static void test_reply_prefixes(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(reply_rows); i++) {
		const char *in = reply_rows[i].in;
		size_t n = strcspn(in, "\r");

		for (size_t k = 0; k <= n; k++) {
			char *copy = malloc(k ? k : 1);
			struct smtp_reply r;
			struct smtp_reply_line l;
			char st[SMTP_STATUS_MAX];

			assert_non_null(copy);
			memcpy(copy, in, k);
			smtp_reply_init(&r);
			int ret = smtp_reply_add(&r, copy, k, NULL);

			assert_true(ret >= -1 && ret <= 1);
			if (smtp_reply_parse_line(copy, k, &l) == 0)
				(void)smtp_reply_status(l.code, l.text,
							l.text_len, st);
			free(copy);
		}
	}
}

struct ehlo_row {
	const char *line;
	struct smtp_ehlo want;
};

static const struct ehlo_row ehlo_rows[] = {
	{"PIPELINING", {.pipelining = true}},
	{"pipelining", {.pipelining = true}},
	{"PIPELININGX", {0}},
	{"STARTTLS", {.starttls = true}},
	{"SIZE", {.size = true}},
	{"SIZE 0", {.size = true}},
	{"SIZE 10240000", {.size = true, .size_max = 10240000}},
	{"SIZE 1844674407370955160",
	 {.size = true, .size_max = 1844674407370955160u}},
	{"SIZE 18446744073709551615", {.size = true}},
	{"SIZE 99999999999999999999999", {.size = true}},
	{"SIZE 12k", {.size = true}},
	{"SIZEX 5", {0}},
	{"8BITMIME", {.eightbitmime = true}},
	{"SMTPUTF8", {.smtputf8 = true}},
	{"DSN", {.dsn = true}},
	{"CHUNKING", {.chunking = true}},
	{"ENHANCEDSTATUSCODES", {.enhancedstatuscodes = true}},
	{"AUTH PLAIN LOGIN", {.auth = SMTP_AUTH_PLAIN | SMTP_AUTH_LOGIN}},
	{"AUTH CRAM-MD5 login", {.auth = SMTP_AUTH_LOGIN}},
	{"AUTH=PLAIN", {.auth = SMTP_AUTH_PLAIN}},
	{"AUTH PLAINX LOGINX", {0}},
	{"AUTH", {0}},
	{"ETRN", {0}},
	{"", {0}},
};

static void test_ehlo_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(ehlo_rows); i++) {
		const struct ehlo_row *row = &ehlo_rows[i];
		size_t len = strlen(row->line);
		char *copy = malloc(len ? len : 1);
		struct smtp_ehlo e;

		assert_non_null(copy);
		memcpy(copy, row->line, len);
		memset(&e, 0, sizeof(e));
		smtp_ehlo_keyword(&e, copy, len);
		free(copy);
		if (memcmp(&e, &row->want, sizeof(e)) != 0)
			fail_msg("row %zu \"%s\"", i, row->line);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_rows),
		cmocka_unit_test(test_reply_line),
		cmocka_unit_test(test_reply_limits),
		cmocka_unit_test(test_reply_prefixes),
		cmocka_unit_test(test_ehlo_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
