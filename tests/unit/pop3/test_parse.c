/*
 * pop3/parse: command lines row by row, numbers, UIDL derivation, and
 * byte-stuffing fed whole, one byte at a time and through a tiny output
 * buffer, which must all give the same bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pop3/parse.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))
#define S(s) s, sizeof(s) - 1

/* An exact-size heap copy, so the sanitizer build sees any over-read. */
static char *exact(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

struct cmd_row {
	const char *line;
	size_t len;
	int ret;
	enum pop3_cmd cmd;
	size_t argc;
	const char *arg0, *arg1;
};

static const struct cmd_row cmd_rows[] = {
	{S("CAPA"), 0, POP3_CMD_CAPA, 0, NULL, NULL},
	{S("capa"), 0, POP3_CMD_CAPA, 0, NULL, NULL},
	{S("CaPa "), 0, POP3_CMD_CAPA, 0, NULL, NULL},
	{S("CAPA x"), -1, POP3_CMD_CAPA, 0, NULL, NULL},
	{S("STLS"), 0, POP3_CMD_STLS, 0, NULL, NULL},
	{S("USER alice@example.test"), 0, POP3_CMD_USER, 1,
	 "alice@example.test", NULL},
	{S("USER"), -1, POP3_CMD_USER, 0, NULL, NULL},
	{S("USER a b"), -1, POP3_CMD_USER, 1, "a", NULL},
	{S("PASS correct horse"), 0, POP3_CMD_PASS, 1, "correct horse", NULL},
	{S("pass  lead"), 0, POP3_CMD_PASS, 1, " lead", NULL},
	{S("PASS trail "), 0, POP3_CMD_PASS, 1, "trail ", NULL},
	{S("PASS"), -1, POP3_CMD_PASS, 0, NULL, NULL},
	{S("PASS "), -1, POP3_CMD_PASS, 0, NULL, NULL},
	{S("PASS a\0b"), -1, POP3_CMD_PASS, 0, NULL, NULL},
	{S("PASS gr\xc3\xbc\xc3\x9f"), 0, POP3_CMD_PASS, 1,
	 "gr\xc3\xbc\xc3\x9f", NULL},
	{S("AUTH"), 0, POP3_CMD_AUTH, 0, NULL, NULL},
	{S("AUTH PLAIN"), 0, POP3_CMD_AUTH, 1, "PLAIN", NULL},
	{S("AUTH PLAIN AGEAYg=="), 0, POP3_CMD_AUTH, 2, "PLAIN", "AGEAYg=="},
	{S("AUTH PLAIN ="), 0, POP3_CMD_AUTH, 2, "PLAIN", "="},
	{S("AUTH PLAIN a b"), -1, POP3_CMD_AUTH, 2, "PLAIN", "a"},
	{S("APOP mrose c4c9334bac560ecc979e58001b3e22fb"), 0, POP3_CMD_APOP, 2,
	 "mrose", "c4c9334bac560ecc979e58001b3e22fb"},
	{S("STAT"), 0, POP3_CMD_STAT, 0, NULL, NULL},
	{S("LIST"), 0, POP3_CMD_LIST, 0, NULL, NULL},
	{S("list 2"), 0, POP3_CMD_LIST, 1, "2", NULL},
	{S("LIST 2 3"), -1, POP3_CMD_LIST, 1, "2", NULL},
	{S("LIST  2"), -1, POP3_CMD_LIST, 0, NULL, NULL},
	{S("RETR 1"), 0, POP3_CMD_RETR, 1, "1", NULL},
	{S("RETR"), -1, POP3_CMD_RETR, 0, NULL, NULL},
	{S("TOP 1 10"), 0, POP3_CMD_TOP, 2, "1", "10"},
	{S("top 1 0  "), 0, POP3_CMD_TOP, 2, "1", "0"},
	{S("TOP 1"), -1, POP3_CMD_TOP, 1, "1", NULL},
	{S("TOP 1 2 3"), -1, POP3_CMD_TOP, 2, "1", "2"},
	{S("DELE 1"), 0, POP3_CMD_DELE, 1, "1", NULL},
	{S("NOOP"), 0, POP3_CMD_NOOP, 0, NULL, NULL},
	{S("RSET"), 0, POP3_CMD_RSET, 0, NULL, NULL},
	{S("UIDL"), 0, POP3_CMD_UIDL, 0, NULL, NULL},
	{S("UIDL 7"), 0, POP3_CMD_UIDL, 1, "7", NULL},
	{S("QUIT"), 0, POP3_CMD_QUIT, 0, NULL, NULL},
	{S("RETR \x01"), -1, POP3_CMD_RETR, 0, NULL, NULL},
	{S("RETR 1\t"), -1, POP3_CMD_RETR, 0, NULL, NULL},
	{S("RETR\t1"), -1, POP3_CMD_UNKNOWN, 0, NULL, NULL},
	{S("QUITX"), -1, POP3_CMD_UNKNOWN, 0, NULL, NULL},
	{S("QU"), -1, POP3_CMD_UNKNOWN, 0, NULL, NULL},
	{S(""), -1, POP3_CMD_UNKNOWN, 0, NULL, NULL},
	{S(" QUIT"), -1, POP3_CMD_UNKNOWN, 0, NULL, NULL},
	{S("XTND XMIT"), -1, POP3_CMD_UNKNOWN, 0, NULL, NULL},
	{S("QU\0T"), -1, POP3_CMD_UNKNOWN, 0, NULL, NULL},
	{S("\xff\xfe\xfd"), -1, POP3_CMD_UNKNOWN, 0, NULL, NULL},
};

static void check_arg(const struct pop3_arg *a, const char *want,
		      const char *line, size_t len)
{
	assert_int_equal(a->len, strlen(want));
	assert_memory_equal(a->p, want, a->len);
	assert_true(a->p >= line && a->p + a->len <= line + len);
}

static void test_commands(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(cmd_rows); i++) {
		const struct cmd_row *r = &cmd_rows[i];
		char *line = exact(r->line, r->len);
		struct pop3_command cmd;
		const char *error = NULL;
		int ret = pop3_parse_command(line, r->len, &cmd, &error);

		if (ret != r->ret)
			fail_msg("row %zu (%s): got %d", i, r->line, ret);
		assert_int_equal(cmd.cmd, r->cmd);
		assert_true(cmd.rest >= line &&
			    cmd.rest + cmd.rest_len == line + r->len);
		if (ret != 0) {
			assert_non_null(error);
			assert_true(error[0] != '\0');
			free(line);
			continue;
		}
		assert_int_equal(cmd.argc, r->argc);
		if (r->argc > 0)
			check_arg(&cmd.args[0], r->arg0, line, r->len);
		if (r->argc > 1)
			check_arg(&cmd.args[1], r->arg1, line, r->len);
		free(line);
	}
}

