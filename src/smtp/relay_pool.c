/*
 * The outbound connection pool (relay.h, relay_int.h): slots counted per
 * destination and in total, sessions handed from one message to the next
 * waiting for the same destination (connection reuse, RFC 5321 4.1.1.5
 * RSET in between), idle sessions closed after RELAY_IDLE_SECONDS.
 *
 * A slot is taken when a message starts connecting and given back when
 * its connection is gone, so connections being opened, in use, idle or
 * saying QUIT all count. A message waits (holding no slot) on its
 * destination's list when sessions to it are busy, or on the pool's list
 * when the total is reached; every slot given back wakes one of them.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "smtp/relay_int.h"

struct relay_dest {
	TAILQ_ENTRY(relay_dest) entry;
	char key[DNS_NAME_MAX + 3]; /* lower-case domain, or "[smarthost]" */
	size_t nconns;		    /* slots taken */
	size_t nwaiters;
	TAILQ_HEAD(, relay_job) waiters;
};

struct relay_pool {
	struct event_base *base;
	size_t max_total, max_per_dest;
	size_t total; /* slots taken */
	TAILQ_HEAD(, relay_dest) dests;
	TAILQ_HEAD(, relay_conn) idle;	 /* oldest first */
	TAILQ_HEAD(, relay_job) waiters; /* for the total limit */
	/* Every slot, to free them at shutdown. */
	struct relay_conn **all;
	size_t nall, all_cap;
};

struct relay_pool *relay_pool_new(struct event_base *base, int max_total,
				  int max_per_dest)
{
	struct relay_pool *pool = xcalloc(1, sizeof(*pool));

	pool->base = base;
	pool->max_total = max_total > 0 ? (size_t)max_total : 1;
	pool->max_per_dest = max_per_dest > 0 ? (size_t)max_per_dest : 1;
	TAILQ_INIT(&pool->dests);
	TAILQ_INIT(&pool->idle);
	TAILQ_INIT(&pool->waiters);
	return pool;
}

static void conn_destroy(struct relay_conn *c)
{
	smtp_client_free(&c->client);
	if (c->idle_timer != NULL)
		event_free(c->idle_timer);
	free(c);
}

void relay_pool_free(struct relay_pool **poolp)
{
	struct relay_pool *pool = *poolp;
	struct relay_dest *d;

	if (pool == NULL)
		return;
	for (size_t i = 0; i < pool->nall; i++)
		conn_destroy(pool->all[i]);
	free(pool->all);
	while ((d = TAILQ_FIRST(&pool->dests)) != NULL) {
		TAILQ_REMOVE(&pool->dests, d, entry);
		free(d);
	}
	free(pool);
	*poolp = NULL;
}

/* The destination j's batch goes to: the smart host takes everything. */
static struct relay_dest *dest_get(struct relay_pool *pool,
				   const struct relay_job *j)
{
	char key[sizeof(((struct relay_dest *)0)->key)];
	struct relay_dest *d;
	size_t i;

	if (j->ctx->smarthost != NULL) {
		strlcpy_p(key, "[smarthost]", sizeof(key));
	} else {
		for (i = 0; j->domain[i] != '\0' && i + 1 < sizeof(key); i++)
			key[i] = (char)(j->domain[i] >= 'A' &&
							j->domain[i] <= 'Z'
						? j->domain[i] - 'A' + 'a'
						: j->domain[i]);
		key[i] = '\0';
	}
	TAILQ_FOREACH(d, &pool->dests, entry)
	{
		if (strcmp(d->key, key) == 0)
			return d;
	}
	d = xcalloc(1, sizeof(*d));
	strlcpy_p(d->key, key, sizeof(d->key));
	TAILQ_INIT(&d->waiters);
	TAILQ_INSERT_TAIL(&pool->dests, d, entry);
	return d;
}

static void dest_maybe_free(struct relay_pool *pool, struct relay_dest *d)
{
	if (d->nconns == 0 && d->nwaiters == 0) {
		TAILQ_REMOVE(&pool->dests, d, entry);
		free(d);
	}
}

static void idle_leave(struct relay_pool *pool, struct relay_conn *c)
{
	if (!c->idle)
		return;
	TAILQ_REMOVE(&pool->idle, c, idle_entry);
	evtimer_del(c->idle_timer);
	c->idle = false;
}

/* Close a session nobody uses; its slot comes back once it is gone. */
static void conn_retire(struct relay_pool *pool, struct relay_conn *c)
{
	idle_leave(pool, c);
	c->owner = NULL;
	if (c->client != NULL)
		smtp_client_quit(c->client);
}

static void on_idle_timer(evutil_socket_t fd, short what, void *arg)
{
	struct relay_conn *c = arg;

	(void)fd;
	(void)what;
	conn_retire(c->pool, c);
}

static struct relay_conn *conn_new(struct relay_pool *pool,
				   struct relay_dest *d)
{
	struct relay_conn *c = xcalloc(1, sizeof(*c));

	c->pool = pool;
	c->dest = d;
	c->idle_timer = evtimer_new(pool->base, on_idle_timer, c);
	if (c->idle_timer == NULL)
		fatal("cannot create the relay idle timer");
	if (pool->nall == pool->all_cap) {
		pool->all_cap = pool->all_cap == 0 ? 16 : 2 * pool->all_cap;
		pool->all =
			xrealloc(pool->all, pool->all_cap * sizeof(*pool->all));
	}
	pool->all[pool->nall++] = c;
	d->nconns++;
	pool->total++;
	return c;
}

