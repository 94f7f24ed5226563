/*
 * net/connect: outbound connects on loopback: success, refusal, the
 * deadline, cancel, a source address, and that the result never comes
 * synchronously.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "net/connect.h"

struct result {
	struct event_base *base;
	const struct sockaddr_storage *source;
	bool called;
	int fd;
	int error;
};

static void on_connect(void *arg, int fd, int error)
{
	struct result *r = arg;

	assert_false(r->called);
	r->called = true;
	r->fd = fd;
	r->error = error;
	event_base_loopexit(r->base, NULL);
}

/* A listener on 127.0.0.1 with backlog; returns its fd, *port_r. */
static int listener(int backlog, int *port_r)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port_r = ntohs(sa.sin_port);
	return fd;
}

static struct sockaddr_storage loopback4(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sa = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa->sin_port = htons(9); /* ignored */
	return ss;
}

/* Start (from source, NULL: any), check nothing came synchronously, run
 * the loop. */
static void run_from(struct result *r, const struct sockaddr_storage *ss,
		     const struct sockaddr_storage *source, int port,
		     int timeout_ms)
{
	struct net_connect *c;

	memset(r, 0, sizeof(*r));
	r->source = source;
	r->base = event_base_new();
	assert_non_null(r->base);
	c = net_connect_start(r->base, ss, r->source, port, timeout_ms,
			      on_connect, r);
	assert_non_null(c);
	assert_false(r->called);
	event_base_dispatch(r->base);
	assert_true(r->called);
	event_base_free(r->base);
}

static void run(struct result *r, const struct sockaddr_storage *ss, int port,
		int timeout_ms)
{
	run_from(r, ss, NULL, port, timeout_ms);
}

static struct sockaddr_storage ipv4(const char *text, int port)
{
	struct sockaddr_storage ss = loopback4();
	struct sockaddr_in *sa = (struct sockaddr_in *)&ss;

	assert_int_equal(inet_pton(AF_INET, text, &sa->sin_addr), 1);
	sa->sin_port = htons((uint16_t)port);
	return ss;
}

/* Address text and port of fd's own end (local) or the peer's. */
static int endpoint(int fd, bool local, char *buf, size_t size)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	assert_int_equal(local ? getsockname(fd, (struct sockaddr *)&sa, &len)
			       : getpeername(fd, (struct sockaddr *)&sa, &len),
			 0);
	assert_non_null(inet_ntop(AF_INET, &sa.sin_addr, buf, (socklen_t)size));
	return ntohs(sa.sin_port);
}

static void test_connect_ok(void **state)
{
	struct sockaddr_storage ss = loopback4();
	struct result r;
	int port, lfd = listener(8, &port), one = 0, afd;
	socklen_t len = sizeof(one);

	(void)state;
	run(&r, &ss, port, 1000);
	assert_int_equal(r.error, 0);
	assert_true(r.fd >= 0);
	assert_true(fcntl(r.fd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(r.fd, F_GETFL) & O_NONBLOCK);
	assert_int_equal(getsockopt(r.fd, IPPROTO_TCP, TCP_NODELAY, &one, &len),
			 0);
	assert_true(one != 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_int_equal(write(r.fd, "x", 1), 1);
	close(afd);
	close(r.fd);
	close(lfd);
}

static void test_connect_refused(void **state)
{
	struct sockaddr_storage ss = loopback4();
	struct result r;
	int port, lfd = listener(1, &port);

	(void)state;
	close(lfd); /* nobody listens there now */
	run(&r, &ss, port, 1000);
	assert_int_equal(r.fd, -1);
	assert_int_equal(r.error, ECONNREFUSED);
}

static void test_connect_timeout(void **state)
{
	struct sockaddr_storage ss = loopback4();
	struct sockaddr_in sa;
	struct timeval t0, t1;
	struct result r;
	int port, lfd = listener(0, &port), fill[4];
	long ms;

	(void)state;
	/* A full accept queue drops further SYNs: the connect hangs. */
	memcpy(&sa, &ss, sizeof(sa));
	sa.sin_port = htons((uint16_t)port);
	for (int i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		(void)connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	usleep(50000);
	gettimeofday(&t0, NULL);
	run(&r, &ss, port, 150);
	gettimeofday(&t1, NULL);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_usec - t0.tv_usec) / 1000;
	assert_int_equal(r.fd, -1);
	assert_int_equal(r.error, ETIMEDOUT);
	assert_true(ms >= 140 && ms < 1000);
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	close(lfd);
}

static void test_connect_family(void **state)
{
	struct sockaddr_storage ss;
	struct result r;

	(void)state;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	run(&r, &ss, 25, 1000);
	assert_int_equal(r.fd, -1);
	assert_int_equal(r.error, EAFNOSUPPORT);
}

static void stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopexit(arg, NULL);
}

static void test_connect_cancel(void **state)
{
	struct sockaddr_storage ss = loopback4();
	struct timeval tv = {0, 50000};
	struct result r = {0};
	struct net_connect *c;
	struct event *ev;
	int port, lfd = listener(8, &port);

	(void)state;
	r.base = event_base_new();
	c = net_connect_start(r.base, &ss, NULL, port, 1000, on_connect, &r);
	net_connect_cancel(&c);
	assert_null(c);
	net_connect_cancel(&c);
	net_connect_cancel(NULL);
	ev = evtimer_new(r.base, stop, r.base);
	evtimer_add(ev, &tv);
	event_base_dispatch(r.base);
	assert_false(r.called);
	event_free(ev);
	event_base_free(r.base);
	close(lfd);
}

static void test_connect_ipv6(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&ss;
	socklen_t len = sizeof(*sa);
	struct result r;
	int lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)state;
	memset(&ss, 0, sizeof(ss));
	sa->sin6_family = AF_INET6;
	sa->sin6_addr = in6addr_loopback;
	if (lfd < 0 || bind(lfd, (struct sockaddr *)sa, len) != 0) {
		if (lfd >= 0)
			close(lfd);
		skip(); /* no IPv6 loopback here */
	}
	assert_int_equal(listen(lfd, 8), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)sa, &len), 0);
	run(&r, &ss, ntohs(sa->sin6_port), 1000);
	assert_int_equal(r.error, 0);
	close(r.fd);
	/* From ::1 as the source, too (its port is ignored). */
	run_from(&r, &ss, &ss, ntohs(sa->sin6_port), 1000);
	assert_int_equal(r.error, 0);
	close(r.fd);
	close(lfd);
}

