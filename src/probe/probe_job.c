/*
 * One target's job: connect (trying its addresses in turn), run the
 * protocol's session, then, when TLS worked, once more with a client
 * that offers only TLS 1.0/1.1. Every step has the run's deadline.
 */
#include "probe/probe_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "lib/mem.h"
#include "net/conn.h"
#include "net/connect.h"
#include "net/tls.h"

static void job_connect(struct probe_job *j);

static void job_finish(struct probe_job *j)
{
	struct probe_ctx *ctx = j->ctx;

	free(j);
	if (--ctx->jobs == 0 && ctx->dns_queries == 0)
		event_base_loopbreak(ctx->base);
}

void probe_tls_capture(struct probe_target *t, const struct conn *conn)
{
	const struct tls_peer_cert *pc = conn_tls_peer_cert(conn);
	struct probe_tls *s = &t->tls;
	const char *v;

	if (s->done || !conn_is_tls(conn))
		return;
	s->done = true;
	v = conn_tls_version(conn);
	strlcpy_p(s->version, v ? v : "?", sizeof(s->version));
	v = conn_tls_cipher(conn);
	strlcpy_p(s->cipher, v ? v : "?", sizeof(s->cipher));
	v = conn_tls_peer_subject(conn);
	s->subject = v ? probe_clean(v, strlen(v)) : NULL;
	v = conn_tls_peer_sans(conn);
	s->sans = v ? probe_clean(v, strlen(v)) : NULL;
	if (pc == NULL)
		return;
	s->issuer =
		pc->issuer ? probe_clean(pc->issuer, strlen(pc->issuer)) : NULL;
	s->not_before = pc->not_before;
	s->not_after = pc->not_after;
	s->name_ok = pc->name_ok;
	s->chain_ok = pc->chain_ok;
	s->chain_error = pc->chain_error ? xstrdup(pc->chain_error) : NULL;
}

static void job_set_ip(struct probe_target *t, size_t i)
{
	const struct sockaddr_storage *ss = &t->addrs[i];
	const void *a =
		ss->ss_family == AF_INET6
			? (const void *)&((const struct sockaddr_in6 *)ss)
				  ->sin6_addr
			: (const void *)&((const struct sockaddr_in *)ss)
				  ->sin_addr;

	if (inet_ntop(ss->ss_family, a, t->ip, sizeof(t->ip)) == NULL)
		strlcpy_p(t->ip, "?", sizeof(t->ip));
}

static void job_connected(void *arg, int fd, int error)
{
	struct probe_job *j = arg;
	struct probe_target *t = j->t;
	struct conn *conn;

	j->connect = NULL;
	if (fd < 0) {
		if (j->phase == PROBE_PHASE_LEGACY) {
			probe_job_session_done(j); /* legacy stays untested */
			return;
		}
		t->status = error == ECONNREFUSED ? PROBE_ST_CLOSED
			    : error == ETIMEDOUT  ? PROBE_ST_BLOCKED
						  : PROBE_ST_UNREACHABLE;
		free(t->detail);
		t->detail = error == ECONNREFUSED || error == ETIMEDOUT
				    ? NULL
				    : xstrdup(strerror(error));
		/* A silent drop repeats on the next address: do not wait. */
		if (error != ETIMEDOUT && ++j->addr_i < t->naddrs) {
			job_connect(j);
			return;
		}
		job_finish(j);
		return;
	}
	conn = conn_new(j->ctx->base, fd, NULL, PROBE_LINE_MAX);
	if (t->role->proto == PROBE_SMTP)
		probe_smtp_start(j, conn);
	else
		probe_mailbox_start(j, conn);
}

static void job_connect(struct probe_job *j)
{
	struct probe_target *t = j->t;

	job_set_ip(t, j->addr_i);
	j->connect = net_connect_start(j->ctx->base, &t->addrs[j->addr_i], NULL,
				       t->port, j->ctx->timeout_ms,
				       job_connected, j);
}

void probe_job_start(struct probe_ctx *ctx, struct probe_target *t)
{
	struct probe_job *j = xcalloc(1, sizeof(*j));

	j->ctx = ctx;
	j->t = t;
	t->legacy = -1;
	ctx->jobs++;
	if (t->naddrs == 0) {
		t->status = PROBE_ST_UNREACHABLE;
		t->detail = xstrdup("no address");
		job_finish(j);
		return;
	}
	job_connect(j);
}

void probe_job_session_done(struct probe_job *j)
{
	struct probe_target *t = j->t;

	j->smtp = NULL;
	j->mb = NULL;
	j->greeted = false;
	j->reply_lines = 0;
	if (j->phase == PROBE_PHASE_MAIN && t->status == PROBE_ST_OPEN &&
	    t->tls.done && j->ctx->legacy != NULL) {
		j->phase = PROBE_PHASE_LEGACY;
		job_connect(j); /* the address that worked */
		return;
	}
	job_finish(j);
}
