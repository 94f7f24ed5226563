#include "auth/throttle.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/log.h"

/* Entries per table; the oldest is evicted when one is full. */
#define THROTTLE_SLOTS 4096

struct throttle_entry {
	uint64_t key; /* 0: free */
	time_t first; /* start of the current window */
	time_t last;
	unsigned count;
};

struct throttle_table {
	struct throttle_entry e[THROTTLE_SLOTS];
};

struct throttle {
	pthread_mutex_t lock;	    /* process-shared, robust */
	struct throttle_table ip;   /* failures per address */
	struct throttle_table user; /* failures per user */
	struct throttle_table good; /* (user, address) that logged in */
};

/* FNV-1a over the parts, with a separator so ("ab","c") != ("a","bc"). */
static uint64_t throttle_key(const char *a, const char *b)
{
	uint64_t h = 14695981039346656037ULL;

	for (const char *p = a; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (const char *p = b != NULL ? b : ""; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h != 0 ? h : 1;
}

/* The entry for key, or NULL; with create, a fresh or evicted one. */
static struct throttle_entry *throttle_find(struct throttle_table *tb,
					    uint64_t key, bool create)
{
	struct throttle_entry *oldest = &tb->e[0];
	size_t start = key % THROTTLE_SLOTS;

	/* Linear probing over a short run keeps lookups O(1). */
	for (size_t i = 0; i < 16; i++) {
		struct throttle_entry *e = &tb->e[(start + i) % THROTTLE_SLOTS];

		if (e->key == key)
			return e;
		if (e->key == 0) {
			if (!create)
				return NULL;
			memset(e, 0, sizeof(*e));
			e->key = key;
			return e;
		}
		if (e->last < oldest->last || i == 0)
			oldest = e;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	oldest->key = key;
	return oldest;
}

/* Failures of e still inside the window (0 when it has passed). */
static unsigned throttle_count(struct throttle_entry *e, time_t now)
{
	if (e == NULL)
		return 0;
	if (now - e->first > THROTTLE_WINDOW) {
		e->count = 0;
		e->first = now;
	}
	return e->count;
}

struct throttle *throttle_new(void)
{
	pthread_mutexattr_t attr;
	struct throttle *t;

	/* Anonymous memory is zeroed: every table starts empty. */
	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		fatal("throttle: cannot map %zu octets: %s", sizeof(*t),
		      strerror(errno));
	if (pthread_mutexattr_init(&attr) != 0 ||
	    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(&t->lock, &attr) != 0)
		fatal("throttle: cannot make a shared lock");
	pthread_mutexattr_destroy(&attr);
	return t;
}

void throttle_free(struct throttle **tp)
{
	if (*tp == NULL)
		return;
	pthread_mutex_destroy(&(*tp)->lock);
	munmap(*tp, sizeof(**tp));
	*tp = NULL;
}

static void throttle_lock(struct throttle *t)
{
	int r = pthread_mutex_lock(&t->lock);

	/* Its last holder died mid-update: an entry may be off, no more. */
	if (r == EOWNERDEAD)
		r = pthread_mutex_consistent(&t->lock);
	if (r != 0)
		panic("throttle: lock failed: %s", strerror(r));
}

static void throttle_unlock(struct throttle *t)
{
	pthread_mutex_unlock(&t->lock);
}

static bool throttle_good(struct throttle *t, const char *ip, const char *user,
			  time_t now)
{
	struct throttle_entry *g =
		throttle_find(&t->good, throttle_key(user, ip), false);

	return g != NULL && now - g->last < THROTTLE_GOOD_TTL;
}

static int check_locked(struct throttle *t, const char *ip, const char *user,
			time_t now)
{
	struct throttle_entry *e =
		throttle_find(&t->ip, throttle_key(ip, NULL), false);

	if (throttle_count(e, now) >= THROTTLE_IP_REFUSE)
		return (int)(THROTTLE_WINDOW - (now - e->first)) + 1;
	if (user == NULL || throttle_good(t, ip, user, now))
		return 0;
	e = throttle_find(&t->user, throttle_key(user, NULL), false);
	if (throttle_count(e, now) >= THROTTLE_USER_REFUSE &&
	    now - e->last < THROTTLE_USER_LOCK)
		return (int)(THROTTLE_USER_LOCK - (now - e->last)) + 1;
	return 0;
}

static unsigned throttle_bump(struct throttle_table *tb, uint64_t key,
			      time_t now)
{
	struct throttle_entry *e = throttle_find(tb, key, true);

	if (e->count == 0 || now - e->first > THROTTLE_WINDOW) {
		e->count = 0;
		e->first = now;
	}
	e->last = now;
	return ++e->count;
}

static int fail_locked(struct throttle *t, const char *ip, const char *user,
		       time_t now)
{
	unsigned n = throttle_bump(&t->ip, throttle_key(ip, NULL), now);
	int ms = 1000;

	if (user != NULL && *user != '\0')
		throttle_bump(&t->user, throttle_key(user, NULL), now);
	for (unsigned i = 1; i < n && ms < THROTTLE_MAX_DELAY_MS; i++)
		ms *= 2;
	return ms < THROTTLE_MAX_DELAY_MS ? ms : THROTTLE_MAX_DELAY_MS;
}

static void success_locked(struct throttle *t, const char *ip, const char *user,
			   time_t now)
{
	struct throttle_entry *e =
		throttle_find(&t->ip, throttle_key(ip, NULL), false);

	if (e != NULL)
		e->count = 0;
	e = throttle_find(&t->good, throttle_key(user, ip), true);
	e->last = now;
	e->first = now;
}

int throttle_check(struct throttle *t, const char *ip, const char *user,
		   time_t now)
{
	int r;

	throttle_lock(t);
	r = check_locked(t, ip, user, now);
	throttle_unlock(t);
	return r;
}

int throttle_fail(struct throttle *t, const char *ip, const char *user,
		  time_t now)
{
	int r;

	throttle_lock(t);
	r = fail_locked(t, ip, user, now);
	throttle_unlock(t);
	return r;
}

void throttle_success(struct throttle *t, const char *ip, const char *user,
		      time_t now)
{
	throttle_lock(t);
	success_locked(t, ip, user, now);
	throttle_unlock(t);
}
