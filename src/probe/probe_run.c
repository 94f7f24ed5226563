/*
 * The run: what to probe (a host, or a mail domain's MX hosts and its
 * usual service names), one event loop, every target at once.
 */
#include "probe/probe_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "dns/resolver.h"
#include "lib/mem.h"
#include "net/tls.h"

/* Names looked up in domain mode: MX hosts and service names. */
#define PROBE_NAMES_MAX 24
/* MX hosts probed on port 25 (the best ones). */
#define PROBE_MX_MAX 3

struct probe_name {
	struct probe_ctx *ctx;
	char name[DNS_NAME_MAX + 3];
	bool mx;
	struct sockaddr_storage addrs[PROBE_ADDRS_MAX];
	size_t n;
	struct dns_query *q;
};

struct probe_dns {
	struct probe_name names[PROBE_NAMES_MAX];
	size_t n;
	size_t mx; /* names[0..mx) are the MX hosts */
};

static bool probe_ip_literal(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		return true;
	}
	return false;
}

static struct probe_target *probe_add(struct probe_run *run,
				      const struct probe_opts *o, size_t r,
				      const char *host)
{
	struct probe_target *t;

	if (run->n >= PROBE_TARGETS_MAX)
		return NULL;
	t = &run->t[run->n++];
	t->role = o->roles[r];
	t->port = o->ports[r];
	t->host = xstrdup(host);
	t->legacy = -1;
	return t;
}

/*
 * Keep up to PROBE_ADDRS_MAX of a[0..n) in out, IPv4 first: a connect
 * that times out is taken for a block and the next address is not
 * tried, and a broken IPv6 route times out more often than IPv4.
 */
static size_t probe_order_addrs(struct sockaddr_storage *out,
				const struct sockaddr_storage *a, size_t n)
{
	size_t k = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n && k < PROBE_ADDRS_MAX; i++) {
			if ((a[i].ss_family == AF_INET) == (pass == 0))
				out[k++] = a[i];
		}
	}
	return k;
}

static void probe_set_addrs(struct probe_target *t,
			    const struct sockaddr_storage *a, size_t n)
{
	t->naddrs = probe_order_addrs(t->addrs, a, n);
}

/* Every role on one host (an address, or a name and its addresses). */
static void probe_host_targets(struct probe_ctx *ctx, const char *host,
			       const struct sockaddr_storage *a, size_t n)
{
	const struct probe_opts *o = ctx->o;

	for (size_t r = 0; r < o->nroles; r++) {
		struct probe_target *t = probe_add(ctx->run, o, r, host);

		if (t != NULL)
			probe_set_addrs(t, a, n);
	}
}

static void probe_start_all(struct probe_ctx *ctx)
{
	for (size_t i = 0; i < ctx->run->n; i++)
		probe_job_start(ctx, &ctx->run->t[i]);
}

static void probe_dns_done(struct probe_ctx *ctx)
{
	if (--ctx->dns_queries == 0 && ctx->jobs == 0)
		event_base_loopbreak(ctx->base);
}

static void probe_on_host_addr(void *arg, enum dns_status st,
			       const struct sockaddr_storage *addrs, size_t n,
			       bool secure)
{
	struct probe_ctx *ctx = arg;

	(void)secure;
	if (st != DNS_OK) {
		ctx->run->error = xasprintf("cannot find the address of %s: %s",
					    ctx->o->host, dns_status_str(st));
	} else {
		probe_host_targets(ctx, ctx->o->host, addrs, n);
		probe_start_all(ctx);
	}
	probe_dns_done(ctx);
}

/* The usual names of each service (RFC 6186 SRV is rarer in practice). */
static const char *const probe_prefixes_smtp[] = {"smtp.", "mail.", "", NULL};
static const char *const probe_prefixes_imap[] = {"imap.", "mail.", "", NULL};
static const char *const probe_prefixes_pop3[] = {"pop.", "pop3.", "mail.", "",
						  NULL};

static const char *const *probe_prefixes(enum probe_proto p)
{
	return p == PROBE_SMTP	 ? probe_prefixes_smtp
	       : p == PROBE_IMAP ? probe_prefixes_imap
				 : probe_prefixes_pop3;
}

static bool probe_same_addr(const struct sockaddr_storage *a,
			    const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			      &((const struct sockaddr_in *)b)->sin_addr,
			      sizeof(struct in_addr)) == 0;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr,
		      sizeof(struct in6_addr)) == 0;
}

