/*
 * dns/resolver against a real DNS server: unbound(8) on loopback at a
 * free port (tests/dns/testserver.c) serving the zones below, and the
 * resolver forwarding to it. MX order and shuffle, implicit and null MX,
 * NXDOMAIN and NODATA, addresses, TXT, TLSA, PTR, invalid requests,
 * cancel and free with queries outstanding, timeout, DNSSEC failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../dns/testserver.h"
#include "dns/resolver.h"
#include "lib/mem.h"

static const char zone[] =
	"local-zone: \"example.test.\" static\n"
	"local-data: \"example.test. SOA ns.test. host.test. 1 3600 600 "
	"86400 60\"\n"
	"local-data: \"example.test. MX 10 mx1.example.test.\"\n"
	"local-data: \"example.test. MX 10 mx2.example.test.\"\n"
	"local-data: \"example.test. MX 20 mx3.example.test.\"\n"
	"local-data: \"mx1.example.test. A 127.0.0.11\"\n"
	"local-data: \"mx2.example.test. A 127.0.0.12\"\n"
	"local-data: \"mx3.example.test. A 127.0.0.13\"\n"
	"local-data: \"_25._tcp.mx1.example.test. TLSA 3 1 1 "
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"\n"
	"local-zone: \"implicit.test.\" static\n"
	"local-data: \"implicit.test. A 127.0.0.3\"\n"
	"local-data: \"implicit.test. AAAA ::3\"\n"
	"local-zone: \"nomail.test.\" static\n"
	"local-data: 'nomail.test. TXT \"no mail here\"'\n"
	"local-zone: \"nullmx.test.\" static\n"
	"local-data: \"nullmx.test. MX 0 .\"\n"
	"local-data: \"nullmx.test. A 127.0.0.4\"\n"
	"local-zone: \"mixed.test.\" static\n"
	"local-data: \"mixed.test. MX 0 .\"\n"
	"local-data: \"mixed.test. MX 10 mx.mixed.test.\"\n"
	"local-zone: \"txt.test.\" static\n"
	"local-data: 'txt.test. TXT \"v=spf1 \" \"ip4:192.0.2.0/24 \" "
	"\"-all\"'\n"
	"local-data: 'txt.test. TXT \"hello\"'\n"
	"local-zone: \"refused.test.\" refuse\n"
	"local-zone: \"127.in-addr.arpa.\" static\n"
	"local-data-ptr: \"127.0.0.7 host7.test\"\n";

static struct dns_testserver server;
static struct event_base *base;
static struct dns_resolver *res;

/* ---- plumbing ---- */

static int group_setup(void **state)
{
	const char *error;

	if (dns_testserver_start(&server, zone, &error) != 0) {
		fprintf(stderr, "dns test server: %s\n", error);
		dns_testserver_stop(&server);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	dns_testserver_stop(&server);
	return 0;
}

static struct dns_resolver *resolver_at(const char *forward, const char *ta,
					int timeout_ms)
{
	struct dns_config cfg = {forward, ta, timeout_ms};
	const char *error = NULL;
	struct dns_resolver *r = dns_resolver_new(base, &cfg, &error);

	if (r == NULL)
		fail_msg("dns_resolver_new: %s", error);
	return r;
}

static int setup(void **state)
{
	base = event_base_new();
	assert_non_null(base);
	res = resolver_at(server.forward, NULL, 3000);
	return 0;
}

static int teardown(void **state)
{
	dns_resolver_free(&res);
	assert_null(res);
	event_base_free(base);
	base = NULL;
	return 0;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	*(bool *)arg = true;
	event_base_loopbreak(base);
}

/* Run the loop until *pending is 0 or ms pass. Returns the ms waited. */
static long run_until(const int *pending, int ms)
{
	bool expired = false;
	struct event *ev = evtimer_new(base, on_deadline, &expired);
	struct timeval tv = {ms / 1000, (suseconds_t)(ms % 1000) * 1000};
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	evtimer_add(ev, &tv);
	while (*pending > 0 && !expired)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(ev);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0.tv_sec) * 1000 +
	       (t1.tv_nsec - t0.tv_nsec) / 1000000;
}

