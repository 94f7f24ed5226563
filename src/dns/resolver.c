/*
 * The resolver: one libunbound context in threaded async mode whose
 * result descriptor is watched by the event_base. A query (struct
 * dns_query) makes one or two libunbound lookups (struct dns_sub); the
 * libunbound callback only records the result and activates the query's
 * step event, so no caller code ever runs inside ub_process() and a
 * callback may free the resolver.
 */
#include "dns/resolver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <unbound.h>

#include "dns/rdata.h"
#include "lib/log.h"
#include "lib/mem.h"

/* RR types and class (RFC 1035 3.2.2, RFC 3596, RFC 6698). */
#define RR_A 1
#define RR_PTR 12
#define RR_MX 15
#define RR_TXT 16
#define RR_AAAA 28
#define RR_TLSA 52
#define RR_CLASS_IN 1
#define RCODE_NXDOMAIN 3

enum dns_kind {
	DNS_Q_MX,
	DNS_Q_ADDR,
	DNS_Q_TXT,
	DNS_Q_TLSA,
	DNS_Q_PTR,
};

static const char *const kind_names[] = {"mx", "addr", "txt", "tlsa", "ptr"};

/* One libunbound lookup. */
struct dns_sub {
	TAILQ_ENTRY(dns_sub) entry; /* in the resolver's orphans */
	struct dns_resolver *r;
	struct dns_query *q; /* NULL: an orphan whose cancel failed */
	int async_id;
	bool done;
	int err;
	struct ub_result *res;
};

struct dns_query {
	TAILQ_ENTRY(dns_query) entry;
	struct dns_resolver *r;
	enum dns_kind kind;
	char name[DNS_NAME_BUF + 16];
	struct dns_sub *sub[2];
	size_t nsub;
	bool implicit;	  /* MX: looking up the addresses of the domain */
	bool mx_secure;	  /* MX: the NODATA answer that led there */
	bool in_callback; /* detached; the deliverer frees it */
	bool literal;	  /* ADDR: the name was an address, in addr */
	struct sockaddr_storage addr;
	struct event *ev_step;
	struct event *ev_timeout;
	union {
		dns_mx_cb *mx;
		dns_addr_cb *addr;
		dns_txt_cb *txt;
		dns_tlsa_cb *tlsa;
		dns_ptr_cb *ptr;
	} cb;
	void *arg;
};

struct dns_resolver {
	struct event_base *base;
	struct ub_ctx *ctx;
	struct event *ev_fd;
	struct timeval timeout;
	TAILQ_HEAD(, dns_query) queries;
	TAILQ_HEAD(, dns_sub) orphans;
};

static char dns_error[256];

const char *dns_status_str(enum dns_status st)
{
	switch (st) {
	case DNS_OK:
		return "ok";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_NODATA:
		return "nodata";
	case DNS_TEMPFAIL:
		return "tempfail";
	case DNS_NULL_MX:
		return "null-mx";
	case DNS_BOGUS:
		return "bogus";
	}
	return "?";
}

static void random_fill(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t got = getrandom(p, len, 0);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			fatal("getrandom failed: %s", strerror(errno));
		p += got;
		len -= (size_t)got;
	}
}

/* ---- libunbound lookups ---- */

static void sub_done(void *data, int err, struct ub_result *res)
{
	struct dns_sub *s = data;

	if (s->q == NULL) {
		TAILQ_REMOVE(&s->r->orphans, s, entry);
		ub_resolve_free(res);
		free(s);
		return;
	}
	s->done = true;
	s->err = err;
	s->res = res;
	event_active(s->q->ev_step, EV_TIMEOUT, 0);
}

static void query_submit(struct dns_query *q, int rrtype)
{
	struct dns_sub *s = xcalloc(1, sizeof(*s));
	int rc;

	s->r = q->r;
	s->q = q;
	q->sub[q->nsub++] = s;
	rc = ub_resolve_async(q->r->ctx, q->name, rrtype, RR_CLASS_IN, s,
			      sub_done, &s->async_id);
	if (rc != 0) {
		log_warn(NULL, "dns lookup not started", "name=%s error=%s",
			 q->name, log_qs((char[128]){0}, 128, ub_strerror(rc)));
		s->done = true;
		s->err = rc;
		event_active(q->ev_step, EV_TIMEOUT, 0);
	}
}

