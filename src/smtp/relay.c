/*
 * One delivery attempt of a queued message: destinations one after
 * another, each through its MX hosts in preference order (RFC 5321 5.1)
 * or the smart host, every address of a host before the next host.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "auth/userdb.h"
#include "mail/dsn.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "net/connect.h"
#include "queue/spool.h"
#include "smtp/relay_int.h"

static void relay_try_host(struct relay_job *j);
static void relay_try_addr(struct relay_job *j);

static bool relay_rcpt_open(const struct spool_rcpt *r)
{
	return r->state == SPOOL_RCPT_PENDING ||
	       r->state == SPOOL_RCPT_DEFERRED;
}

static const char *relay_domain_of(const char *address)
{
	const char *at = strrchr(address, '@');

	return at != NULL ? at + 1 : "";
}

/* Pick the recipients of the next destination still open. */
static bool relay_next_batch(struct relay_job *j)
{
	struct spool_envelope *env = &j->env;
	size_t first = env->nrcpts;

	for (size_t i = 0; i < env->nrcpts && first == env->nrcpts; i++) {
		if (relay_rcpt_open(&env->rcpts[i]) && !j->tried[i])
			first = i;
	}
	if (first == env->nrcpts)
		return false;
	strlcpy_p(j->domain, relay_domain_of(env->rcpts[first].address),
		  sizeof(j->domain));
	j->nbatch = 0;
	for (size_t i = first; i < env->nrcpts; i++) {
		if (relay_rcpt_open(&env->rcpts[i]) && !j->tried[i] &&
		    strcasecmp(relay_domain_of(env->rcpts[i].address),
			       j->domain) == 0 &&
		    j->nbatch < SMTP_CLIENT_RCPTS_MAX) {
			j->batch[j->nbatch++] = i;
			j->tried[i] = true;
		}
	}
	return true;
}

void relay_batch_result(struct relay_job *j, bool permanent, const char *text)
{
	for (size_t k = 0; k < j->nbatch; k++)
		relay_rcpt_verdict(j, j->batch[k], permanent, text);
	j->batch_done = true;
}

/* No host of the destination took the message: it waits, or fails. */
static void relay_hosts_exhausted(struct relay_job *j)
{
	bool failed = !j->batch_done;

	if (!j->batch_done)
		relay_batch_result(j, j->last_permanent,
				   j->last_error[0] != '\0'
					   ? j->last_error
					   : "4.4.1 no answer from any host");
	relay_pool_drop(j, failed);
	relay_next_domain(j);
}

static void relay_error(struct relay_job *j, bool permanent, const char *fmt,
			...) __attribute__((format(printf, 3, 4)));

static void relay_error(struct relay_job *j, bool permanent, const char *fmt,
			...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->last_error, sizeof(j->last_error), fmt, ap);
	va_end(ap);
	j->last_permanent = permanent;
}

void relay_send(struct relay_job *j)
{
	struct relay_conn *rc = j->conn;

	if (smtp_client_send(rc->client, &j->msg) < 0)
		smtp_client_quit(rc->client); /* not idle: a bug; next host */
}

static void relay_client_ready(struct smtp_client *c, void *arg)
{
	struct relay_conn *rc = arg;
	struct relay_job *j = rc->owner;

	if (j == NULL) {
		smtp_client_quit(c);
		return;
	}
	if (j->ctx->smarthost != NULL)
		relay_smarthost_ready(j);
	relay_send(j);
}

/*
 * A session taken from the pool died before it said anything about the
 * message (the server dropped it while idle, or it timed out): not the
 * message's fault, so it gets a fresh connection rather than a deferral.
 */
static bool relay_stale(const struct relay_conn *rc,
			const struct smtp_client_result *r)
{
	return rc->reused && r->code == 0 && r->stage == SMTP_STAGE_MAIL &&
	       strncmp(r->status, "4.4.2", 5) == 0;
}

/* The server answered for the message: per-recipient outcomes. */
static void relay_client_sent(struct smtp_client *c, struct smtp_client_msg *m,
			      const struct smtp_client_result *r, void *arg)
{
	struct relay_conn *rc = arg;
	struct relay_job *j = rc->owner;
	const struct smtp_ehlo *ehlo = smtp_client_ehlo(c);

	(void)m;
	if (j == NULL)
		return;
	if (relay_stale(rc, r)) {
		rc->stale = true; /* closed() follows and reconnects */
		return;
	}
	/* The client gave each recipient its outcome (RCPT or DATA). */
	for (size_t k = 0; k < j->nbatch; k++) {
		const struct smtp_client_result *rr = &j->crcpts[k].result;
		size_t i = j->batch[k];

		relay_rcpt_result(j, i, rr->code, rr->status, rr->text);
		if (rr->code != 0) {
			free(j->remote[i]);
			j->remote[i] = xstrdup(rc->host);
		}
		/* RFC 3461 5.2.2: a next hop without DSN cannot report
		 * success: we say "relayed" ourselves. */
		if (ehlo != NULL && !ehlo->dsn &&
		    j->env.rcpts[i].state == SPOOL_RCPT_DELIVERED &&
		    (j->env.rcpts[i].notify & SMTP_NOTIFY_SUCCESS))
			j->success[i] = DSN_RELAYED;
	}
	j->batch_done = true;
	relay_pool_release(j); /* the next message for it, or idle */
	relay_next_domain(j);
}

