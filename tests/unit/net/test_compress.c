/* net/compress: raw DEFLATE round trips, bounded inflate, corrupt input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "net/compress.h"

/* Move z's deflated output into peer's compressed input. */
static void wire(struct compress *from, struct compress *to)
{
	struct buf *out = compress_output(from);

	assert_int_equal(
		buf_append(compress_input(to), buf_data(out), buf_len(out)), 0);
	buf_consume(out, buf_len(out));
}

static void test_round_trip(void **state)
{
	struct compress *a = compress_new(), *b = compress_new();
	struct buf got;
	static const char *const msgs[] = {"a1 OK done\r\n", "",
					   "* 1 EXISTS\r\n", "* 1 EXISTS\r\n"};

	(void)state;
	buf_init(&got, 1024);
	for (size_t i = 0; i < 4; i++) {
		size_t len = strlen(msgs[i]);

		assert_int_equal(compress_deflate(a, msgs[i], len, 1 << 20), 0);
		wire(a, b);
		/* Each batch is sync-flushed: it inflates whole at once. */
		assert_int_equal(compress_inflate(b, &got), (long)len);
		assert_memory_equal(buf_data(&got), msgs[i], len);
		buf_consume(&got, len);
		assert_false(compress_has_input(b));
	}
	buf_fini(&got);
	compress_free(&a);
	compress_free(&b);
	compress_free(&a); /* NULL is fine */
}

static void test_bounded_inflate(void **state)
{
	size_t total = 8 << 20, seen = 0;
	char *zeros = calloc(1, total);
	struct compress *a = compress_new(), *b = compress_new();
	struct buf got;

	(void)state;
	assert_non_null(zeros);
	assert_int_equal(compress_deflate(a, zeros, total, 1 << 20), 0);
	/* 8 MiB of zeros is a few KiB on the wire. */
	assert_true(buf_len(compress_output(a)) < 64 * 1024);
	wire(a, b);
	buf_init(&got, 65536);
	while (seen < total) {
		long n = compress_inflate(b, &got);

		assert_true(n > 0);
		/* Never more than the output buffer may hold. */
		assert_true(buf_len(&got) <= 65536);
		for (size_t i = 0; i < buf_len(&got); i++)
			assert_int_equal(buf_data(&got)[i], 0);
		seen += buf_len(&got);
		buf_consume(&got, buf_len(&got));
	}
	assert_int_equal(seen, total);
	assert_int_equal(compress_inflate(b, &got), 0);
	buf_fini(&got);
	compress_free(&a);
	compress_free(&b);
	free(zeros);
}

static void test_output_cap(void **state)
{
	struct compress *a = compress_new();
	char noise[4096];
	uint32_t x = 1;

	(void)state;
	for (size_t i = 0; i < sizeof(noise); i++) {
		x = x * 1103515245u + 12345u;
		noise[i] = (char)(x >> 16);
	}
	/* Random octets do not shrink: a 1 KiB cap is passed. */
	assert_int_equal(compress_deflate(a, noise, sizeof(noise), 1024), -1);
	compress_free(&a);
}

static void test_corrupt(void **state)
{
	struct compress *b = compress_new();
	struct buf got;
	/* Block type 3 is reserved (RFC 1951 3.2.3). */
	static const char bad[] = "\xff\xff\xff\xff";

	(void)state;
	buf_init(&got, 1024);
	assert_int_equal(buf_append(compress_input(b), bad, 4), 0);
	assert_int_equal(compress_inflate(b, &got), -1);
	buf_fini(&got);
	compress_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bounded_inflate),
		cmocka_unit_test(test_output_cap),
		cmocka_unit_test(test_corrupt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
