/*
 * When to try a queued message again, and when to give up: pure policy,
 * RFC 5321 4.5.4.1 ("retry interval should be at least 30 minutes",
 * "give-up time at least 4-5 days"), with a faster start because most
 * temporary failures (greylisting) clear within minutes.
 */
#ifndef QUEUE_SCHEDULE_H
#define QUEUE_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* The delays after attempts 1, 2, 3, 4; hourly after that. */
#define SCHEDULE_FIRST_DELAYS                                                  \
	{                                                                      \
		300, 600, 1200, 2400                                           \
	}
#define SCHEDULE_STEADY_DELAY 3600

/* Most retry delays a configuration may list (queue.retry). */
#define SCHEDULE_MAX_DELAYS 16

/*
 * Time of the next attempt after `attempts` attempts (>= 1) that ended
 * at now, never later than created + lifetime (the last try is then
 * made just before expiry). delays[0..n) are the waits after attempts 1,
 * 2, ...; the last one repeats. n == 0: the defaults above.
 */
time_t schedule_next(unsigned attempts, time_t now, time_t created,
		     int lifetime, const int *delays, size_t n);

/* Has a message created at `created` outlived its lifetime? */
bool schedule_expired(time_t created, time_t now, int lifetime);

/*
 * Is a delay notice due now? Only once: after warn_after seconds, and
 * only when no notice was sent (warned false). warn_after 0: never.
 */
bool schedule_warn_due(time_t created, time_t now, int warn_after, bool warned);

#endif