/* What a callback saw. */
struct answer {
	int calls;
	int *pending;
	enum dns_status st;
	size_t n;
	bool secure;
	struct dns_mx_host mx[8];
	struct sockaddr_storage addr[8];
	char str[8][128];
	struct dns_tlsa tlsa;
	unsigned char tlsa_data[64];
};

static void answer_done(struct answer *a, enum dns_status st, size_t n,
			bool secure)
{
	a->calls++;
	a->st = st;
	a->n = n;
	a->secure = secure;
	if (a->pending != NULL)
		(*a->pending)--;
}

static void on_mx(void *arg, enum dns_status st,
		  const struct dns_mx_host *hosts, size_t n, bool secure)
{
	struct answer *a = arg;

	for (size_t i = 0; i < n && i < 8; i++)
		a->mx[i] = hosts[i];
	answer_done(a, st, n, secure);
}

static void on_addr(void *arg, enum dns_status st,
		    const struct sockaddr_storage *addrs, size_t n, bool secure)
{
	struct answer *a = arg;

	for (size_t i = 0; i < n && i < 8; i++)
		a->addr[i] = addrs[i];
	answer_done(a, st, n, secure);
}

static void on_strings(void *arg, enum dns_status st, char **strs, size_t n,
		       bool secure)
{
	struct answer *a = arg;

	for (size_t i = 0; i < n && i < 8; i++)
		strlcpy_p(a->str[i], strs[i], sizeof(a->str[i]));
	answer_done(a, st, n, secure);
}

static void on_tlsa(void *arg, enum dns_status st, const struct dns_tlsa *recs,
		    size_t n, bool secure)
{
	struct answer *a = arg;

	if (n > 0) {
		a->tlsa = recs[0];
		if (recs[0].len <= sizeof(a->tlsa_data))
			memcpy(a->tlsa_data, recs[0].data, recs[0].len);
		a->tlsa.data = NULL;
	}
	answer_done(a, st, n, secure);
}

/* One MX query, waited for; checks the callback is never synchronous. */
static void mx(const char *domain, struct answer *a)
{
	int pending = 1;

	memset(a, 0, sizeof(*a));
	a->pending = &pending;
	assert_non_null(dns_resolve_mx(res, domain, on_mx, a));
	assert_int_equal(a->calls, 0);
	run_until(&pending, 4000);
	assert_int_equal(a->calls, 1);
}

static void addr(const char *host, int family, struct answer *a)
{
	int pending = 1;

	memset(a, 0, sizeof(*a));
	a->pending = &pending;
	assert_non_null(dns_resolve_addr(res, host, family, on_addr, a));
	assert_int_equal(a->calls, 0);
	run_until(&pending, 4000);
	assert_int_equal(a->calls, 1);
}

static void assert_addr(const struct sockaddr_storage *ss, const char *ip)
{
	char buf[INET6_ADDRSTRLEN];
	const void *src =
		ss->ss_family == AF_INET6
			? (const void *)&((const struct sockaddr_in6 *)ss)
				  ->sin6_addr
			: (const void *)&((const struct sockaddr_in *)ss)
				  ->sin_addr;

	assert_non_null(inet_ntop(ss->ss_family, src, buf, sizeof(buf)));
	assert_string_equal(buf, ip);
	if (ss->ss_family == AF_INET6)
		assert_int_equal(((const struct sockaddr_in6 *)ss)->sin6_port,
				 0);
	else
		assert_int_equal(((const struct sockaddr_in *)ss)->sin_port, 0);
}

/* ---- MX ---- */

