/*
 * Work off the event loop: a small fixed pool of threads that runs CPU-
 * heavy jobs (password hashing: ~27 ms of yescrypt per login) so the
 * sessions of a worker do not stall behind them, as Dovecot does with
 * its auth-worker processes.
 *
 * A job is work(arg), run on a pool thread, then done(arg), run later on
 * the event loop of the pool (completion is signalled through an eventfd
 * registered on the event_base), then release(arg), also on the loop.
 * The owner may cancel a job at any time before done runs: done is then
 * never called, and release still runs once no thread touches arg any
 * more (at once when the job had not started).
 *
 * Threads are started at the first submit, so a pool made before fork()
 * would still hold none; make it inside the worker process anyway (the
 * eventfd and the event belong to one process).
 *
 * SECURITY: work runs concurrently with the loop and with other jobs: it
 * may touch only what arg owns (no SQLite handle, no log line, no session
 * field). The queue is bounded: a full queue refuses the job, so a
 * flood of logins costs a temporary error, not memory.
 */
#ifndef NET_OFFLOAD_H
#define NET_OFFLOAD_H

#include <stddef.h>

struct event_base;
struct offload;
struct offload_job;

typedef void offload_fn(void *arg);

/* Threads of a pool by default: 2, or fewer on a machine with fewer CPUs
 * (each front worker already has a CPU of its own). */
#define OFFLOAD_THREADS_DEFAULT 2
/* Jobs waiting for a thread, at most, by default (~3.5 s of logins). */
#define OFFLOAD_QUEUE_DEFAULT 256

/* OFFLOAD_THREADS_DEFAULT, capped at the number of online CPUs, >= 1. */
unsigned offload_threads_default(void);

/*
 * A pool of `threads` (>= 1) threads delivering completions on base, with
 * at most queue_max (>= 1) jobs waiting for a thread. No thread starts before
 * the first offload_submit(). The caller owns the pool; fatal() when the
 * eventfd cannot be made.
 */
struct offload *offload_new(struct event_base *base, unsigned threads,
			    size_t queue_max);

/*
 * Stop the pool: running jobs finish (this waits for them), the threads
 * are joined, and every job not yet completed is dropped: its done is
 * not called, its release is. Handles still held become invalid. Accepts
 * NULL; sets *op to NULL. Call on the loop thread, outside a done.
 */
void offload_free(struct offload **op);

/*
 * Queue work(arg) (not NULL); done(arg) and release(arg) may be NULL.
 * Returns the job's handle, valid until done is called (the owner
 * forgets it there) or offload_cancel(); NULL when queue_max jobs
 * already wait or no thread could be started: nothing was queued and
 * nothing will be called, arg is still the caller's. Loop thread only.
 */
struct offload_job *offload_submit(struct offload *o, offload_fn *work,
				   offload_fn *done, offload_fn *release,
				   void *arg)
	__attribute__((warn_unused_result));

/*
 * Cancel the job *jobp (accepts NULL *jobp; sets it to NULL): done will
 * not be called. A job not started is dropped and released here; a
 * running or completed one is released from the loop once its thread is
 * done with it. Never call it for a job whose done already ran. Loop
 * thread only.
 */
void offload_cancel(struct offload_job **jobp);

/* Jobs submitted and not yet released (queued, running, or completed
 * and waiting for the loop), for tests and statistics. */
size_t offload_count(const struct offload *o);

/*
 * The process's own pool, for code that has no pool handed to it (the
 * protocol sessions). offload_default_init() makes it on base, with
 * offload_threads_default() threads (started lazily) and
 * OFFLOAD_QUEUE_DEFAULT; call it in the worker, after fork.
 * offload_default() is NULL before (unit tests, tools): callers then do
 * the work inline. offload_default_free() frees it (offload_free).
 */
void offload_default_init(struct event_base *base);
struct offload *offload_default(void);
void offload_default_free(void);

#endif