/*
 * Free a lookup, cancelling it when still running. A lookup libunbound
 * refuses to cancel stays allocated as an orphan until its callback.
 */
static void sub_drop(struct dns_sub **sp)
{
	struct dns_sub *s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	if (!s->done && ub_cancel(s->r->ctx, s->async_id) != 0) {
		s->q = NULL;
		TAILQ_INSERT_TAIL(&s->r->orphans, s, entry);
		return;
	}
	ub_resolve_free(s->res);
	free(s);
}

static enum dns_status sub_status(const struct dns_sub *s)
{
	if (s->err != 0 || s->res == NULL)
		return DNS_TEMPFAIL;
	if (s->res->bogus)
		return DNS_BOGUS;
	if (s->res->rcode == RCODE_NXDOMAIN || s->res->nxdomain)
		return DNS_NXDOMAIN;
	if (s->res->rcode != 0)
		return DNS_TEMPFAIL; /* SERVFAIL, REFUSED, ... */
	if (!s->res->havedata || s->res->data[0] == NULL)
		return DNS_NODATA;
	return DNS_OK;
}

/* How bad a failure is, to pick the one reported for two lookups. */
static int status_rank(enum dns_status st)
{
	switch (st) {
	case DNS_BOGUS:
		return 4;
	case DNS_TEMPFAIL:
		return 3;
	case DNS_NXDOMAIN:
		return 2;
	default:
		return 1;
	}
}

/* DNS_OK if any lookup has data, else the worst failure. */
static enum dns_status query_status(const struct dns_query *q, bool *secure_r)
{
	enum dns_status st = DNS_NODATA;
	bool ok = false;

	*secure_r = q->nsub > 0;
	for (size_t i = 0; i < q->nsub; i++) {
		enum dns_status s = sub_status(q->sub[i]);

		if (s == DNS_OK)
			ok = true;
		else if (status_rank(s) > status_rank(st))
			st = s;
		if (q->sub[i]->res == NULL || !q->sub[i]->res->secure)
			*secure_r = false;
	}
	return ok ? DNS_OK : st;
}

/* ---- queries ---- */

static void query_destroy(struct dns_query *q)
{
	for (size_t i = 0; i < q->nsub; i++)
		sub_drop(&q->sub[i]);
	event_free(q->ev_step);
	event_free(q->ev_timeout);
	free(q);
}

/*
 * The one way out of a query: detach it, call its callback (which may
 * cancel it or free the resolver), then free it. Data is ignored unless
 * st is DNS_OK.
 */
static void query_deliver(struct dns_query *q, enum dns_status st, void *data,
			  size_t n, bool secure)
{
	if (st != DNS_OK) {
		data = NULL;
		n = 0;
	}
	log_debug(NULL, "dns answer",
		  "name=%s type=%s status=%s n=%zu secure=%d", q->name,
		  kind_names[q->kind], dns_status_str(st), n, (int)secure);
	TAILQ_REMOVE(&q->r->queries, q, entry);
	event_del(q->ev_timeout);
	q->in_callback = true;
	switch (q->kind) {
	case DNS_Q_MX:
		q->cb.mx(q->arg, st, data, n, secure);
		break;
	case DNS_Q_ADDR:
		q->cb.addr(q->arg, st, data, n, secure);
		break;
	case DNS_Q_TXT:
		q->cb.txt(q->arg, st, data, n, secure);
		break;
	case DNS_Q_TLSA:
		q->cb.tlsa(q->arg, st, data, n, secure);
		break;
	case DNS_Q_PTR:
		q->cb.ptr(q->arg, st, data, n, secure);
		break;
	}
	query_destroy(q);
}

static void query_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct dns_query *q = arg;

	for (size_t i = 0; i < q->nsub; i++) {
		if (q->sub[i] != NULL && !q->sub[i]->done)
			sub_drop(&q->sub[i]);
	}
	query_deliver(q, DNS_TEMPFAIL, NULL, 0, false);
}

static void query_step(evutil_socket_t fd, short what, void *arg);