/* RFC 5321 5.1: by preference; equal preferences in random order. */
static void test_mx_sorted_shuffled(void **state)
{
	int first_mx1 = 0, first_mx2 = 0;

	for (int i = 0; i < 40; i++) {
		struct answer a;

		mx("example.test", &a);
		assert_int_equal(a.st, DNS_OK);
		assert_int_equal(a.n, 3);
		assert_false(a.secure);
		assert_int_equal(a.mx[0].preference, 10);
		assert_int_equal(a.mx[1].preference, 10);
		assert_int_equal(a.mx[2].preference, 20);
		assert_string_equal(a.mx[2].name, "mx3.example.test");
		assert_string_not_equal(a.mx[0].name, a.mx[1].name);
		for (int j = 0; j < 3; j++)
			assert_false(a.mx[j].implicit);
		if (strcmp(a.mx[0].name, "mx1.example.test") == 0)
			first_mx1++;
		else if (strcmp(a.mx[0].name, "mx2.example.test") == 0)
			first_mx2++;
		else
			fail_msg("unexpected first MX %s", a.mx[0].name);
	}
	/* Each order has probability 2^-40 of never showing. */
	assert_true(first_mx1 > 0);
	assert_true(first_mx2 > 0);
}

static void test_mx_final_dot(void **state)
{
	struct answer a;

	mx("example.test.", &a);
	assert_int_equal(a.st, DNS_OK);
	assert_int_equal(a.n, 3);
}

/* RFC 5321 5.1: no MX, the domain itself with preference 0. */
static void test_mx_implicit(void **state)
{
	struct answer a;

	mx("implicit.test", &a);
	assert_int_equal(a.st, DNS_OK);
	assert_int_equal(a.n, 1);
	assert_string_equal(a.mx[0].name, "implicit.test");
	assert_int_equal(a.mx[0].preference, 0);
	assert_true(a.mx[0].implicit);
	assert_false(a.secure);
}

/* No MX and no address: no implicit MX either. */
static void test_mx_nodata(void **state)
{
	struct answer a;

	mx("nomail.test", &a);
	assert_int_equal(a.st, DNS_NODATA);
	assert_int_equal(a.n, 0);
}

/* RFC 7505: "MX 0 ." is a permanent failure, even with an A record. */
static void test_mx_null(void **state)
{
	struct answer a;

	mx("nullmx.test", &a);
	assert_int_equal(a.st, DNS_NULL_MX);
	assert_int_equal(a.n, 0);
}

/* A null MX beside other MX records (RFC 7505 3 forbids it): skipped. */
static void test_mx_null_among_others(void **state)
{
	struct answer a;

	mx("mixed.test", &a);
	assert_int_equal(a.st, DNS_OK);
	assert_int_equal(a.n, 1);
	assert_string_equal(a.mx[0].name, "mx.mixed.test");
	assert_int_equal(a.mx[0].preference, 10);
}

static void test_mx_nxdomain(void **state)
{
	struct answer a;

	mx("nx.test", &a);
	assert_int_equal(a.st, DNS_NXDOMAIN);
	assert_int_equal(a.n, 0);
	mx("deeper.example.test", &a); /* NXDOMAIN inside a zone */
	assert_int_equal(a.st, DNS_NXDOMAIN);
}

static void test_mx_refused_tempfail(void **state)
{
	struct answer a;

	mx("refused.test", &a);
	assert_int_equal(a.st, DNS_TEMPFAIL);
	assert_int_equal(a.n, 0);
}

/* ---- addresses, TXT, TLSA, PTR ---- */

static void test_addr(void **state)
{
	struct answer a;

	addr("implicit.test", AF_UNSPEC, &a);
	assert_int_equal(a.st, DNS_OK);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.addr[0].ss_family, AF_INET6); /* AAAA first */
	assert_addr(&a.addr[0], "::3");
	assert_int_equal(a.addr[1].ss_family, AF_INET);
	assert_addr(&a.addr[1], "127.0.0.3");

	addr("implicit.test", AF_INET, &a);
	assert_int_equal(a.st, DNS_OK);
	assert_int_equal(a.n, 1);
	assert_addr(&a.addr[0], "127.0.0.3");

	addr("implicit.test", AF_INET6, &a);
	assert_int_equal(a.st, DNS_OK);
	assert_int_equal(a.n, 1);
	assert_addr(&a.addr[0], "::3");

	/* Only A: AF_UNSPEC still succeeds. */
	addr("mx1.example.test", AF_UNSPEC, &a);
	assert_int_equal(a.st, DNS_OK);
	assert_int_equal(a.n, 1);
	assert_addr(&a.addr[0], "127.0.0.11");

	addr("nomail.test", AF_UNSPEC, &a);
	assert_int_equal(a.st, DNS_NODATA);
	addr("nx.test", AF_UNSPEC, &a);
	assert_int_equal(a.st, DNS_NXDOMAIN);
	addr("refused.test", AF_INET, &a);
	assert_int_equal(a.st, DNS_TEMPFAIL);
}