static void wait_on(struct relay_pool *pool, struct relay_dest *d,
		    struct relay_job *j)
{
	if (d->nconns > 0) {
		j->waiting = d;
		TAILQ_INSERT_TAIL(&d->waiters, j, wait_entry);
		d->nwaiters++;
	} else {
		j->waiting_global = true;
		TAILQ_INSERT_TAIL(&pool->waiters, j, wait_entry);
		dest_maybe_free(pool, d); /* nothing of d's is left */
	}
}

static void unwait(struct relay_pool *pool, struct relay_job *j)
{
	if (j->waiting != NULL) {
		TAILQ_REMOVE(&j->waiting->waiters, j, wait_entry);
		j->waiting->nwaiters--;
		j->waiting = NULL;
	} else if (j->waiting_global) {
		TAILQ_REMOVE(&pool->waiters, j, wait_entry);
		j->waiting_global = false;
	}
}

/* Give c's session to j, whose message goes at once. */
static void conn_give(struct relay_conn *c, struct relay_job *j)
{
	idle_leave(c->pool, c);
	c->owner = j;
	c->reused = true;
	j->conn = c;
	log_debug(j->id, "relay reuses a session", "dest=%s messages=%lu",
		  c->dest->key, c->count);
	relay_send(j);
}

/* Open one more session to d only when the busy ones have a queue. */
static bool dest_may_open(const struct relay_pool *pool,
			  const struct relay_dest *d)
{
	if (d->nconns >= pool->max_per_dest)
		return false;
	return d->nconns == 0 ||
	       d->nwaiters >= (size_t)RELAY_WAITERS_PER_CONN * d->nconns;
}

void relay_pool_acquire(struct relay_job *j)
{
	struct relay_pool *pool = j->ctx->pool;
	struct relay_dest *d = dest_get(pool, j);
	struct relay_conn *c, *oldest;

	TAILQ_FOREACH(c, &pool->idle, idle_entry)
	{
		if (c->dest == d) {
			conn_give(c, j);
			return;
		}
	}
	if (!dest_may_open(pool, d)) {
		wait_on(pool, d, j);
		return;
	}
	if (pool->total >= pool->max_total) {
		/* The oldest idle session makes room, once it has quit. */
		oldest = TAILQ_FIRST(&pool->idle);
		if (oldest != NULL)
			conn_retire(pool, oldest);
		wait_on(pool, d, j);
		return;
	}
	c = conn_new(pool, d);
	c->owner = j;
	j->conn = c;
	relay_open(j);
}

/* A slot came back: one message waiting for its destination, then one
 * waiting for the total, may go on. */
static void wake(struct relay_pool *pool, struct relay_dest *d)
{
	struct relay_job *w;

	if (d != NULL && (w = TAILQ_FIRST(&d->waiters)) != NULL) {
		unwait(pool, w);
		relay_pool_acquire(w);
	}
	if (pool->total < pool->max_total &&
	    (w = TAILQ_FIRST(&pool->waiters)) != NULL) {
		unwait(pool, w);
		relay_pool_acquire(w);
	}
}

/* The slot of c is free again (its connection is gone). */
static void conn_end(struct relay_pool *pool, struct relay_conn *c)
{
	struct relay_dest *d = c->dest;

	idle_leave(pool, c);
	for (size_t i = 0; i < pool->nall; i++) {
		if (pool->all[i] == c) {
			pool->all[i] = pool->all[--pool->nall];
			break;
		}
	}
	d->nconns--;
	pool->total--;
	conn_destroy(c);
	if (d->nwaiters == 0) {
		dest_maybe_free(pool, d);
		d = NULL;
	}
	wake(pool, d);
}

void relay_pool_conn_closed(struct relay_conn *c)
{
	conn_end(c->pool, c);
}

void relay_pool_release(struct relay_job *j)
{
	struct relay_conn *c = j->conn;
	struct relay_pool *pool = c->pool;
	struct timeval idle_tv = {RELAY_IDLE_SECONDS, 0};
	struct relay_job *w;

	j->conn = NULL;
	c->owner = NULL;
	c->reused = false;
	c->count++;
	if (c->client == NULL || !smtp_client_idle(c->client))
		return; /* closing: closed() ends the slot */
	/* RFC 5321 4.1.1.5: a cached session is checked by RSET before it
	 * carries the next message (and a dead one shows at once). */
	smtp_client_rset_next(c->client);
	w = TAILQ_FIRST(&c->dest->waiters);
	if (w != NULL) {
		unwait(pool, w);
		conn_give(c, w);
		return;
	}
	if (!TAILQ_EMPTY(&pool->waiters)) {
		conn_retire(pool, c); /* others wait for a slot */
		return;
	}
	c->idle = true;
	TAILQ_INSERT_TAIL(&pool->idle, c, idle_entry);
	evtimer_add(c->idle_timer, &idle_tv);
}

void relay_pool_drop(struct relay_job *j, bool failed)
{
	struct relay_conn *c = j->conn;
	struct relay_pool *pool = c->pool;
	struct relay_dest *d = c->dest;
	size_t n;

	j->conn = NULL;
	c->owner = NULL;
	/*
	 * Every host of the destination failed just now: the messages that
	 * wait for it are deferred with the same reason rather than try it
	 * again one after another (Postfix marks such a site dead). Taken
	 * off the list first: each goes on to its next destination.
	 */
	n = failed ? d->nwaiters : 0;
	while (n-- > 0) { /* c still counts in d: d stays */
		struct relay_job *w = TAILQ_FIRST(&d->waiters);

		unwait(pool, w);
		relay_batch_result(w, false,
				   j->last_error[0] != '\0'
					   ? j->last_error
					   : "4.4.1 no answer from "
					     "any host");
		relay_next_domain(w);
	}
	if (c->client != NULL) {
		conn_retire(pool, c); /* closed() ends the slot */
		return;
	}
	conn_end(pool, c);
}
