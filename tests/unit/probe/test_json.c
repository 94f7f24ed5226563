/*
 * probe/json: the string escaper row by row (every output must be valid
 * UTF-8 JSON whatever a server sent) and the writer's commas, nesting
 * and null values.
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

#include "probe/json.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

struct escape_row {
	const char *in;
	size_t len; /* 0: strlen(in) */
	const char *out;
};

static const struct escape_row escape_rows[] = {
	{"", 0, "\"\""},
	{"plain text", 0, "\"plain text\""},
	{"say \"hi\"", 0, "\"say \\\"hi\\\"\""},
	{"back\\slash", 0, "\"back\\\\slash\""},
	{"a/b", 0, "\"a/b\""}, /* '/' may stay as it is */
	{"l1\nl2\r\tx", 0, "\"l1\\nl2\\r\\tx\""},
	{"\x01\x1f", 0, "\"\\u0001\\u001f\""},
	{"del\x7f", 0, "\"del\\u007f\""},
	{"nul\0x", 5, "\"nul\\u0000x\""},
	/* Well-formed UTF-8 passes through. */
	{"caf\xc3\xa9", 0, "\"caf\xc3\xa9\""},
	{"\xe2\x82\xac 5", 0, "\"\xe2\x82\xac 5\""},
	{"\xf0\x9f\x93\xa7", 0, "\"\xf0\x9f\x93\xa7\""},
	/* Anything else becomes U+FFFD, one per bad byte. */
	{"\xff", 0, "\"\\ufffd\""},
	{"a\xc3", 0, "\"a\\ufffd\""},			  /* cut short */
	{"\xc0\xaf", 0, "\"\\ufffd\\ufffd\""},		  /* overlong '/' */
	{"\xed\xa0\x80", 0, "\"\\ufffd\\ufffd\\ufffd\""}, /* surrogate */
	{"\xe2\x82x", 0, "\"\\ufffd\\ufffdx\""},
};

static char *escape(const char *in, size_t len)
{
	char *out = NULL;
	size_t size = 0;
	FILE *fp = open_memstream(&out, &size);

	assert_non_null(fp);
	json_write_string(fp, in, len);
	fclose(fp);
	return out;
}

static void test_escape_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(escape_rows); i++) {
		const struct escape_row *r = &escape_rows[i];
		size_t len = r->len ? r->len : strlen(r->in);
		/* An exact-size copy: a read past it shows under ASan. */
		char *in = malloc(len + 1);
		char *out;

		memcpy(in, r->in, len);
		out = escape(in, len);
		if (strcmp(out, r->out) != 0)
			fail_msg("row %zu: got %s, want %s", i, out, r->out);
		free(out);
		free(in);
	}
}

static void test_escape_null(void **state)
{
	char *out = escape(NULL, 0);

	(void)state;
	assert_string_equal(out, "\"\"");
	free(out);
}

static void test_writer(void **state)
{
	char *out = NULL;
	size_t size = 0;
	FILE *fp = open_memstream(&out, &size);
	struct json_writer w;

	(void)state;
	json_init(&w, fp);
	json_object(&w, NULL);
	json_str(&w, "a", "x\"y");
	json_int(&w, "n", -42);
	json_bool(&w, "t", true);
	json_null(&w, "z");
	json_str(&w, "s", NULL);
	json_array(&w, "empty");
	json_end(&w);
	json_array(&w, "list");
	json_str(&w, NULL, "one");
	json_object(&w, NULL);
	json_bool(&w, "f", false);
	json_end(&w);
	json_end(&w);
	json_object(&w, "o");
	json_end(&w);
	json_end(&w);
	fclose(fp);
	assert_string_equal(out, "{\n"
				 "  \"a\": \"x\\\"y\",\n"
				 "  \"n\": -42,\n"
				 "  \"t\": true,\n"
				 "  \"z\": null,\n"
				 "  \"s\": null,\n"
				 "  \"empty\": [],\n"
				 "  \"list\": [\n"
				 "    \"one\",\n"
				 "    {\n"
				 "      \"f\": false\n"
				 "    }\n"
				 "  ],\n"
				 "  \"o\": {}\n"
				 "}\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_rows),
		cmocka_unit_test(test_escape_null),
		cmocka_unit_test(test_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