/* An address given as a host name (relay.host = "192.0.2.1") needs no
 * DNS: the answer is the address itself, still from the event loop. */
static void test_addr_literal(void **state)
{
	static const struct {
		const char *host;
		int family;
		enum dns_status st;
		const char *want;
	} rows[] = {
		{"127.0.0.9", AF_UNSPEC, DNS_OK, "127.0.0.9"},
		{"[127.0.0.9]", AF_INET, DNS_OK, "127.0.0.9"},
		{"::9", AF_UNSPEC, DNS_OK, "::9"},
		{"[::9]", AF_INET6, DNS_OK, "::9"},
		{"127.0.0.9", AF_INET6, DNS_NODATA, NULL},
		{"[::9]", AF_INET, DNS_NODATA, NULL},
	};
	struct answer a;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		addr(rows[i].host, rows[i].family, &a);
		assert_int_equal(a.st, rows[i].st);
		assert_false(a.secure);
		if (rows[i].want != NULL) {
			assert_int_equal(a.n, 1);
			assert_addr(&a.addr[0], rows[i].want);
		}
	}
	/* Half a literal is a name, and not a valid one. */
	assert_null(
		dns_resolve_addr(res, "[127.0.0.9", AF_UNSPEC, on_addr, &a));
}

/* RFC 7208 3.3: the strings of one record are joined. */
static void test_txt(void **state)
{
	struct answer a;
	int pending = 1;
	bool spf = false, hello = false;

	memset(&a, 0, sizeof(a));
	a.pending = &pending;
	assert_non_null(dns_resolve_txt(res, "txt.test", on_strings, &a));
	run_until(&pending, 4000);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.st, DNS_OK);
	assert_int_equal(a.n, 2);
	for (size_t i = 0; i < a.n; i++) {
		spf |= strcmp(a.str[i], "v=spf1 ip4:192.0.2.0/24 -all") == 0;
		hello |= strcmp(a.str[i], "hello") == 0;
	}
	assert_true(spf);
	assert_true(hello);

	memset(&a, 0, sizeof(a));
	pending = 1;
	a.pending = &pending;
	assert_non_null(dns_resolve_txt(res, "example.test", on_strings, &a));
	run_until(&pending, 4000);
	assert_int_equal(a.st, DNS_NODATA);
}

static void test_tlsa(void **state)
{
	static const unsigned char want[32] = {
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
	struct answer a;
	int pending = 1;

	memset(&a, 0, sizeof(a));
	a.pending = &pending;
	assert_non_null(
		dns_resolve_tlsa(res, "mx1.example.test", 25, on_tlsa, &a));
	run_until(&pending, 4000);
	assert_int_equal(a.st, DNS_OK);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.tlsa.usage, 3);
	assert_int_equal(a.tlsa.selector, 1);
	assert_int_equal(a.tlsa.mtype, 1);
	assert_int_equal(a.tlsa.len, 32);
	assert_memory_equal(a.tlsa_data, want, 32);
	assert_null(dns_resolve_tlsa(res, "mx1.example.test", 0, on_tlsa, &a));
	assert_null(
		dns_resolve_tlsa(res, "mx1.example.test", 65536, on_tlsa, &a));
}

static void test_ptr(void **state)
{
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	struct answer a;
	int pending = 2;

	inet_pton(AF_INET, "127.0.0.7", &s4.sin_addr);
	inet_pton(AF_INET6, "::ffff:127.0.0.7", &s6.sin6_addr);
	memset(&a, 0, sizeof(a));
	a.pending = &pending;
	assert_non_null(
		dns_resolve_ptr(res, (struct sockaddr *)&s4, on_strings, &a));
	assert_non_null(
		dns_resolve_ptr(res, (struct sockaddr *)&s6, on_strings, &a));
	run_until(&pending, 4000);
	assert_int_equal(a.calls, 2);
	assert_int_equal(a.st, DNS_OK);
	assert_int_equal(a.n, 1);
	assert_string_equal(a.str[0], "host7.test");
}

