/*
 * Commit counters shared by the server's processes (store.h,
 * store_counters_new): one shared anonymous mapping made by the master
 * before it forks, a slot per user chosen by a hash of the Maildir path.
 * Every commit that wrote adds one to its user's slot; a handle that
 * remembers the value knows, without a system call or its SQLite
 * connection, that no postern process changed the index since. Two users
 * in one slot only cost each other a needless look at the index.
 *
 * The slots are 64-bit atomics: no lock, nothing a dying worker can leave
 * half-done.
 */
#include "store/store_int.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/log.h"

/* 64 KiB of counters; only the touched pages cost memory. */
#define STORE_COUNTER_SLOTS 8192

struct store_counters {
	uint64_t slot[STORE_COUNTER_SLOTS];
};

struct store_counters *store_counters_new(void)
{
	/* Anonymous memory is zeroed: every counter starts at 0. */
	struct store_counters *c =
		mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (c == MAP_FAILED)
		fatal("store: cannot map %zu octets of counters: %s",
		      sizeof(*c), strerror(errno));
	return c;
}

void store_counters_free(struct store_counters **cp)
{
	if (*cp == NULL)
		return;
	munmap(*cp, sizeof(**cp));
	*cp = NULL;
}

/* FNV-1a of the user's Maildir path. */
size_t store_counter_slot(const char *root)
{
	uint64_t h = 14695981039346656037ULL;

	for (const char *p = root; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (size_t)(h % STORE_COUNTER_SLOTS);
}

uint64_t store_counter_get(const struct store_counters *c, size_t slot)
{
	return __atomic_load_n(&c->slot[slot], __ATOMIC_ACQUIRE);
}

void store_counter_bump(struct store_counters *c, size_t slot)
{
	__atomic_fetch_add(&c->slot[slot], 1, __ATOMIC_RELEASE);
}