/* RFC 2449 4: 255 octets with CRLF, so 253 without. */
static void test_command_length(void **state)
{
	char line[POP3_COMMAND_MAX + 10];
	struct pop3_command cmd;
	const char *error;

	(void)state;
	memset(line, 'x', sizeof(line));
	memcpy(line, "PASS ", 5);
	assert_int_equal(
		pop3_parse_command(line, POP3_COMMAND_MAX - 2, &cmd, &error),
		0);
	assert_int_equal(cmd.args[0].len, POP3_COMMAND_MAX - 2 - 5);
	assert_int_equal(
		pop3_parse_command(line, POP3_COMMAND_MAX - 1, &cmd, &error),
		-2);
	assert_int_equal(pop3_parse_command(line, sizeof(line), &cmd, &error),
			 -2);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(pop3_cmd_name(POP3_CMD_RETR), "RETR");
	assert_string_equal(pop3_cmd_name(POP3_CMD_TOP), "TOP");
	assert_string_equal(pop3_cmd_name(POP3_CMD_UNKNOWN), "?");
	for (int c = POP3_CMD_CAPA; c <= POP3_CMD_QUIT; c++) {
		const char *name = pop3_cmd_name((enum pop3_cmd)c);
		struct pop3_command cmd;
		const char *error;

		/* every name parses back to its command */
		assert_true(strlen(name) >= 3);
		int ret = pop3_parse_command(name, strlen(name), &cmd, &error);

		/* bare USER, RETR...: known but missing a parameter */
		assert_true(ret == 0 || ret == -1);
		assert_int_equal(cmd.cmd, c);
	}
}

