/*
 * Thread pool for work off the event loop (net/offload.h).
 *
 * One mutex guards the queue, the completed list and every job's state.
 * A thread takes the oldest queued job, runs it unlocked, moves it to the
 * completed list and adds 1 to the eventfd; the loop drains the eventfd
 * and then the list, calling done (unless cancelled) and release.
 *
 * SECURITY: only the loop thread calls done and release, so an owner's
 * state is never touched from a pool thread; a cancelled job's arg is
 * released only after its thread moved it to the completed list.
 */
#include "net/offload.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mem.h"

enum offload_state {
	OFFLOAD_QUEUED,	 /* in o->queue */
	OFFLOAD_RUNNING, /* a thread runs work */
	OFFLOAD_DONE,	 /* in o->done, for the loop */
};

struct offload_job {
	TAILQ_ENTRY(offload_job) entry;
	struct offload *pool;
	offload_fn *work, *done, *release;
	void *arg;
	enum offload_state state; /* under pool->lock */
	bool cancelled;		  /* under pool->lock */
};

TAILQ_HEAD(offload_list, offload_job);

struct offload {
	struct event_base *base;
	struct event *ev;
	int efd;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* a job was queued, or stop */
	struct offload_list queue, done;
	size_t nqueued, queue_max;
	size_t count; /* submitted, not released (loop thread only) */
	bool stop;
	pthread_t *threads;
	unsigned nthreads, started;
};

static struct offload *offload_process_pool;

unsigned offload_threads_default(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (ncpu < 1)
		return 1;
	return ncpu < OFFLOAD_THREADS_DEFAULT ? (unsigned)ncpu
					      : OFFLOAD_THREADS_DEFAULT;
}

/* Take one completed job off the list; NULL when none. */
static struct offload_job *offload_take_done(struct offload *o,
					     bool *cancelled_r)
{
	struct offload_job *job;

	pthread_mutex_lock(&o->lock);
	job = TAILQ_FIRST(&o->done);
	if (job != NULL) {
		TAILQ_REMOVE(&o->done, job, entry);
		*cancelled_r = job->cancelled;
	}
	pthread_mutex_unlock(&o->lock);
	return job;
}

static void offload_release(struct offload *o, struct offload_job *job)
{
	if (job->release != NULL)
		job->release(job->arg);
	free(job);
	o->count--;
}

static void offload_on_event(evutil_socket_t fd, short what, void *ctx)
{
	struct offload *o = ctx;
	struct offload_job *job;
	uint64_t n;
	bool cancelled;

	(void)what;
	/* Read first: a completion after it writes again, none is lost. */
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN && errno != EINTR)
		fatal("offload: eventfd read: %s", strerror(errno));
	/* One at a time: a done may cancel a job completed behind it. */
	while ((job = offload_take_done(o, &cancelled)) != NULL) {
		if (!cancelled && job->done != NULL)
			job->done(job->arg);
		offload_release(o, job);
	}
}

struct offload *offload_new(struct event_base *base, unsigned threads,
			    size_t queue_max)
{
	struct offload *o = xcalloc(1, sizeof(*o));

	if (threads < 1 || queue_max < 1)
		panic("offload_new: %u threads, queue of %zu", threads,
		      queue_max);
	o->base = base;
	o->nthreads = threads;
	o->queue_max = queue_max;
	o->threads = xcalloc(threads, sizeof(*o->threads));
	TAILQ_INIT(&o->queue);
	TAILQ_INIT(&o->done);
	if (pthread_mutex_init(&o->lock, NULL) != 0 ||
	    pthread_cond_init(&o->wake, NULL) != 0)
		fatal("offload: cannot make a mutex");
	o->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (o->efd < 0)
		fatal("offload: eventfd: %s", strerror(errno));
	o->ev = event_new(base, o->efd, EV_READ | EV_PERSIST, offload_on_event,
			  o);
	if (o->ev == NULL || event_add(o->ev, NULL) < 0)
		fatal("offload: cannot watch the eventfd");
	return o;
}

