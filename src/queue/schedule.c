#include "queue/schedule.h"

time_t schedule_next(unsigned attempts, time_t now, time_t created,
		     int lifetime)
{
	static const int first[] = SCHEDULE_FIRST_DELAYS;
	const unsigned nfirst = sizeof(first) / sizeof(first[0]);
	int delay = attempts >= 1 && attempts <= nfirst ? first[attempts - 1]
							: SCHEDULE_STEADY_DELAY;
	time_t next = now + delay;
	time_t end = created + lifetime;

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
