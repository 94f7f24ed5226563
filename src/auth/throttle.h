/*
 * Failed-login throttling (DESIGN.md section 7: "failed AUTH is delayed and
 * rate-limited per IP and per user").
 *
 * Per client address: each failure in the window delays the next answer
 * more (1 s, 2 s, 4 s, 8 s), and past THROTTLE_IP_REFUSE failures the
 * address is refused outright until the window passes.
 * Per user: past THROTTLE_USER_REFUSE failures from anywhere, logins for
 * that user are refused for a short while, but never from an address that
 * logged in as that user successfully before, so a stranger cannot lock a
 * real user out of their usual places.
 *
 * Memory is bounded: fixed tables keyed by a hash, oldest entry evicted.
 * The tables live in one shared anonymous mapping made by the master
 * before it forks, so every worker counts against the same budget (an
 * attacker gains nothing from landing on several workers). A process-
 * shared robust mutex guards them; a worker that dies holding it costs
 * at most one half-written entry, never a lock-up.
 */
#ifndef AUTH_THROTTLE_H
#define AUTH_THROTTLE_H

#include <time.h>

#define THROTTLE_WINDOW ((time_t)15 * 60) /* seconds failures are kept */
#define THROTTLE_IP_REFUSE 10	/* failures per address, then refuse */
#define THROTTLE_USER_REFUSE 30 /* failures per user, then refuse */
#define THROTTLE_USER_LOCK ((time_t)5 * 60)    /* seconds a user is refused */
#define THROTTLE_GOOD_TTL ((time_t)30 * 86400) /* a good address is trusted */
#define THROTTLE_MAX_DELAY_MS 8000

struct throttle;

/*
 * The caller owns the result and frees it with throttle_free(); children
 * forked after this share it. Aborts when the mapping cannot be made.
 */
struct throttle *throttle_new(void);
void throttle_free(struct throttle **tp);

/*
 * May ip try to log in (as user, NULL when not known yet)? Returns 0, or
 * the seconds after which it may try again (answer 454 4.7.0).
 */
int throttle_check(struct throttle *t, const char *ip, const char *user,
		   time_t now);

/* Record a failure; returns how many milliseconds to wait before
 * answering it. user may be NULL. */
int throttle_fail(struct throttle *t, const char *ip, const char *user,
		  time_t now);

/* Record a success: forget ip's failures, remember ip as good for user. */
void throttle_success(struct throttle *t, const char *ip, const char *user,
		      time_t now);

#endif
