/*
 * net/offload: many jobs across threads, done on the loop thread only,
 * cancel before start, while running and after completion was queued,
 * a full queue refusing, and free with jobs outstanding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "net/offload.h"

/* A gate a job's work waits at until the test opens it. */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
	atomic_int waiting; /* works blocked at the gate */
};

static struct gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
			   false, 0};

static void gate_close(void)
{
	pthread_mutex_lock(&gate.lock);
	gate.open = false;
	pthread_mutex_unlock(&gate.lock);
}

static void gate_open(void)
{
	pthread_mutex_lock(&gate.lock);
	gate.open = true;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.lock);
}

/* Wait (up to 5 s) until n works are blocked at the gate. */
static void gate_wait_for(int n)
{
	for (int i = 0; i < 5000 && atomic_load(&gate.waiting) < n; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&gate.waiting), n);
}

struct item {
	pthread_t loop;	   /* the loop thread */
	bool gated;	   /* work waits at the gate */
	int input, output; /* work: output = input * 2 */
	atomic_bool worked;
	bool worked_off_loop;
	int done_calls;
	int *released; /* counter bumped by release */
	int *completed;
};

static void item_work(void *arg)
{
	struct item *it = arg;

	it->worked_off_loop = !pthread_equal(pthread_self(), it->loop);
	if (it->gated) {
		pthread_mutex_lock(&gate.lock);
		atomic_fetch_add(&gate.waiting, 1);
		while (!gate.open)
			pthread_cond_wait(&gate.cond, &gate.lock);
		atomic_fetch_sub(&gate.waiting, 1);
		pthread_mutex_unlock(&gate.lock);
	}
	it->output = it->input * 2;
	atomic_store(&it->worked, true);
}

static void item_done(void *arg)
{
	struct item *it = arg;

	assert_true(pthread_equal(pthread_self(), it->loop));
	assert_true(atomic_load(&it->worked));
	it->done_calls++;
	(*it->completed)++;
}

static void item_release(void *arg)
{
	struct item *it = arg;

	assert_true(pthread_equal(pthread_self(), it->loop));
	(*it->released)++;
}

static struct item *items_new(size_t n, int *released, int *completed)
{
	struct item *v = calloc(n, sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		v[i].loop = pthread_self();
		v[i].input = (int)i;
		v[i].released = released;
		v[i].completed = completed;
	}
	return v;
}

/* Run the loop until *counter reaches want; fail after 5 s. */
static void loop_until(struct event_base *base, const int *counter, int want)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (*counter < want) {
		struct timeval tv = {0, 10000};

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
		clock_gettime(CLOCK_MONOTONIC, &t);
		assert_true(t.tv_sec - t0.tv_sec < 5);
	}
}

static void test_many_jobs(void **state)
{
	enum { N = 500 };
	struct event_base *base = event_base_new();
	struct offload *o = offload_new(base, 3, N);
	int released = 0, completed = 0;
	struct item *v = items_new(N, &released, &completed);
	struct offload_job *jobs[N];
	int off_loop = 0;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		jobs[i] = offload_submit(o, item_work, item_done, item_release,
					 &v[i]);
		assert_non_null(jobs[i]);
	}
	/* never from inside submit: the loop has not run yet */
	assert_int_equal(completed, 0);
	loop_until(base, &released, N);
	assert_int_equal(completed, N);
	assert_int_equal(offload_count(o), 0);
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(v[i].done_calls, 1);
		assert_int_equal(v[i].output, 2 * (int)i);
		off_loop += v[i].worked_off_loop;
	}
	assert_int_equal(off_loop, N);
	offload_free(&o);
	assert_null(o);
	offload_free(&o); /* NULL is fine */
	event_base_free(base);
	free(v);
}

/* Cancelled while work runs: no done, release once the thread is done. */
static void test_cancel_running(void **state)
{
	struct event_base *base = event_base_new();
	struct offload *o = offload_new(base, 1, 4);
	int released = 0, completed = 0;
	struct item *v = items_new(2, &released, &completed);
	struct offload_job *a, *b;

	(void)state;
	gate_close();
	v[0].gated = true;
	a = offload_submit(o, item_work, item_done, item_release, &v[0]);
	b = offload_submit(o, item_work, item_done, item_release, &v[1]);
	assert_non_null(a);
	assert_non_null(b);
	gate_wait_for(1);
	offload_cancel(&a);
	assert_null(a);
	offload_cancel(&a); /* NULL is fine */
	/* arg still in use by the thread: not released yet */
	assert_int_equal(released, 0);
	assert_int_equal(offload_count(o), 2);
	gate_open();
	loop_until(base, &released, 2);
	assert_int_equal(v[0].done_calls, 0);
	assert_true(atomic_load(&v[0].worked));
	assert_int_equal(v[1].done_calls, 1);
	assert_int_equal(completed, 1);
	offload_free(&o);
	event_base_free(base);
	free(v);
}

/* Cancelled before a thread took it: released at once, never run. */
static void test_cancel_queued(void **state)
{
	struct event_base *base = event_base_new();
	struct offload *o = offload_new(base, 1, 4);
	int released = 0, completed = 0;
	struct item *v = items_new(2, &released, &completed);
	struct offload_job *a, *b;

	(void)state;
	gate_close();
	v[0].gated = true;
	a = offload_submit(o, item_work, item_done, item_release, &v[0]);
	gate_wait_for(1);
	b = offload_submit(o, item_work, item_done, item_release, &v[1]);
	offload_cancel(&b);
	assert_int_equal(released, 1);
	gate_open();
	loop_until(base, &released, 2);
	assert_false(atomic_load(&v[1].worked));
	assert_int_equal(v[1].done_calls, 0);
	assert_int_equal(v[0].done_calls, 1);
	(void)a; /* done ran: the handle is dead */
	offload_free(&o);
	event_base_free(base);
	free(v);
}