/* name is checked by the caller. */
static struct dns_query *query_alloc(struct dns_resolver *r, enum dns_kind kind,
				     const char *name, void *arg)
{
	struct dns_query *q = xcalloc(1, sizeof(*q));

	q->r = r;
	q->kind = kind;
	q->arg = arg;
	strlcpy_p(q->name, name, sizeof(q->name));
	if (q->name[strlen(q->name) - 1] == '.')
		q->name[strlen(q->name) - 1] = '\0';
	q->ev_step = event_new(r->base, -1, 0, query_step, q);
	q->ev_timeout = evtimer_new(r->base, query_timeout, q);
	if (q->ev_step == NULL || q->ev_timeout == NULL)
		fatal("cannot create a DNS query event");
	evtimer_add(q->ev_timeout, &r->timeout);
	TAILQ_INSERT_TAIL(&r->queries, q, entry);
	return q;
}

static struct dns_query *query_new(struct dns_resolver *r, enum dns_kind kind,
				   const char *name, void *arg)
{
	return dns_name_valid(name) ? query_alloc(r, kind, name, arg) : NULL;
}

void dns_query_cancel(struct dns_query **qp)
{
	struct dns_query *q = *qp;

	if (q == NULL)
		return;
	*qp = NULL;
	if (q->in_callback)
		return;
	TAILQ_REMOVE(&q->r->queries, q, entry);
	query_destroy(q);
}

/* ---- MX (RFC 5321 5.1, RFC 7505) ---- */

struct mx_order {
	unsigned pref;
	uint32_t key; /* random: shuffles equal preferences */
	size_t idx;
};

static int mx_order_cmp(const void *a, const void *b)
{
	const struct mx_order *x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return 0;
}

/*
 * Sort the records' indexes by (preference, random key), then take the
 * usable exchanges in that order: parsing only what is kept bounds the
 * work for a huge answer.
 */
static void mx_deliver_records(struct dns_query *q)
{
	const struct ub_result *res = q->sub[0]->res;
	struct dns_mx_host *hosts = xcalloc(DNS_MAX_MX, sizeof(*hosts));
	struct mx_order *ord;
	size_t n = 0, k = 0;
	bool null_mx = false;
	enum dns_status st;

	while (res->data[n] != NULL)
		n++;
	ord = xcalloc(n, sizeof(*ord));
	for (size_t i = 0; i < n; i++) {
		const unsigned char *rd = (const unsigned char *)res->data[i];

		ord[i].idx = i;
		/* A short record sorts last and is dropped below. */
		ord[i].pref = res->len[i] >= 2 ? (unsigned)rd[0] << 8 | rd[1]
					       : 0x10000;
		random_fill(&ord[i].key, sizeof(ord[i].key));
	}
	qsort(ord, n, sizeof(*ord), mx_order_cmp);
	for (size_t i = 0; i < n && k < DNS_MAX_MX; i++) {
		size_t idx = ord[i].idx;
		struct dns_mx_host *h = &hosts[k];

		if (res->len[idx] < 0 ||
		    dns_rdata_mx((const unsigned char *)res->data[idx],
				 (size_t)res->len[idx], &h->preference,
				 h->name) != 0)
			continue;
		if (h->name[0] == '\0') {
			null_mx = true; /* RFC 7505 3: "." is no host */
			continue;
		}
		k++;
	}
	/* RFC 5321 5.1: MX records present, none usable: an error. */
	st = k > 0 ? DNS_OK : null_mx ? DNS_NULL_MX : DNS_NODATA;
	query_deliver(q, st, hosts, k, res->secure);
	free(ord);
	free(hosts);
}

/* RFC 5321 5.1: no MX, "an implicit MX RR, with a preference of 0". */
static void mx_deliver_implicit(struct dns_query *q)
{
	struct dns_mx_host host = {.preference = 0, .implicit = true};
	bool secure;
	enum dns_status st = query_status(q, &secure);

	strlcpy_p(host.name, q->name, sizeof(host.name));
	query_deliver(q, st, &host, 1, secure && q->mx_secure);
}

static void mx_step(struct dns_query *q)
{
	enum dns_status st;

	if (q->implicit) {
		mx_deliver_implicit(q);
		return;
	}
	st = sub_status(q->sub[0]);
	if (st == DNS_NODATA) {
		q->mx_secure = q->sub[0]->res->secure;
		sub_drop(&q->sub[0]);
		q->nsub = 0;
		q->implicit = true;
		query_submit(q, RR_AAAA);
		query_submit(q, RR_A);
		return;
	}
	if (st != DNS_OK) {
		query_deliver(q, st, NULL, 0,
			      q->sub[0]->res != NULL && q->sub[0]->res->secure);
		return;
	}
	mx_deliver_records(q);
}

