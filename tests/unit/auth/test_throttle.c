/* auth/throttle: delays grow, addresses and users get refused, known
 * addresses of a user are never locked out by strangers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth/throttle.h"

static void test_delay_grows_and_caps(void **state)
{
	struct throttle *t = throttle_new();
	const int expect[] = {1000, 2000, 4000, 8000, 8000};

	for (size_t i = 0; i < 5; i++)
		assert_int_equal(throttle_fail(t, "192.0.2.1", "a@x", 100),
				 expect[i]);
	/* another address starts from the beginning */
	assert_int_equal(throttle_fail(t, "192.0.2.2", "a@x", 100), 1000);
	throttle_free(&t);
	assert_null(t);
}

static void test_address_refused_then_forgiven(void **state)
{
	struct throttle *t = throttle_new();

	for (int i = 0; i < THROTTLE_IP_REFUSE - 1; i++)
		(void)throttle_fail(t, "192.0.2.1", NULL, 100);
	assert_int_equal(throttle_check(t, "192.0.2.1", NULL, 100), 0);
	(void)throttle_fail(t, "192.0.2.1", NULL, 100);
	assert_true(throttle_check(t, "192.0.2.1", NULL, 101) > 0);
	assert_int_equal(throttle_check(t, "192.0.2.9", NULL, 101), 0);
	/* the window passes */
	assert_int_equal(
		throttle_check(t, "192.0.2.1", NULL, 100 + THROTTLE_WINDOW + 1),
		0);
	throttle_free(&t);
}

static void test_success_resets_address(void **state)
{
	struct throttle *t = throttle_new();

	for (int i = 0; i < 3; i++)
		(void)throttle_fail(t, "192.0.2.1", "a@x", 100);
	throttle_success(t, "192.0.2.1", "a@x", 100);
	assert_int_equal(throttle_fail(t, "192.0.2.1", "a@x", 101), 1000);
	throttle_free(&t);
}

static void test_user_lock_spares_known_addresses(void **state)
{
	struct throttle *t = throttle_new();
	char ip[32];

	throttle_success(t, "198.51.100.7", "victim@x", 50);
	/* a botnet: one failure from each of many addresses */
	for (int i = 0; i < THROTTLE_USER_REFUSE; i++) {
		snprintf(ip, sizeof(ip), "203.0.113.%d", i);
		(void)throttle_fail(t, ip, "victim@x", 100);
	}
	assert_true(throttle_check(t, "203.0.113.200", "victim@x", 101) > 0);
	assert_int_equal(throttle_check(t, "198.51.100.7", "victim@x", 101), 0);
	assert_int_equal(throttle_check(t, "203.0.113.200", "other@x", 101), 0);
	/* the lock is short */
	assert_int_equal(throttle_check(t, "203.0.113.200", "victim@x",
					100 + THROTTLE_USER_LOCK + 1),
			 0);
	throttle_free(&t);
}

static void test_bounded_memory(void **state)
{
	struct throttle *t = throttle_new();
	char ip[64];

	/* far more addresses than slots: old ones are evicted, no growth */
	for (int i = 0; i < 100000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16, (i >> 8) & 255,
			 i & 255);
		(void)throttle_fail(t, ip, NULL, 100 + i / 1000);
	}
	assert_int_equal(throttle_fail(t, "10.1.134.159", NULL, 300), 2000);
	throttle_free(&t);
}

/* Workers are forked processes: failures in one count in all. */
static void test_shared_across_processes(void **state)
{
	struct throttle *t = throttle_new();
	int status = -1;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < THROTTLE_IP_REFUSE; i++)
			(void)throttle_fail(t, "192.0.2.7", "a@x", 100);
		_exit(throttle_check(t, "192.0.2.7", NULL, 100) > 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(throttle_check(t, "192.0.2.7", NULL, 101) > 0);
	/* The parent's own failure continues the child's count. */
	assert_int_equal(throttle_fail(t, "192.0.2.7", NULL, 101),
			 THROTTLE_MAX_DELAY_MS);
	throttle_free(&t);
	assert_null(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delay_grows_and_caps),
		cmocka_unit_test(test_address_refused_then_forgiven),
		cmocka_unit_test(test_success_resets_address),
		cmocka_unit_test(test_user_lock_spares_known_addresses),
		cmocka_unit_test(test_bounded_memory),
		cmocka_unit_test(test_shared_across_processes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
