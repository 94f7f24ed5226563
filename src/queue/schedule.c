#include "queue/schedule.h"

time_t schedule_next(unsigned attempts, time_t now, time_t created,
		     int lifetime, const int *delays, size_t n)
{
	static const int first[] = SCHEDULE_FIRST_DELAYS;
	const size_t nfirst = sizeof(first) / sizeof(first[0]);
	int delay;
	time_t next, end = created + lifetime;

	if (n > 0)
		delay = delays[attempts >= 1 && attempts <= n ? attempts - 1
							      : n - 1];
	else
		delay = attempts >= 1 && attempts <= nfirst
				? first[attempts - 1]
				: SCHEDULE_STEADY_DELAY;
	next = now + delay;
	if (next > end && now < end)
		next = end;
	return next;
}

bool schedule_expired(time_t created, time_t now, int lifetime)
{
	return now >= created + lifetime;
}

bool schedule_warn_due(time_t created, time_t now, int warn_after, bool warned)
{
	return warn_after > 0 && !warned && now >= created + warn_after;
}
