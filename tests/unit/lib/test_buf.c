/* lib/buf: the maximum holds on every path that adds bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"

static void test_append_within_max(void **state)
{
	struct buf b;

	buf_init(&b, 10);
	assert_int_equal(buf_len(&b), 0);
	assert_int_equal(buf_room(&b), 10);
	assert_int_equal(buf_append(&b, "hello", 5), 0);
	assert_int_equal(buf_append(&b, "world", 5), 0);
	assert_int_equal(buf_len(&b), 10);
	assert_int_equal(buf_room(&b), 0);
	assert_memory_equal(buf_data(&b), "helloworld", 10);
	assert_true(b.cap <= b.max);
	buf_fini(&b);
}

static void test_append_past_max(void **state)
{
	struct buf b;

	buf_init(&b, 10);
	/* All or nothing: a refused append leaves the buffer as it was. */
	assert_int_equal(buf_append(&b, "0123456789a", 11), -1);
	assert_int_equal(buf_len(&b), 0);
	assert_int_equal(buf_append(&b, "012345", 6), 0);
	assert_int_equal(buf_append(&b, "6789a", 5), -1);
	assert_int_equal(buf_len(&b), 6);
	assert_memory_equal(buf_data(&b), "012345", 6);
	assert_int_equal(buf_append(&b, "6789", 4), 0);
	assert_int_equal(buf_append(&b, "x", 1), -1);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_int_equal(buf_len(&b), 10);
	buf_fini(&b);
}

static void test_zero_max(void **state)
{
	struct buf b;
	size_t n = 99;

	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, "x", 1), -1);
	assert_int_equal(buf_append(&b, NULL, 0), 0);
	assert_null(buf_space(&b, 1, &n));
	assert_int_equal(n, 0);
	assert_int_equal(buf_printf(&b, "%s", "x"), -1);
	assert_int_equal(buf_len(&b), 0);
	buf_fini(&b);
}

static void test_growth_capped(void **state)
{
	struct buf b;
	char big[1000];

	memset(big, 'a', sizeof(big));
	buf_init(&b, 1000);
	assert_int_equal(buf_append(&b, big, 600), 0);
	assert_true(b.cap >= 600);
	assert_true(b.cap <= 1000);
	assert_int_equal(buf_append(&b, big, 400), 0);
	assert_int_equal(b.cap, 1000);
	assert_int_equal(buf_append(&b, big, 1), -1);
	buf_fini(&b);
}

static void test_printf(void **state)
{
	struct buf b;
	char big[700];

	buf_init(&b, 1024);
	assert_int_equal(buf_printf(&b, "%d %s", 250, "OK"), 0);
	assert_int_equal(buf_len(&b), 6);
	assert_memory_equal(buf_data(&b), "250 OK", 6);
	/* Longer than the stack buffer buf_printf tries first. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(buf_printf(&b, "[%s]", big), 0);
	assert_int_equal(buf_len(&b), 6 + 701);
	assert_int_equal(buf_data(&b)[6], '[');
	assert_int_equal(buf_data(&b)[6 + 700], ']');
	/* Past the maximum: refused whole. */
	assert_int_equal(buf_printf(&b, "%s", big), -1);
	assert_int_equal(buf_len(&b), 707);
	buf_fini(&b);
}

static void test_consume(void **state)
{
	struct buf b;

	buf_init(&b, 64);
	assert_int_equal(buf_append(&b, "hello world", 11), 0);
	buf_consume(&b, 6);
	assert_int_equal(buf_len(&b), 5);
	assert_memory_equal(buf_data(&b), "world", 5);
	/* Consumed bytes give their room back. */
	assert_int_equal(buf_room(&b), 59);
	buf_consume(&b, 0);
	assert_int_equal(buf_len(&b), 5);
	buf_consume(&b, 5);
	assert_int_equal(buf_len(&b), 0);
	assert_int_equal(b.off, 0);
	assert_int_equal(b.len, 0);
	buf_fini(&b);
}

/* Room freed at the front is reused by moving data, not by growing. */
static void test_compaction(void **state)
{
	struct buf b;
	unsigned char in[300], want[150];

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)i;
	buf_init(&b, 256);
	assert_int_equal(buf_append(&b, in, 200), 0);
	assert_int_equal(b.cap, 256);
	buf_consume(&b, 150);
	assert_int_equal(buf_room(&b), 206);
	assert_int_equal(buf_append(&b, in + 200, 100), 0);
	assert_int_equal(b.cap, 256);
	assert_int_equal(b.off, 0);
	assert_int_equal(buf_len(&b), 150);
	memcpy(want, in + 150, 50);
	memcpy(want + 50, in + 200, 100);
	assert_memory_equal(buf_data(&b), want, 150);
	/* Still bounded by max counting only unconsumed bytes. */
	assert_int_equal(buf_append(&b, in, 107), -1);
	assert_int_equal(buf_append(&b, in, 106), 0);
	assert_int_equal(buf_len(&b), 256);
	buf_fini(&b);
}

static void test_space_commit(void **state)
{
	struct buf b;
	size_t n = 0;
	char *p;

	buf_init(&b, 16);
	p = buf_space(&b, 10, &n);
	assert_non_null(p);
	assert_true(n >= 10);
	assert_true(n <= buf_room(&b));
	memcpy(p, "0123456789", 10);
	buf_commit(&b, 10);
	assert_int_equal(buf_len(&b), 10);
	assert_memory_equal(buf_data(&b), "0123456789", 10);

	/* Asking for more than the room gives only the room. */
	p = buf_space(&b, 100, &n);
	assert_non_null(p);
	assert_int_equal(n, 6);
	memcpy(p, "abcdef", 6);
	buf_commit(&b, 6);
	assert_int_equal(buf_room(&b), 0);

	/* Full: no space. */
	n = 99;
	assert_null(buf_space(&b, 1, &n));
	assert_int_equal(n, 0);

	/* Consuming makes room again, compacting as needed. */
	buf_consume(&b, 8);
	p = buf_space(&b, 8, &n);
	assert_non_null(p);
	assert_int_equal(n, 8);
	memcpy(p, "ABCDEFGH", 8);
	buf_commit(&b, 8);
	assert_int_equal(buf_len(&b), 16);
	assert_memory_equal(buf_data(&b), "89abcdefABCDEFGH", 16);

	/* A partial commit is fine. */
	buf_reset(&b);
	p = buf_space(&b, 4, &n);
	assert_non_null(p);
	memcpy(p, "xy", 2);
	buf_commit(&b, 2);
	assert_int_equal(buf_len(&b), 2);
	assert_memory_equal(buf_data(&b), "xy", 2);
	buf_fini(&b);
}

static void test_reset_fini(void **state)
{
	struct buf b;

	buf_init(&b, 32);
	buf_fini(&b); /* never allocated */
	assert_null(b.data);
	buf_init(&b, 32);
	assert_int_equal(buf_append(&b, "abc", 3), 0);
	buf_reset(&b);
	assert_int_equal(buf_len(&b), 0);
	assert_int_equal(buf_room(&b), 32);
	buf_fini(&b);
	assert_null(b.data);
	assert_int_equal(b.max, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_within_max),
		cmocka_unit_test(test_append_past_max),
		cmocka_unit_test(test_zero_max),
		cmocka_unit_test(test_growth_capped),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_consume),
		cmocka_unit_test(test_compaction),
		cmocka_unit_test(test_space_commit),
		cmocka_unit_test(test_reset_fini),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