/* A source address: the server sees it (all of 127/8 is this host's). */
static void test_connect_source(void **state)
{
	struct sockaddr_storage ss = loopback4();
	/* Its port is not ours to pick: the kernel chooses one. */
	struct sockaddr_storage src = ipv4("127.0.0.2", 9);
	struct result r;
	int port, lfd = listener(8, &port), afd, peer_port;
	char text[INET_ADDRSTRLEN];

	(void)state;
	run_from(&r, &ss, &src, port, 1000);
	assert_int_equal(r.error, 0);
	assert_true(r.fd >= 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	peer_port = endpoint(afd, false, text, sizeof(text));
	assert_string_equal(text, "127.0.0.2");
	assert_int_not_equal(peer_port, 9);
	assert_int_equal(endpoint(r.fd, true, text, sizeof(text)), peer_port);
	assert_string_equal(text, "127.0.0.2");
	close(afd);
	close(r.fd);
	close(lfd);
}

/* Without a source the kernel picks 127.0.0.1 for 127.0.0.1: the test
 * above can tell the two apart. */
static void test_connect_no_source(void **state)
{
	struct sockaddr_storage ss = loopback4();
	struct result r;
	int port, lfd = listener(8, &port), afd;
	char text[INET_ADDRSTRLEN];

	(void)state;
	run(&r, &ss, port, 1000);
	assert_int_equal(r.error, 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	(void)endpoint(afd, false, text, sizeof(text));
	assert_string_equal(text, "127.0.0.1");
	close(afd);
	close(r.fd);
	close(lfd);
}

/* Not an address of this host (TEST-NET-1, RFC 5737): bind() fails, and
 * the errno comes through the callback, from the loop. */
static void test_connect_source_unavailable(void **state)
{
	struct sockaddr_storage ss = loopback4();
	struct sockaddr_storage src = ipv4("192.0.2.1", 0);
	struct result r;
	int port, lfd = listener(8, &port);

	(void)state;
	run_from(&r, &ss, &src, port, 1000);
	assert_int_equal(r.fd, -1);
	assert_int_equal(r.error, EADDRNOTAVAIL);
	close(lfd);
}

/* A source of the other family is the caller's mistake: EAFNOSUPPORT. */
static void test_connect_source_family(void **state)
{
	struct sockaddr_storage ss = loopback4(), src;
	struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&src;
	struct result r;
	int port, lfd = listener(8, &port);

	(void)state;
	memset(&src, 0, sizeof(src));
	sa->sin6_family = AF_INET6;
	sa->sin6_addr = in6addr_loopback;
	run_from(&r, &ss, &src, port, 1000);
	assert_int_equal(r.fd, -1);
	assert_int_equal(r.error, EAFNOSUPPORT);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_ok),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_connect_timeout),
		cmocka_unit_test(test_connect_family),
		cmocka_unit_test(test_connect_cancel),
		cmocka_unit_test(test_connect_ipv6),
		cmocka_unit_test(test_connect_source),
		cmocka_unit_test(test_connect_no_source),
		cmocka_unit_test(test_connect_source_unavailable),
		cmocka_unit_test(test_connect_source_family),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