/* ---- requests refused, cancel, free ---- */

static void test_invalid_requests(void **state)
{
	char name[300];
	struct answer a = {0};
	struct dns_query *q;
	struct sockaddr sa = {.sa_family = AF_UNIX};

	/* 4 labels of 63 + 3 dots = 255 > 253; then exactly 253. */
	memset(name, 'a', sizeof(name));
	name[63] = name[127] = name[191] = '.';
	name[255] = '\0';
	assert_null(dns_resolve_mx(res, name, on_mx, &a));
	name[253] = '\0';
	q = dns_resolve_mx(res, name, on_mx, &a);
	assert_non_null(q);
	dns_query_cancel(&q);
	assert_null(q);
	name[64] = '\0'; /* a label of 64 */
	memset(name, 'b', 64);
	assert_null(dns_resolve_mx(res, name, on_mx, &a));
	assert_null(dns_resolve_mx(res, "", on_mx, &a));
	assert_null(dns_resolve_mx(res, ".", on_mx, &a));
	assert_null(dns_resolve_mx(res, "a..test", on_mx, &a));
	assert_null(dns_resolve_mx(res, "exa mple.test", on_mx, &a));
	assert_null(dns_resolve_mx(res, "example.test\n", on_mx, &a));
	assert_null(dns_resolve_txt(res, "x.test;", on_strings, &a));
	assert_null(
		dns_resolve_addr(res, "implicit.test", AF_UNIX, on_addr, &a));
	assert_null(dns_resolve_ptr(res, &sa, on_strings, &a));
	run_until(&(int){1}, 50);
	assert_int_equal(a.calls, 0);
}

static void test_cancel(void **state)
{
	struct answer a = {0}, b = {0};
	int pending = 1;
	struct dns_query *q = dns_resolve_mx(res, "example.test", on_mx, &a);

	assert_non_null(q);
	b.pending = &pending;
	assert_non_null(dns_resolve_mx(res, "implicit.test", on_mx, &b));
	dns_query_cancel(&q);
	assert_null(q);
	dns_query_cancel(&q); /* NULL is accepted */
	run_until(&pending, 4000);
	run_until(&(int){1}, 100);
	assert_int_equal(a.calls, 0);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.st, DNS_OK);
}

static void test_free_outstanding(void **state)
{
	struct answer a = {0};

	assert_non_null(dns_resolve_mx(res, "example.test", on_mx, &a));
	assert_non_null(dns_resolve_mx(res, "implicit.test", on_mx, &a));
	assert_non_null(
		dns_resolve_addr(res, "implicit.test", AF_UNSPEC, on_addr, &a));
	assert_non_null(dns_resolve_txt(res, "txt.test", on_strings, &a));
	dns_resolver_free(&res);
	assert_null(res);
	dns_resolver_free(&res); /* NULL is accepted */
	run_until(&(int){1}, 200);
	assert_int_equal(a.calls, 0);
}

/* A callback may free the resolver: the other queries just go away. */
struct free_in_cb {
	int calls;
	int pending;
};

static void on_mx_free(void *arg, enum dns_status st,
		       const struct dns_mx_host *hosts, size_t n, bool secure)
{
	struct free_in_cb *f = arg;

	f->calls++;
	f->pending = 0;
	dns_resolver_free(&res);
}

static void test_free_in_callback(void **state)
{
	struct free_in_cb f = {.pending = 1};

	assert_non_null(dns_resolve_mx(res, "example.test", on_mx_free, &f));
	assert_non_null(dns_resolve_mx(res, "nx.test", on_mx_free, &f));
	assert_non_null(dns_resolve_mx(res, "implicit.test", on_mx_free, &f));
	run_until(&f.pending, 4000);
	run_until(&(int){1}, 100);
	assert_int_equal(f.calls, 1);
	assert_null(res);
}