/* Completed, its done not yet run by the loop: cancel still wins. */
static void test_cancel_after_done_queued(void **state)
{
	struct event_base *base = event_base_new();
	struct offload *o = offload_new(base, 2, 4);
	int released = 0, completed = 0;
	struct item *v = items_new(2, &released, &completed);
	struct offload_job *a, *b;

	(void)state;
	a = offload_submit(o, item_work, item_done, item_release, &v[0]);
	b = offload_submit(o, item_work, item_done, item_release, &v[1]);
	/* both finish; the loop does not run meanwhile */
	for (int i = 0; i < 5000 && !(atomic_load(&v[0].worked) &&
				      atomic_load(&v[1].worked));
	     i++)
		usleep(1000);
	usleep(20000); /* past the move to the completed list */
	offload_cancel(&a);
	assert_int_equal(released, 0);
	loop_until(base, &released, 2);
	assert_int_equal(v[0].done_calls, 0);
	assert_int_equal(v[1].done_calls, 1);
	(void)b;
	offload_free(&o);
	event_base_free(base);
	free(v);
}

/* A done that cancels another job completed in the same batch. */
struct pair {
	struct item it;
	struct offload_job **other;
};

static void pair_done(void *arg)
{
	struct pair *p = arg;

	item_done(&p->it);
	offload_cancel(p->other);
}

static void test_cancel_from_done(void **state)
{
	struct event_base *base = event_base_new();
	struct offload *o = offload_new(base, 1, 4);
	int released = 0, completed = 0;
	struct item *v = items_new(2, &released, &completed);
	struct pair p = {.it = v[0]};
	struct offload_job *a, *b;

	(void)state;
	p.other = &b;
	a = offload_submit(o, item_work, pair_done, item_release, &p);
	b = offload_submit(o, item_work, item_done, item_release, &v[1]);
	for (int i = 0; i < 5000 && !atomic_load(&v[1].worked); i++)
		usleep(1000);
	usleep(20000);
	loop_until(base, &released, 2);
	assert_int_equal(p.it.done_calls, 1);
	assert_int_equal(v[1].done_calls, 0);
	assert_null(b);
	(void)a;
	offload_free(&o);
	event_base_free(base);
	free(v);
}

/* A full queue refuses; a slot frees once a thread takes a job. */
static void test_queue_full(void **state)
{
	struct event_base *base = event_base_new();
	struct offload *o = offload_new(base, 1, 2);
	int released = 0, completed = 0;
	struct item *v = items_new(5, &released, &completed);
	struct offload_job *j[5];

	(void)state;
	gate_close();
	for (int i = 0; i < 5; i++)
		v[i].gated = true;
	j[0] = offload_submit(o, item_work, item_done, item_release, &v[0]);
	assert_non_null(j[0]);
	gate_wait_for(1); /* running: no longer waiting in the queue */
	j[1] = offload_submit(o, item_work, item_done, item_release, &v[1]);
	j[2] = offload_submit(o, item_work, item_done, item_release, &v[2]);
	assert_non_null(j[1]);
	assert_non_null(j[2]);
	j[3] = offload_submit(o, item_work, item_done, item_release, &v[3]);
	assert_null(j[3]);
	assert_int_equal(released, 0); /* refused: nothing is called */
	/* cancelling a waiting job makes room */
	offload_cancel(&j[2]);
	j[3] = offload_submit(o, item_work, item_done, item_release, &v[3]);
	assert_non_null(j[3]);
	gate_open();
	loop_until(base, &released, 4); /* j[2] at cancel, then 0, 1, 3 */
	assert_int_equal(completed, 3);
	assert_int_equal(v[2].done_calls, 0);
	offload_free(&o);
	event_base_free(base);
	free(v);
}

/* free with jobs queued, running and completed: release for all, no done. */
static void test_free_outstanding(void **state)
{
	struct event_base *base = event_base_new();
	struct offload *o = offload_new(base, 1, 8);
	int released = 0, completed = 0;
	struct item *v = items_new(3, &released, &completed);

	(void)state;
	gate_close();
	v[0].gated = true;
	for (int i = 0; i < 3; i++)
		assert_non_null(offload_submit(o, item_work, item_done,
					       item_release, &v[i]));
	gate_wait_for(1);
	gate_open(); /* the running one finishes inside free */
	offload_free(&o);
	assert_int_equal(released, 3);
	assert_int_equal(completed, 0);
	event_base_free(base);
	free(v);
}

static void test_defaults(void **state)
{
	struct event_base *base = event_base_new();
	unsigned n = offload_threads_default();

	(void)state;
	assert_true(n >= 1 && n <= OFFLOAD_THREADS_DEFAULT);
	assert_null(offload_default());
	offload_default_init(base);
	assert_non_null(offload_default());
	offload_default_free();
	assert_null(offload_default());
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_jobs),
		cmocka_unit_test(test_cancel_running),
		cmocka_unit_test(test_cancel_queued),
		cmocka_unit_test(test_cancel_after_done_queued),
		cmocka_unit_test(test_cancel_from_done),
		cmocka_unit_test(test_queue_full),
		cmocka_unit_test(test_free_outstanding),
		cmocka_unit_test(test_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
