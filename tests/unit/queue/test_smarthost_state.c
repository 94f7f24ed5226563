/*
 * queue/smarthost_state: the remembered smart host port. A table of
 * records (good and bad), every record fed cut at every length, a format
 * round trip, and save/load through a temp folder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/mem.h"
#include "queue/smarthost_state.h"

struct row {
	const char *rec;
	int want; /* the port, 0 another host, -1 malformed */
};

static const struct row rows[] = {
	{"smtp.example 465\n", 465},
	{"smtp.example 1\n", 1},
	{"smtp.example 65535\n", 65535},
	{"other.example 465\n", 0},
	{"smtp.example.org 465\n", 0},
	{"SMTP.EXAMPLE 465\n", 0}, /* as configured, byte for byte */
	{"smtp.example 65536\n", -1},
	{"smtp.example 0\n", -1},
	{"smtp.example 0465\n", -1},
	{"smtp.example 465", -1},
	{"smtp.example 465\r\n", -1},
	{"smtp.example  465\n", -1},
	{"smtp.example\n", -1},
	{"smtp.example \n", -1},
	{" 465\n", -1},
	{"\n", -1},
	{"", -1},
	{"smtp.example 4a5\n", -1},
	{"smtp.example -465\n", -1},
	{"smtp.example 123456\n", -1},
	{"smtp.example 465\nsmtp.example 587\n", -1},
	{"smtp\texample 465\n", -1},
	{"smtp.\xc3\xa9xample 465\n", -1},
};

static void test_parse_table(void **state)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *error = NULL;
		int got =
			smarthost_state_parse(rows[i].rec, strlen(rows[i].rec),
					      "smtp.example", &error);

		if (got != rows[i].want)
			fail_msg("row %zu (%s): got %d", i, rows[i].rec, got);
		if (got < 0)
			assert_non_null(error);
	}
}

/* No strict prefix of a good record parses (each cut is exact-size). */
static void test_prefixes(void **state)
{
	const char *rec = "smtp.example 2525\n";
	size_t len = strlen(rec);

	for (size_t i = 0; i < len; i++) {
		char *cut = xmalloc(i > 0 ? i : 1);
		const char *error;

		memcpy(cut, rec, i);
		assert_int_equal(
			smarthost_state_parse(cut, i, "smtp.example", &error),
			-1);
		free(cut);
	}
}

static void test_too_long(void **state)
{
	char host[SMARTHOST_HOST_MAX + 2], buf[SMARTHOST_STATE_MAX + 16];
	const char *error;
	int n;

	memset(host, 'h', SMARTHOST_HOST_MAX);
	host[SMARTHOST_HOST_MAX] = '\0';
	n = smarthost_state_format(buf, sizeof(buf), host, 65535);
	assert_int_equal(n, SMARTHOST_STATE_MAX);
	assert_int_equal(smarthost_state_parse(buf, (size_t)n, host, &error),
			 65535);
	host[SMARTHOST_HOST_MAX] = 'h';
	host[SMARTHOST_HOST_MAX + 1] = '\0';
	assert_int_equal(smarthost_state_format(buf, sizeof(buf), host, 25),
			 -1);
}

static void test_format(void **state)
{
	char buf[SMARTHOST_STATE_MAX + 1];
	const char *error;
	int n = smarthost_state_format(buf, sizeof(buf), "relay.test", 587);

	assert_int_equal(n, 15);
	assert_string_equal(buf, "relay.test 587\n");
	assert_int_equal(
		smarthost_state_parse(buf, (size_t)n, "relay.test", &error),
		587);
	assert_int_equal(smarthost_state_format(buf, sizeof(buf), "a b", 25),
			 -1);
	assert_int_equal(smarthost_state_format(buf, sizeof(buf), "", 25), -1);
	assert_int_equal(smarthost_state_format(buf, sizeof(buf), "a", 0), -1);
	assert_int_equal(smarthost_state_format(buf, sizeof(buf), "a", 65536),
			 -1);
	assert_int_equal(smarthost_state_format(buf, 5, "relay.test", 25), -1);
}

static void test_save_load(void **state)
{
	char dir[] = "/tmp/smarthost_state_XXXXXX", path[256];
	const char *error;
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	/* No queue folder, no file: nothing remembered, save fails. */
	assert_int_equal(smarthost_state_load(dir, "relay.test"), 0);
	assert_int_equal(smarthost_state_save(dir, "relay.test", 465, &error),
			 -1);
	snprintf(path, sizeof(path), "%s/queue", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(smarthost_state_save(dir, "relay.test", 465, &error),
			 0);
	assert_int_equal(smarthost_state_load(dir, "relay.test"), 465);
	assert_int_equal(smarthost_state_load(dir, "other.test"), 0);
	assert_int_equal(smarthost_state_save(dir, "relay.test", 2525, &error),
			 0);
	assert_int_equal(smarthost_state_load(dir, "relay.test"), 2525);
	/* A damaged file is no memory at all. */
	snprintf(path, sizeof(path), "%s/queue/smarthost", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("relay.test 2525", fp);
	fclose(fp);
	assert_int_equal(smarthost_state_load(dir, "relay.test"), 0);
	unlink(path);
	snprintf(path, sizeof(path), "%s/queue", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_save_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