/* A callback may cancel its own query (a no-op) and start another. */
struct chain {
	struct dns_query *q;
	struct answer next;
	int pending;
};

static void on_mx_chain(void *arg, enum dns_status st,
			const struct dns_mx_host *hosts, size_t n, bool secure)
{
	struct chain *c = arg;

	dns_query_cancel(&c->q);
	c->next.pending = &c->pending;
	assert_non_null(dns_resolve_addr(res, hosts[0].name, AF_INET, on_addr,
					 &c->next));
}

static void test_chain_in_callback(void **state)
{
	struct chain c = {.pending = 1};

	c.q = dns_resolve_mx(res, "mixed.test", on_mx_chain, &c);
	assert_non_null(c.q);
	run_until(&c.pending, 4000);
	assert_null(c.q);
	assert_int_equal(c.next.calls, 1);
	assert_int_equal(c.next.st, DNS_NXDOMAIN); /* no mx.mixed.test */
}

/* ---- timeout, DNSSEC, configuration ---- */

static void test_timeout(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), pending = 1;
	char forward[32];
	struct answer a = {.pending = &pending};
	long ms;

	/* A server that never answers: bound, never read. */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(forward, sizeof(forward), "127.0.0.1@%d", ntohs(sin.sin_port));
	dns_resolver_free(&res);
	res = resolver_at(forward, NULL, 300);
	assert_non_null(dns_resolve_mx(res, "example.test", on_mx, &a));
	ms = run_until(&pending, 3000);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.st, DNS_TEMPFAIL);
	assert_true(ms >= 250 && ms < 1500);
	close(fd);
}

/*
 * With a trust anchor for test. and a server that signs nothing, every
 * answer under test. fails validation.
 */
static void test_bogus(void **state)
{
	char path[] = "/tmp/postern-ta-XXXXXX";
	int fd = mkstemp(path);
	static const char ta[] = "test. 3600 IN DS 12345 8 2 "
				 "0123456789ABCDEF0123456789ABCDEF"
				 "0123456789ABCDEF0123456789ABCDEF\n";
	struct answer a;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, ta, sizeof(ta) - 1),
			 (ssize_t)sizeof(ta) - 1);
	close(fd);
	dns_resolver_free(&res);
	res = resolver_at(server.forward, path, 3000);
	mx("example.test", &a);
	unlink(path);
	assert_int_equal(a.st, DNS_BOGUS);
	assert_int_equal(a.n, 0);
	assert_false(a.secure);
}

static void test_config_errors(void **state)
{
	struct dns_config bad_fwd = {"not an address", NULL, 0};
	struct dns_config bad_ta = {server.forward, "/nonexistent/root.key", 0};
	const char *error = NULL;

	assert_null(dns_resolver_new(base, &bad_fwd, &error));
	assert_non_null(error);
	assert_non_null(strstr(error, "not an address"));
	error = NULL;
	assert_null(dns_resolver_new(base, &bad_ta, &error));
	assert_non_null(error);
	assert_non_null(strstr(error, "/nonexistent/root.key"));
}

static void test_status_str(void **state)
{
	assert_string_equal(dns_status_str(DNS_OK), "ok");
	assert_string_equal(dns_status_str(DNS_NULL_MX), "null-mx");
	assert_string_equal(dns_status_str(DNS_BOGUS), "bogus");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_mx_sorted_shuffled),
		T(test_mx_final_dot),
		T(test_mx_implicit),
		T(test_mx_nodata),
		T(test_mx_null),
		T(test_mx_null_among_others),
		T(test_mx_nxdomain),
		T(test_mx_refused_tempfail),
		T(test_addr),
		T(test_addr_literal),
		T(test_txt),
		T(test_tlsa),
		T(test_ptr),
		T(test_invalid_requests),
		T(test_cancel),
		T(test_free_outstanding),
		T(test_free_in_callback),
		T(test_chain_in_callback),
		T(test_timeout),
		T(test_bogus),
		T(test_config_errors),
		T(test_status_str),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