struct dns_query *dns_resolve_mx(struct dns_resolver *r, const char *domain,
				 dns_mx_cb *cb, void *arg)
{
	struct dns_query *q = query_new(r, DNS_Q_MX, domain, arg);

	if (q == NULL)
		return NULL;
	q->cb.mx = cb;
	query_submit(q, RR_MX);
	return q;
}

/* ---- addresses ---- */

static size_t addr_collect(const struct ub_result *res,
			   struct sockaddr_storage *addrs, size_t n)
{
	for (size_t i = 0; res->data[i] != NULL && n < DNS_MAX_ADDRS; i++) {
		struct sockaddr_storage *ss = &addrs[n];

		memset(ss, 0, sizeof(*ss));
		if (res->qtype == RR_AAAA && res->len[i] == 16) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

			s6->sin6_family = AF_INET6;
			memcpy(&s6->sin6_addr, res->data[i], 16);
			n++;
		} else if (res->qtype == RR_A && res->len[i] == 4) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, res->data[i], 4);
			n++;
		}
	}
	return n;
}

static void addr_deliver(struct dns_query *q)
{
	struct sockaddr_storage *addrs = xcalloc(DNS_MAX_ADDRS, sizeof(*addrs));
	size_t n = 0;
	bool secure;
	enum dns_status st = query_status(q, &secure);

	for (size_t i = 0; i < q->nsub; i++) {
		if (sub_status(q->sub[i]) == DNS_OK)
			n = addr_collect(q->sub[i]->res, addrs, n);
	}
	if (q->literal) {
		addrs[0] = q->addr;
		n = 1;
		st = DNS_OK;
		secure = false;
	}
	if (st == DNS_OK && n == 0)
		st = DNS_NODATA; /* only malformed records */
	query_deliver(q, st, addrs, n, secure);
	free(addrs);
}

/*
 * "192.0.2.1", "2001:db8::1" or either in brackets (an address literal,
 * RFC 5321 4.1.3): 1 with *ss set, 0 when host is a name.
 */
static int addr_literal(const char *host, struct sockaddr_storage *ss)
{
	char buf[INET6_ADDRSTRLEN + 1];
	size_t len = strlen(host);
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, host, len);
	buf[len] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, buf, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		return 1;
	}
	if (inet_pton(AF_INET6, buf, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		return 1;
	}
	return 0;
}

struct dns_query *dns_resolve_addr(struct dns_resolver *r, const char *host,
				   int family, dns_addr_cb *cb, void *arg)
{
	struct sockaddr_storage lit;
	struct dns_query *q;

	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
		return NULL;
	/* A smart host or MX host given as an address asks nobody. */
	if (addr_literal(host, &lit) == 1) {
		q = query_alloc(r, DNS_Q_ADDR, host, arg);
		q->cb.addr = cb;
		q->literal = family == AF_UNSPEC || family == lit.ss_family;
		q->addr = lit;
		event_active(q->ev_step, 0, 0); /* answered from the loop */
		return q;
	}
	q = query_new(r, DNS_Q_ADDR, host, arg);
	if (q == NULL)
		return NULL;
	q->cb.addr = cb;
	/* AAAA first: the order the addresses are given in. */
	if (family != AF_INET)
		query_submit(q, RR_AAAA);
	if (family != AF_INET6)
		query_submit(q, RR_A);
	return q;
}

/* ---- TXT and PTR: lists of strings ---- */

static void strings_deliver(struct dns_query *q)
{
	const struct ub_result *res = q->sub[0]->res;
	size_t max = q->kind == DNS_Q_TXT ? DNS_MAX_TXT : DNS_MAX_PTR;
	char **strs = xcalloc(max, sizeof(*strs));
	size_t n = 0;
	bool secure;
	enum dns_status st = query_status(q, &secure);

	for (size_t i = 0; st == DNS_OK && res->data[i] != NULL && n < max;
	     i++) {
		const unsigned char *rd = (const unsigned char *)res->data[i];
		size_t rdlen = res->len[i] < 0 ? 0 : (size_t)res->len[i];
		size_t size = rdlen < DNS_TXT_MAX ? rdlen + 1 : DNS_TXT_MAX + 1;
		char *s = xmalloc(size > DNS_NAME_BUF ? size : DNS_NAME_BUF);
		size_t len;
		int used;

		if (q->kind == DNS_Q_TXT) {
			used = dns_rdata_txt(rd, rdlen, s, size, &len) == 0;
		} else {
			used = dns_rdata_name(rd, rdlen, s);
			used = used > 1 && (size_t)used == rdlen;
		}
		if (used)
			strs[n++] = s;
		else
			free(s);
	}
	if (st == DNS_OK && n == 0)
		st = DNS_NODATA; /* every record dropped */
	query_deliver(q, st, strs, n, secure);
	for (size_t i = 0; i < n; i++)
		free(strs[i]);
	free(strs);
}