static void relay_client_failed(struct smtp_client *c,
				const struct smtp_client_result *r, void *arg)
{
	struct relay_conn *rc = arg;

	(void)c;
	if (rc->owner == NULL || rc->stale)
		return;
	/* Code 0: the client's own verdict, "status text" alone. */
	if (r->code != 0)
		relay_error(rc->owner,
			    r->permanent && r->stage == SMTP_STAGE_GREETING,
			    "%d %s %s (%s)", r->code, r->status, r->text,
			    smtp_client_stage_name(r->stage));
	else
		relay_error(rc->owner, false, "%s %s (%s)", r->status, r->text,
			    smtp_client_stage_name(r->stage));
}

static void relay_client_closed(struct smtp_client *c, void *arg)
{
	struct relay_conn *rc = arg;
	struct relay_job *j = rc->owner;

	(void)c;
	smtp_client_free(&rc->client);
	if (j == NULL) {
		relay_pool_conn_closed(rc);
		return;
	}
	if (rc->stale) {
		rc->stale = false;
		rc->reused = false;
		relay_open(j);
		return;
	}
	relay_try_addr(j); /* the next address, then host */
}

enum smtp_client_tls relay_tls_policy_mode(const struct relay_ctx *ctx,
					   const char *domain)
{
	enum smtp_client_tls mode = SMTP_TLS_MAY; /* DESIGN.md 2 */

	for (size_t i = 0; i < ctx->tls_policy_count; i++) {
		const struct relay_tls_policy *tp = &ctx->tls_policy[i];

		/* RFC 4343: domain names compare without case. */
		if (strcasecmp(tp->domain, domain) == 0)
			return tp->tls;
		if (strcmp(tp->domain, "*") == 0)
			mode = tp->tls;
	}
	return mode;
}

static enum smtp_client_tls relay_tls_mode(const struct relay_job *j)
{
	if (j->ctx->smarthost == NULL)
		return relay_tls_policy_mode(j->ctx, j->domain);
	return j->port_tls;
}

static void relay_connected(void *arg, int fd, int error)
{
	static const struct smtp_client_cb cb = {
		.ready = relay_client_ready,
		.sent = relay_client_sent,
		.failed = relay_client_failed,
		.closed = relay_client_closed,
	};
	struct relay_job *j = arg;
	struct smtp_client_params p = {0};
	struct conn *conn;

	j->connecting = NULL;
	if (fd < 0) {
		relay_error(j, false, "4.4.1 cannot connect to %s port %d: %s",
			    j->hosts[j->host_i - 1].name, j->port,
			    strerror(error));
		relay_try_addr(j);
		return;
	}
	conn = conn_new(j->ctx->base, fd, NULL, 1000);
	strlcpy_p(j->conn->host, j->hosts[j->host_i - 1].name,
		  sizeof(j->conn->host));
	p.helo = j->ctx->hostname;
	p.tls = j->ctx->tls;
	p.tls_mode = relay_tls_mode(j);
	p.servername = j->hosts[j->host_i - 1].name;
	p.tls_verify = j->ctx->smarthost != NULL;
	p.auth_user = j->ctx->smarthost_user;
	p.auth_password = j->ctx->smarthost_password;
	j->conn->client = smtp_client_new(j->ctx->base, conn, &p, &cb, j->conn);
}

/* The next address of the current host, else the next host. */
static void relay_try_addr(struct relay_job *j)
{
	const struct sockaddr_storage *to, *from;

	if (j->addr_i >= j->naddrs) {
		relay_try_host(j);
		return;
	}
	to = &j->addrs[j->addr_i++];
	/* The source address of the destination's family, if configured
	 * (the one the MX and SPF records name for us). */
	from = to->ss_family == AF_INET6 ? j->ctx->bind6 : j->ctx->bind4;
	j->connecting = net_connect_start(j->ctx->base, to, from, j->port,
					  30000, relay_connected, j);
}

static void relay_addrs(void *arg, enum dns_status st,
			const struct sockaddr_storage *addrs, size_t n,
			bool secure)
{
	struct relay_job *j = arg;

	j->query = NULL;
	j->naddrs = n < 8 ? n : 8;
	j->addr_i = 0;
	memcpy(j->addrs, addrs, j->naddrs * sizeof(*addrs));
	if (st != DNS_OK || n == 0)
		relay_error(j, false, "4.4.3 cannot resolve %s: %s",
			    j->hosts[j->host_i - 1].name, dns_status_str(st));
	relay_try_addr(j);
}

static void relay_try_host(struct relay_job *j)
{
	if (j->host_i >= j->nhosts) {
		relay_hosts_exhausted(j);
		return;
	}
	if (j->ctx->smarthost != NULL)
		relay_smarthost_next_port(j);
	j->host_i++;
	j->naddrs = j->addr_i = 0;
	j->query = dns_resolve_addr(j->ctx->dns, j->hosts[j->host_i - 1].name,
				    AF_UNSPEC, relay_addrs, j);
}