static void *offload_thread(void *ctx)
{
	struct offload *o = ctx;
	const uint64_t one = 1;

	pthread_mutex_lock(&o->lock);
	for (;;) {
		struct offload_job *job;

		while (!o->stop && TAILQ_EMPTY(&o->queue))
			pthread_cond_wait(&o->wake, &o->lock);
		if (o->stop)
			break;
		job = TAILQ_FIRST(&o->queue);
		TAILQ_REMOVE(&o->queue, job, entry);
		o->nqueued--;
		job->state = OFFLOAD_RUNNING;
		pthread_mutex_unlock(&o->lock);

		job->work(job->arg);

		pthread_mutex_lock(&o->lock);
		job->state = OFFLOAD_DONE;
		TAILQ_INSERT_TAIL(&o->done, job, entry);
		/* The counter only grows; the loop reads it to zero. A full
		 * counter (2^64 - 2) cannot happen, EAGAIN is harmless. */
		(void)!write(o->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&o->lock);
	return NULL;
}

/* Start the threads, with every signal blocked (the loop handles them).
 * Returns how many run. */
static unsigned offload_start(struct offload *o)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (o->started < o->nthreads) {
		int rc = pthread_create(&o->threads[o->started], NULL,
					offload_thread, o);

		if (rc != 0) {
			log_warn(NULL, "cannot start an offload thread",
				 "error=%s running=%u", strerror(rc),
				 o->started);
			break;
		}
		o->started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return o->started;
}

struct offload_job *offload_submit(struct offload *o, offload_fn *work,
				   offload_fn *done, offload_fn *release,
				   void *arg)
{
	struct offload_job *job;

	if (work == NULL)
		panic("offload_submit: no work");
	if (o->started == 0 && offload_start(o) == 0)
		return NULL;
	pthread_mutex_lock(&o->lock);
	if (o->nqueued >= o->queue_max) {
		pthread_mutex_unlock(&o->lock);
		return NULL;
	}
	job = xcalloc(1, sizeof(*job));
	job->pool = o;
	job->work = work;
	job->done = done;
	job->release = release;
	job->arg = arg;
	job->state = OFFLOAD_QUEUED;
	TAILQ_INSERT_TAIL(&o->queue, job, entry);
	o->nqueued++;
	o->count++;
	pthread_cond_signal(&o->wake);
	pthread_mutex_unlock(&o->lock);
	return job;
}

void offload_cancel(struct offload_job **jobp)
{
	struct offload_job *job = *jobp;
	struct offload *o;
	bool queued;

	if (job == NULL)
		return;
	*jobp = NULL;
	o = job->pool;
	pthread_mutex_lock(&o->lock);
	if (job->cancelled)
		panic("offload_cancel: cancelled twice");
	job->cancelled = true;
	queued = job->state == OFFLOAD_QUEUED;
	if (queued) {
		TAILQ_REMOVE(&o->queue, job, entry);
		o->nqueued--;
	}
	pthread_mutex_unlock(&o->lock);
	/* Running or completed: the loop releases it (offload_on_event). */
	if (queued)
		offload_release(o, job);
}

size_t offload_count(const struct offload *o)
{
	return o->count;
}

void offload_free(struct offload **op)
{
	struct offload *o = *op;
	struct offload_job *job;

	if (o == NULL)
		return;
	pthread_mutex_lock(&o->lock);
	o->stop = true;
	pthread_cond_broadcast(&o->wake);
	pthread_mutex_unlock(&o->lock);
	for (unsigned i = 0; i < o->started; i++)
		pthread_join(o->threads[i], NULL);
	/* No thread is left: no lock needed, nothing is called back. */
	while ((job = TAILQ_FIRST(&o->queue)) != NULL) {
		TAILQ_REMOVE(&o->queue, job, entry);
		offload_release(o, job);
	}
	while ((job = TAILQ_FIRST(&o->done)) != NULL) {
		TAILQ_REMOVE(&o->done, job, entry);
		offload_release(o, job);
	}
	event_free(o->ev);
	close(o->efd);
	pthread_cond_destroy(&o->wake);
	pthread_mutex_destroy(&o->lock);
	free(o->threads);
	free(o);
	*op = NULL;
}

void offload_default_init(struct event_base *base)
{
	if (offload_process_pool != NULL)
		panic("offload_default_init: called twice");
	offload_process_pool = offload_new(base, offload_threads_default(),
					   OFFLOAD_QUEUE_DEFAULT);
}

struct offload *offload_default(void)
{
	return offload_process_pool;
}

void offload_default_free(void)
{
	offload_free(&offload_process_pool);
}