struct dns_query *dns_resolve_txt(struct dns_resolver *r, const char *name,
				  dns_txt_cb *cb, void *arg)
{
	struct dns_query *q = query_new(r, DNS_Q_TXT, name, arg);

	if (q == NULL)
		return NULL;
	q->cb.txt = cb;
	query_submit(q, RR_TXT);
	return q;
}

struct dns_query *dns_resolve_ptr(struct dns_resolver *r,
				  const struct sockaddr *addr, dns_ptr_cb *cb,
				  void *arg)
{
	char name[DNS_NAME_BUF];
	struct dns_query *q;

	if (dns_ptr_qname(addr, name, sizeof(name)) != 0)
		return NULL;
	q = query_new(r, DNS_Q_PTR, name, arg);
	if (q == NULL)
		return NULL;
	q->cb.ptr = cb;
	query_submit(q, RR_PTR);
	return q;
}

/* ---- TLSA (RFC 6698, RFC 7672) ---- */

static void tlsa_deliver(struct dns_query *q)
{
	const struct ub_result *res = q->sub[0]->res;
	struct dns_tlsa *recs = xcalloc(DNS_MAX_TLSA, sizeof(*recs));
	size_t n = 0;
	bool secure;
	enum dns_status st = query_status(q, &secure);

	for (size_t i = 0;
	     st == DNS_OK && res->data[i] != NULL && n < DNS_MAX_TLSA; i++) {
		struct dns_tlsa *t = &recs[n];

		if (res->len[i] < 0 ||
		    dns_rdata_tlsa((const unsigned char *)res->data[i],
				   (size_t)res->len[i], &t->usage, &t->selector,
				   &t->mtype, &t->data, &t->len) != 0 ||
		    t->len > DNS_TLSA_DATA_MAX)
			continue;
		n++;
	}
	if (st == DNS_OK && n == 0)
		st = DNS_NODATA;
	query_deliver(q, st, recs, n, secure);
	free(recs);
}

struct dns_query *dns_resolve_tlsa(struct dns_resolver *r, const char *host,
				   int port, dns_tlsa_cb *cb, void *arg)
{
	char name[DNS_NAME_BUF + 16];
	struct dns_query *q;
	int len;

	if (port <= 0 || port > 65535 || !dns_name_valid(host))
		return NULL;
	/* RFC 6698 3: "_25._tcp.mx.example.com" */
	len = snprintf(name, sizeof(name), "_%d._tcp.%s", port, host);
	if (len < 0 || (size_t)len >= sizeof(name))
		return NULL;
	q = query_new(r, DNS_Q_TLSA, name, arg);
	if (q == NULL)
		return NULL;
	q->cb.tlsa = cb;
	query_submit(q, RR_TLSA);
	return q;
}

static void query_step(evutil_socket_t fd, short what, void *arg)
{
	struct dns_query *q = arg;

	for (size_t i = 0; i < q->nsub; i++) {
		if (!q->sub[i]->done)
			return;
	}
	switch (q->kind) {
	case DNS_Q_MX:
		mx_step(q);
		break;
	case DNS_Q_ADDR:
		addr_deliver(q);
		break;
	case DNS_Q_TXT:
	case DNS_Q_PTR:
		strings_deliver(q);
		break;
	case DNS_Q_TLSA:
		tlsa_deliver(q);
		break;
	}
}

/* ---- the resolver ---- */

static void resolver_readable(evutil_socket_t fd, short what, void *arg)
{
	struct dns_resolver *r = arg;
	int rc = ub_process(r->ctx);

	if (rc != 0)
		log_warn(NULL, "dns processing failed", "error=%s",
			 log_qs((char[128]){0}, 128, ub_strerror(rc)));
}