/* Add a target for role r on name unless its address already has one. */
static void probe_domain_add(struct probe_ctx *ctx, size_t r,
			     const struct probe_name *nm, bool mx)
{
	struct probe_run *run = ctx->run;
	struct probe_target *t;

	if (nm->n == 0)
		return;
	for (size_t i = 0; i < run->n; i++) {
		if (run->t[i].role == ctx->o->roles[r] &&
		    run->t[i].port == ctx->o->ports[r] &&
		    probe_same_addr(&run->t[i].addrs[0], &nm->addrs[0]))
			return;
	}
	t = probe_add(run, ctx->o, r, nm->name);
	if (t == NULL)
		return;
	t->mx = mx;
	probe_set_addrs(t, nm->addrs, nm->n);
}

static const struct probe_name *probe_dns_find(const struct probe_dns *d,
					       const char *name)
{
	for (size_t i = 0; i < d->n; i++) {
		if (strcasecmp(d->names[i].name, name) == 0)
			return &d->names[i];
	}
	return NULL;
}

/* Every name has its addresses: make the targets, role by role. */
static void probe_domain_targets(struct probe_ctx *ctx, struct probe_dns *d)
{
	const struct probe_opts *o = ctx->o;
	char name[DNS_NAME_MAX + 3];

	for (size_t r = 0; r < o->nroles; r++) {
		const char *const *pre = probe_prefixes(o->roles[r]->proto);

		if (o->roles[r]->port == 25) {
			for (size_t i = 0; i < d->mx; i++)
				probe_domain_add(ctx, r, &d->names[i], true);
			continue;
		}
		for (size_t i = 0; pre[i] != NULL; i++) {
			snprintf(name, sizeof(name), "%s%s", pre[i], o->host);
			const struct probe_name *nm = probe_dns_find(d, name);

			if (nm != NULL)
				probe_domain_add(ctx, r, nm, false);
		}
		/* The best MX host often serves the clients too. */
		if (d->mx > 0)
			probe_domain_add(ctx, r, &d->names[0], false);
	}
	if (ctx->run->n == 0)
		ctx->run->error =
			xasprintf("no host of %s has an address", o->host);
}

static void probe_on_name_addr(void *arg, enum dns_status st,
			       const struct sockaddr_storage *addrs, size_t n,
			       bool secure)
{
	struct probe_name *nm = arg;
	struct probe_ctx *ctx = nm->ctx;
	struct probe_dns *d = ctx->names;

	(void)secure;
	nm->q = NULL;
	if (st == DNS_OK)
		nm->n = probe_order_addrs(nm->addrs, addrs, n);
	if (ctx->dns_queries == 1) {
		probe_domain_targets(ctx, d);
		probe_start_all(ctx);
	}
	probe_dns_done(ctx);
}

static void probe_name_add(struct probe_dns *d, const char *name, bool mx)
{
	if (d->n >= PROBE_NAMES_MAX || probe_dns_find(d, name) != NULL)
		return;
	strlcpy_p(d->names[d->n].name, name, sizeof(d->names[0].name));
	d->names[d->n].mx = mx;
	d->n++;
}

/* A mail domain: look up its MX hosts and the service names at once. */
static void probe_domain(struct probe_ctx *ctx, const struct dns_mx_host *mx,
			 size_t nmx)
{
	struct probe_dns *d = xcalloc(1, sizeof(*d));
	char name[DNS_NAME_MAX + 3];

	ctx->names = d;
	ctx->run->domain = true;
	for (size_t i = 0; i < nmx && d->n < PROBE_MX_MAX; i++)
		probe_name_add(d, mx[i].name, true);
	d->mx = d->n;
	for (size_t r = 0; r < ctx->o->nroles; r++) {
		const char *const *pre =
			probe_prefixes(ctx->o->roles[r]->proto);

		for (size_t i = 0; pre[i] != NULL; i++) {
			snprintf(name, sizeof(name), "%s%s", pre[i],
				 ctx->o->host);
			probe_name_add(d, name, false);
		}
	}
	for (size_t i = 0; i < d->n; i++) {
		struct probe_name *nm = &d->names[i];

		nm->ctx = ctx;
		nm->q = dns_resolve_addr(ctx->dns, nm->name, AF_UNSPEC,
					 probe_on_name_addr, nm);
		if (nm->q != NULL)
			ctx->dns_queries++;
	}
	if (ctx->dns_queries == 0) {
		probe_domain_targets(ctx, d);
		probe_start_all(ctx);
	}
}