static const struct num_row {
	const char *s;
	int ret;
	uint32_t n;
} num_rows[] = {
	{"0", 0, 0},	       {"1", 0, 1},
	{"007", 0, 7},	       {"4294967295", 0, UINT32_MAX},
	{"4294967296", -1, 0}, {"99999999999", -1, 0},
	{"", -1, 0},	       {"-1", -1, 0},
	{"+1", -1, 0},	       {"1a", -1, 0},
	{" 1", -1, 0},	       {"0x10", -1, 0},
};

static void test_numbers(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(num_rows); i++) {
		size_t len = strlen(num_rows[i].s);
		char *s = exact(num_rows[i].s, len);
		uint32_t n = 12345;

		assert_int_equal(pop3_parse_number(s, len, &n),
				 num_rows[i].ret);
		if (num_rows[i].ret == 0)
			assert_int_equal(n, num_rows[i].n);
		else
			assert_int_equal(n, 12345);
		free(s);
	}
}

static void test_uidl(void **state)
{
	char out[POP3_UIDL_MAX + 1];
	char small[17];
	char exact18[18];

	(void)state;
	assert_int_equal(pop3_uidl(0x5f3a2b1c, 42, out, sizeof(out)), 17);
	assert_string_equal(out, "5f3a2b1c.0000002a");
	assert_int_equal(pop3_uidl(1, 1, out, sizeof(out)), 17);
	assert_string_equal(out, "00000001.00000001");
	assert_int_equal(pop3_uidl(UINT32_MAX, UINT32_MAX, out, sizeof(out)),
			 17);
	assert_string_equal(out, "ffffffff.ffffffff");
	/* same inputs, same id; any change in either, another id */
	assert_int_equal(pop3_uidl(7, 9, out, sizeof(out)), 17);
	assert_int_equal(pop3_uidl(7, 9, exact18, sizeof(exact18)), 17);
	assert_string_equal(out, exact18);
	assert_int_equal(pop3_uidl(8, 9, exact18, sizeof(exact18)), 17);
	assert_string_not_equal(out, exact18);
	assert_int_equal(pop3_uidl(7, 10, exact18, sizeof(exact18)), 17);
	assert_string_not_equal(out, exact18);
	/* RFC 1939 7: 0x21..0x7E only */
	for (size_t i = 0; out[i] != '\0'; i++)
		assert_true(out[i] >= 0x21 && out[i] <= 0x7e);
	assert_int_equal(pop3_uidl(1, 2, small, sizeof(small)), 0);
	assert_int_equal(small[0], '\0');
}

struct stuff_row {
	const char *in;
	bool top;
	uint32_t lines;
	const char *out; /* body and terminator */
};