static const char *resolver_setup(struct ub_ctx *ctx,
				  const struct dns_config *cfg)
{
	int rc;

	/* A thread, not a forked process, does libunbound's work. */
	if ((rc = ub_ctx_async(ctx, 1)) != 0)
		return ub_strerror(rc);
	/* The forwarder may well be a local resolver (tests, operators). */
	if ((rc = ub_ctx_set_option(ctx, "do-not-query-localhost:", "no")) != 0)
		return ub_strerror(rc);
	if (cfg->forward != NULL) {
		rc = ub_ctx_set_fwd(ctx, cfg->forward);
		/* libunbound answers these itself (RFC 6761 6.2, 6.3); the
		 * forwarder may serve test zones and loopback hosts. */
		if (rc == 0)
			rc = ub_ctx_set_option(
				ctx, "local-zone:", "test. transparent");
		if (rc == 0)
			rc = ub_ctx_set_option(ctx, "local-zone:",
					       "127.in-addr.arpa. transparent");
	} else {
		rc = ub_ctx_resolvconf(ctx, NULL);
	}
	if (rc != 0) {
		snprintf(dns_error, sizeof(dns_error), "%s%s: %s",
			 cfg->forward != NULL ? "forwarder "
					      : "/etc/resolv.conf",
			 cfg->forward != NULL ? cfg->forward : "",
			 ub_strerror(rc));
		return dns_error;
	}
	if (cfg->trust_anchor_file == NULL)
		rc = ub_ctx_set_option(ctx, "module-config:", "iterator");
	else
		rc = ub_ctx_add_ta_file(ctx, cfg->trust_anchor_file);
	return rc != 0 ? ub_strerror(rc) : NULL;
}

struct dns_resolver *dns_resolver_new(struct event_base *base,
				      const struct dns_config *cfg,
				      const char **error_r)
{
	struct dns_resolver *r;
	const char *error;
	int timeout_ms =
		cfg->timeout_ms > 0 ? cfg->timeout_ms : DNS_DEFAULT_TIMEOUT_MS;
	FILE *fp;

	/* libunbound reads the anchor only at the first query: check now. */
	if (cfg->trust_anchor_file != NULL) {
		fp = fopen(cfg->trust_anchor_file, "r");
		if (fp == NULL) {
			snprintf(dns_error, sizeof(dns_error),
				 "trust anchor %s: %s", cfg->trust_anchor_file,
				 strerror(errno));
			*error_r = dns_error;
			return NULL;
		}
		fclose(fp);
	}
	r = xcalloc(1, sizeof(*r));
	r->base = base;
	r->timeout.tv_sec = timeout_ms / 1000;
	r->timeout.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	TAILQ_INIT(&r->queries);
	TAILQ_INIT(&r->orphans);
	r->ctx = ub_ctx_create();
	if (r->ctx == NULL) {
		free(r);
		*error_r = "cannot create the libunbound context";
		return NULL;
	}
	if ((error = resolver_setup(r->ctx, cfg)) != NULL) {
		if (error != dns_error)
			snprintf(dns_error, sizeof(dns_error), "%s", error);
		ub_ctx_delete(r->ctx);
		free(r);
		*error_r = dns_error;
		return NULL;
	}
	r->ev_fd = event_new(base, ub_fd(r->ctx), EV_READ | EV_PERSIST,
			     resolver_readable, r);
	if (r->ev_fd == NULL || event_add(r->ev_fd, NULL) != 0)
		fatal("cannot watch the libunbound descriptor");
	return r;
}

void dns_resolver_free(struct dns_resolver **rp)
{
	struct dns_resolver *r = *rp;
	struct dns_query *q;
	struct dns_sub *s;

	if (r == NULL)
		return;
	*rp = NULL;
	while ((q = TAILQ_FIRST(&r->queries)) != NULL) {
		TAILQ_REMOVE(&r->queries, q, entry);
		query_destroy(q);
	}
	event_free(r->ev_fd);
	/* Stops the thread: no callback of libunbound runs after this. */
	ub_ctx_delete(r->ctx);
	while ((s = TAILQ_FIRST(&r->orphans)) != NULL) {
		TAILQ_REMOVE(&r->orphans, s, entry);
		free(s);
	}
	free(r);
}
