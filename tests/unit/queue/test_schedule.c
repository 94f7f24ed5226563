/* queue/schedule: backoff, expiry and the one delay notice, by table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "queue/schedule.h"

#define DAY 86400

static void test_backoff(void **state)
{
	static const struct {
		unsigned attempts;
		time_t now;
		time_t expect;
	} rows[] = {
		{1, 1000, 1300},
		{2, 1000, 1600},
		{3, 1000, 2200},
		{4, 1000, 3400},
		{5, 1000, 4600},
		{50, 1000, 4600},
		/* capped at expiry, never past it */
		{5, 5 * DAY - 100, 5 * DAY},
		/* already expired: the plain delay (caller gives up anyway) */
		{5, 5 * DAY + 10, 5 * DAY + 10 + 3600},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		time_t got = schedule_next(rows[i].attempts, rows[i].now, 0,
					   5 * DAY, NULL, 0);

		if (got != rows[i].expect)
			fail_msg("row %zu: %lld != %lld", i, (long long)got,
				 (long long)rows[i].expect);
	}
}

static void test_configured_delays(void **state)
{
	static const int delays[] = {1, 2, 60};

	assert_int_equal(schedule_next(1, 100, 0, DAY, delays, 3), 101);
	assert_int_equal(schedule_next(2, 100, 0, DAY, delays, 3), 102);
	assert_int_equal(schedule_next(3, 100, 0, DAY, delays, 3), 160);
	assert_int_equal(schedule_next(9, 100, 0, DAY, delays, 3), 160);
}

static void test_expiry_and_warning(void **state)
{
	assert_false(schedule_expired(0, 5 * DAY - 1, 5 * DAY));
	assert_true(schedule_expired(0, 5 * DAY, 5 * DAY));
	assert_false(schedule_warn_due(0, 3599, 3600, false));
	assert_true(schedule_warn_due(0, 3600, 3600, false));
	assert_false(schedule_warn_due(0, 7200, 3600, true));
	assert_false(schedule_warn_due(0, 99 * DAY, 0, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_configured_delays),
		cmocka_unit_test(test_expiry_and_warning),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