/* RFC 7505, RFC 5321 5.1: what the MX lookup means for the batch. */
static void relay_mx(void *arg, enum dns_status st,
		     const struct dns_mx_host *hosts, size_t n, bool secure)
{
	struct relay_job *j = arg;

	j->query = NULL;
	switch (st) {
	case DNS_OK:
		j->hosts = xcalloc(n, sizeof(*hosts));
		memcpy(j->hosts, hosts, n * sizeof(*hosts));
		j->nhosts = n;
		relay_try_host(j);
		return;
	case DNS_NULL_MX:
		relay_batch_result(
			j, true, "5.1.10 the domain accepts no mail (null MX)");
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		relay_batch_result(j, true, "5.1.2 the domain does not exist");
		break;
	case DNS_TEMPFAIL:
	case DNS_BOGUS:
		relay_batch_result(j, false, "4.4.3 DNS lookup failed");
		break;
	}
	relay_pool_drop(j, false);
	relay_next_domain(j);
}

/* Recipients of the batch as the SMTP client takes them. */
static void relay_prepare_msg(struct relay_job *j)
{
	struct spool_envelope *env = &j->env;

	memset(j->crcpts, 0, j->nbatch * sizeof(*j->crcpts));
	for (size_t k = 0; k < j->nbatch; k++) {
		const struct spool_rcpt *r = &env->rcpts[j->batch[k]];

		j->crcpts[k].address = r->address;
		j->crcpts[k].notify = r->notify;
		j->crcpts[k].orcpt = r->orcpt[0] != '\0' ? r->orcpt : NULL;
	}
	j->msg = (struct smtp_client_msg){
		.sender = env->sender,
		.smtputf8 = env->smtputf8,
		.body_8bit = env->body == SPOOL_BODY_8BITMIME,
		.size = env->size,
		.envid = env->envid[0] != '\0' ? env->envid : NULL,
		.ret = env->ret == SPOOL_RET_FULL   ? SMTP_RET_FULL
		       : env->ret == SPOOL_RET_HDRS ? SMTP_RET_HDRS
						    : SMTP_RET_DEFAULT,
		.rcpts = j->crcpts,
		.nrcpts = j->nbatch,
		.fd = j->fd,
	};
}

void relay_next_domain(struct relay_job *j)
{
	int local;

	xfree(&j->hosts);
	j->nhosts = j->host_i = 0;
	j->last_error[0] = '\0';
	j->last_permanent = false;
	j->batch_done = false;
	if (!relay_next_batch(j)) {
		relay_finish(j);
		return;
	}
	local = userdb_domain_is_local(j->ctx->userdb, j->domain);
	if (local == 1) {
		relay_local(j);
		return;
	}
	relay_prepare_msg(j);
	relay_pool_acquire(j);
}

void relay_open(struct relay_job *j)
{
	xfree(&j->hosts);
	j->nhosts = j->host_i = 0;
	j->naddrs = j->addr_i = 0;
	if (j->ctx->smarthost != NULL) {
		relay_smarthost_start(j);
		relay_try_host(j);
		return;
	}
	j->port = j->ctx->mx_port;
	j->query = dns_resolve_mx(j->ctx->dns, j->domain, relay_mx, j);
}

int relay_message(struct relay_ctx *ctx, const char *id, relay_done_cb *done,
		  void *arg)
{
	struct relay_job *j = xcalloc(1, sizeof(*j));
	const char *error;
	char *path;

	j->ctx = ctx;
	strlcpy_p(j->id, id, sizeof(j->id));
	j->done = done;
	j->arg = arg;
	j->started = time(NULL);
	spool_envelope_init(&j->env);
	path = spool_msg_path(ctx->data_dir, id);
	j->fd = path != NULL ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	free(path);
	if (j->fd < 0 ||
	    spool_envelope_read(ctx->data_dir, id, &j->env, &error) < 0) {
		log_error(id, "cannot read queued message", "error=%s",
			  log_qs((char[128]){0}, 128,
				 j->fd < 0 ? strerror(errno) : error));
		if (j->fd >= 0)
			close(j->fd);
		spool_envelope_fini(&j->env);
		free(j);
		return -1;
	}
	j->batch = xcalloc(j->env.nrcpts, sizeof(*j->batch));
	j->crcpts = xcalloc(j->env.nrcpts, sizeof(*j->crcpts));
	j->tried = xcalloc(j->env.nrcpts, sizeof(*j->tried));
	j->success = xcalloc(j->env.nrcpts, sizeof(*j->success));
	j->remote = xcalloc(j->env.nrcpts, sizeof(*j->remote));
	for (size_t i = 0; i < j->env.nrcpts; i++) {
		j->success[i] = -1;
		if (j->env.rcpts[i].updated > j->last_attempt)
			j->last_attempt = j->env.rcpts[i].updated;
	}
	j->domain[0] = '\0';
	relay_next_domain(j);
	return 0;
}
