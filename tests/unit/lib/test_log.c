/* lib/log: log_q renders network bytes so they cannot forge keys or lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/log.h"

#define S(s) s, sizeof(s) - 1

struct row {
	const char *in;
	size_t len;
	const char *out;
};

static const struct row rows[] = {
	{S("hello"), "hello"},
	{S("user@example.org"), "user@example.org"},
	{S(""), "\"\""},
	{S("a b"), "\"a b\""},
	{S(" "), "\" \""},
	{S("a=b"), "\"a=b\""},
	{S("say \"hi\""), "\"say \\\"hi\\\"\""},
	{S("a\\b"), "\"a\\\\b\""},
	{S("a\nb"), "\"a\\nb\""},
	{S("a\r\nb"), "\"a\\r\\nb\""},
	{S("a\tb"), "\"a\\tb\""},
	{S("a\0b"), "\"a\\x00b\""},
	{S("\x01\x1f\x7f"), "\"\\x01\\x1f\\x7f\""},
	{S("\x1b[31m"), "\"\\x1b[31m\""},
	/* Bytes past ASCII are quoted and kept as they are (UTF-8). */
	{S("caf\xc3\xa9"), "\"caf\xc3\xa9\""},
	/* A value trying to end itself and add a key and a line. */
	{S("x\" level=error\nts=0"), "\"x\\\" level=error\\nts=0\""},
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static void test_rows(void **state)
{
	char buf[256];

	for (size_t i = 0; i < NROWS; i++) {
		const char *r =
			log_q(buf, sizeof(buf), rows[i].in, rows[i].len);

		assert_ptr_equal(r, buf);
		assert_string_equal(buf, rows[i].out);
	}
}

static void test_qs(void **state)
{
	char buf[64];

	assert_string_equal(log_qs(buf, sizeof(buf), NULL), "-");
	assert_string_equal(log_qs(buf, sizeof(buf), "plain"), "plain");
	assert_string_equal(log_qs(buf, sizeof(buf), "two words"),
			    "\"two words\"");
}

/* Lengths of the escape tokens of a rendered body, to find cut points. */
static int is_token_boundary(const char *body, size_t blen, size_t at)
{
	size_t i = 0;

	while (i < at && i < blen) {
		if (body[i] != '\\')
			i += 1;
		else if (body[i + 1] == 'x')
			i += 4;
		else
			i += 2;
	}
	return i == at;
}

/*
 * For every buffer size: NUL-terminated within size, nothing written past
 * it, and either the full rendering or a cut one: the same opening, whole
 * escapes only, then "..." and the closing quote.
 */
static void check_all_sizes(const char *in, size_t len)
{
	char full[1024];
	char buf[1024 + 16];
	size_t flen, quote;

	log_q(full, sizeof(full), in, len);
	flen = strlen(full);
	quote = full[0] == '"';
	for (size_t size = 0; size <= flen + 8; size++) {
		size_t olen;

		memset(buf, 'Z', sizeof(buf));
		log_q(buf, size, in, len);
		if (size == 0) {
			assert_int_equal(buf[0], 'Z');
			continue;
		}
		olen = strnlen(buf, size);
		assert_true(olen < size);
		for (size_t k = size; k < size + 16; k++)
			assert_int_equal(buf[k], 'Z');
		for (size_t k = 0; k < olen; k++)
			assert_true((unsigned char)buf[k] >= 0x20);
		/* With room to spare, nothing is cut. */
		if (flen + 6 <= size)
			assert_string_equal(buf, full);
		if (strcmp(buf, full) == 0)
			continue;
		/* Too small for anything: only the mark that it was cut. */
		if (olen <= 3 && strspn(buf, ".") == olen)
			continue;
		assert_true(olen >= 3 + 2 * quote);
		assert_memory_equal(buf + olen - quote - 3, "...", 3);
		if (quote) {
			assert_int_equal(buf[0], '"');
			assert_int_equal(buf[olen - 1], '"');
		}
		{
			size_t body = olen - 3 - 2 * quote;

			assert_memory_equal(buf + quote, full + quote, body);
			assert_true(is_token_boundary(full + quote,
						      flen - 2 * quote, body));
		}
	}
}

static void test_truncation(void **state)
{
	char longplain[300];

	memset(longplain, 'a', sizeof(longplain));
	check_all_sizes(S("hello"));
	check_all_sizes(S("hello world"));
	check_all_sizes(S(""));
	check_all_sizes(S("\n\n\n\n\n\n\n\n"));
	check_all_sizes(S("\x01\x02\x03\x04\x05\x06\x07"));
	check_all_sizes(S("ab\ncd\x01\"ef\\gh\tij\x7f"));
	check_all_sizes(longplain, sizeof(longplain));
}

static void test_truncation_exact(void **state)
{
	char buf[16];

	/* Reserve is 6: the room for the closing quote, "..." and NUL. */
	assert_string_equal(log_q(buf, 11, S("hello")), "hello");
	assert_string_equal(log_q(buf, 10, S("hello")), "hell...");
	assert_string_equal(log_q(buf, 10, S("a b c")), "\"a b...\"");
	assert_string_equal(log_q(buf, 11, S("a b c")), "\"a b ...\"");
	/* An escape that does not fit is left out whole. */
	assert_string_equal(log_q(buf, 10, S("abc\ndef")), "\"abc...\"");
	assert_string_equal(log_q(buf, 10, S("abc\x01")), "\"abc...\"");
	assert_string_equal(log_q(buf, 1, S("a b")), "");
	assert_string_equal(log_q(buf, 4, S("a b")), "...");
	assert_string_equal(log_q(buf, 7, S("a b")), "\"...\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_qs),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_truncation_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