static const struct stuff_row stuff_rows[] = {
	{"", false, 0, ".\r\n"},
	{"a\r\n", false, 0, "a\r\n.\r\n"},
	{"a", false, 0, "a\r\n.\r\n"},
	{"a\r", false, 0, "a\r\n.\r\n"},
	{".\r\n", false, 0, "..\r\n.\r\n"},
	{".a\r\n..b\r\nc.\r\n.", false, 0, "..a\r\n...b\r\nc.\r\n..\r\n.\r\n"},
	{"a\r\n.\r\nb\r\n", false, 0, "a\r\n..\r\nb\r\n.\r\n"},
	{"x\r.y\r\n", false, 0, "x\r.y\r\n.\r\n"},
	/* TOP: header, blank line, n body lines */
	{"H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\nb3\r\n", true, 0,
	 "H: 1\r\nH: 2\r\n\r\n.\r\n"},
	{"H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\nb3\r\n", true, 2,
	 "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\n.\r\n"},
	{"H: 1\r\n\r\nb1\r\nb2\r\n", true, 5, "H: 1\r\n\r\nb1\r\nb2\r\n.\r\n"},
	{"H: 1\r\n\r\nb1\r\nb2", true, 5, "H: 1\r\n\r\nb1\r\nb2\r\n.\r\n"},
	{"H: 1\r\n\r\n.b1\r\n\r\nb2\r\n", true, 2,
	 "H: 1\r\n\r\n..b1\r\n\r\n.\r\n"},
	{"H: 1\r\nH: 2\r\n", true, 0, "H: 1\r\nH: 2\r\n.\r\n"},
	{"\r\nbody\r\n", true, 0, "\r\n.\r\n"},
	{"H: x\n\nb\n", true, 0, "H: x\n\n.\r\n"},
};

/* Stuff in through out_size-octet windows, feeding step octets a time. */
static size_t run_stuff(const struct stuff_row *r, size_t step, size_t out_size,
			char *res, size_t res_size)
{
	struct pop3_dotstuff d;
	size_t len = strlen(r->in), off = 0, n = 0;
	char *out = malloc(out_size);

	assert_non_null(out);
	pop3_dotstuff_init(&d, r->top, r->lines);
	while (off < len && !d.done) {
		size_t chunk = len - off < step ? len - off : step;
		char *in = exact(r->in + off, chunk);
		size_t olen = 0;
		size_t used =
			pop3_dotstuff(&d, in, chunk, out, out_size, &olen);

		free(in);
		assert_true(used <= chunk && olen <= out_size);
		assert_true(used > 0 || d.done);
		assert_true(n + olen <= res_size);
		memcpy(res + n, out, olen);
		n += olen;
		off += used;
	}
	free(out);
	out = malloc(5);
	assert_non_null(out);
	{
		size_t e = pop3_dotstuff_end(&d, out, 5);

		assert_true(n + e <= res_size);
		memcpy(res + n, out, e);
		n += e;
	}
	free(out);
	return n;
}

static void test_dotstuff(void **state)
{
	static const size_t steps[] = {1, 2, 3, 1000};
	static const size_t outs[] = {2, 3, 4096};

	(void)state;
	for (size_t i = 0; i < NROWS(stuff_rows); i++) {
		const struct stuff_row *r = &stuff_rows[i];

		for (size_t s = 0; s < NROWS(steps); s++) {
			for (size_t o = 0; o < NROWS(outs); o++) {
				char res[256];
				size_t n = run_stuff(r, steps[s], outs[o], res,
						     sizeof(res));

				if (n != strlen(r->out) ||
				    memcmp(res, r->out, n) != 0)
					fail_msg("row %zu step %zu out %zu: "
						 "got \"%.*s\"",
						 i, steps[s], outs[o], (int)n,
						 res);
			}
		}
	}
}

static void test_dotstuff_small_buffers(void **state)
{
	struct pop3_dotstuff d;
	char out[8];
	size_t olen = 99;

	(void)state;
	pop3_dotstuff_init(&d, false, 0);
	/* a "." at line start needs two octets of room at once */
	assert_int_equal(pop3_dotstuff(&d, ".", 1, out, 1, &olen), 0);
	assert_int_equal(olen, 0);
	assert_int_equal(pop3_dotstuff(&d, ".", 1, out, 2, &olen), 1);
	assert_int_equal(olen, 2);
	assert_memory_equal(out, "..", 2);
	assert_int_equal(pop3_dotstuff_end(&d, out, 4), 0);
	assert_int_equal(pop3_dotstuff_end(&d, out, 5), 5);
	assert_memory_equal(out, "\r\n.\r\n", 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_command_length),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_uidl),
		cmocka_unit_test(test_dotstuff),
		cmocka_unit_test(test_dotstuff_small_buffers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