static void probe_on_mx(void *arg, enum dns_status st,
			const struct dns_mx_host *hosts, size_t n, bool secure)
{
	struct probe_ctx *ctx = arg;
	struct probe_run *run = ctx->run;

	(void)secure;
	/* Keep this lookup counted until the next ones are started. */
	if (st == DNS_OK && n > 0 && hosts[0].implicit) {
		/* No MX records: a host name, every port on it. */
		if (dns_resolve_addr(ctx->dns, ctx->o->host, AF_UNSPEC,
				     probe_on_host_addr, ctx) != NULL)
			ctx->dns_queries++;
	} else if (st == DNS_OK) {
		run->note =
			xasprintf("%s is a mail domain; MX: %s%s%s%s%s",
				  ctx->o->host, hosts[0].name,
				  n > 1 ? ", " : "", n > 1 ? hosts[1].name : "",
				  n > 2 ? ", " : "", n > 2 ? "..." : "");
		probe_domain(ctx, hosts, n);
	} else if (st == DNS_NULL_MX || st == DNS_NODATA) {
		run->null_mx = st == DNS_NULL_MX;
		run->note = xasprintf("%s %s: no MX host to probe on port 25",
				      ctx->o->host,
				      st == DNS_NULL_MX ? "accepts no mail "
							  "(null MX, RFC 7505)"
							: "has no usable MX "
							  "record");
		probe_domain(ctx, NULL, 0);
	} else {
		run->error = xasprintf("cannot look up %s: %s", ctx->o->host,
				       dns_status_str(st));
	}
	probe_dns_done(ctx);
}

/* Our name for EHLO: this machine's, as a client should (RFC 5321 4.1.4). */
static void probe_helo(struct probe_ctx *ctx)
{
	if (ctx->o->helo != NULL)
		strlcpy_p(ctx->helo, ctx->o->helo, sizeof(ctx->helo));
	else if (gethostname(ctx->helo, sizeof(ctx->helo) - 1) != 0 ||
		 ctx->helo[0] == '\0')
		strlcpy_p(ctx->helo, "localhost", sizeof(ctx->helo));
	ctx->helo[sizeof(ctx->helo) - 1] = '\0';
}

static int probe_setup(struct probe_ctx *ctx, struct probe_run *run)
{
	const struct probe_opts *o = ctx->o;
	const char *error;

	ctx->base = event_base_new();
	if (ctx->base == NULL) {
		run->error = xstrdup("cannot create the event loop");
		return -1;
	}
	ctx->tls = tls_ctx_client_new(&error);
	if (ctx->tls == NULL ||
	    (o->ca_file != NULL &&
	     tls_ctx_add_ca_file(ctx->tls, o->ca_file, &error) < 0)) {
		run->error = xstrdup(error);
		return -1;
	}
	if (!o->no_legacy) {
		/* Without it the check is skipped, not the probe. */
		ctx->legacy = tls_ctx_client_legacy_new(&error);
	}
	ctx->timeout_ms =
		(o->timeout_s > 0 ? o->timeout_s : PROBE_DEFAULT_TIMEOUT) *
		1000;
	probe_helo(ctx);
	return 0;
}

static int probe_begin(struct probe_ctx *ctx, struct probe_run *run)
{
	const struct probe_opts *o = ctx->o;
	struct sockaddr_storage ss;
	struct dns_config cfg = {o->dns_forward, NULL, ctx->timeout_ms};
	const char *error;

	if (probe_ip_literal(o->host, &ss)) {
		probe_host_targets(ctx, o->host, &ss, 1);
		probe_start_all(ctx);
		return 0;
	}
	ctx->dns = dns_resolver_new(ctx->base, &cfg, &error);
	if (ctx->dns == NULL) {
		run->error = xasprintf("cannot start the resolver: %s", error);
		return -1;
	}
	if (dns_resolve_mx(ctx->dns, o->host, probe_on_mx, ctx) == NULL) {
		run->error = xasprintf("not a host name: %s", o->host);
		return -1;
	}
	ctx->dns_queries++;
	return 0;
}

int probe_run(struct probe_run *run, const struct probe_opts *o)
{
	struct probe_ctx ctx = {.o = o, .run = run};

	run->o = o;
	if (probe_setup(&ctx, run) == 0 && probe_begin(&ctx, run) == 0 &&
	    (ctx.jobs > 0 || ctx.dns_queries > 0))
		event_base_dispatch(ctx.base);
	dns_resolver_free(&ctx.dns);
	free(ctx.names);
	tls_ctx_free(&ctx.tls);
	tls_ctx_free(&ctx.legacy);
	if (ctx.base != NULL)
		event_base_free(ctx.base);
	if (run->error == NULL && run->n == 0)
		run->error = xstrdup("nothing to probe");
	return run->error != NULL ? -1 : 0;
}

void probe_run_free(struct probe_run *run)
{
	for (size_t i = 0; i < run->n; i++)
		probe_target_free_fields(&run->t[i]);
	run->n = 0;
	free(run->error);
	free(run->note);
	run->error = NULL;
	run->note = NULL;
	probe_list_free(&run->warnings);
}
