/*
 * The end of a delivery attempt: recipient outcomes into the envelope,
 * local domains into their Maildirs, the retry schedule, and the DSN
 * (RFC 3464) to the sender once the message leaves the queue.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "auth/userdb.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "mail/dsn.h"
#include "mail/received.h"
#include "queue/schedule.h"
#include "queue/spool.h"
#include "smtp/relay_int.h"
#include "store/maildir.h"

/* Largest original returned whole in a DSN; past it only the header. */
#define RELAY_DSN_RETURN_MAX (1024 * 1024)

/* Recipient i is now in state, because of reply (kept for the DSN). */
static void relay_rcpt_store(struct relay_job *j, size_t i,
			     enum spool_rcpt_state state, const char *reply)
{
	struct spool_rcpt *r = &j->env.rcpts[i];
	char q[600];

	free(r->last_reply);
	r->last_reply = xstrdup(reply);
	r->state = state;
	r->updated = time(NULL);
	log_info(j->id, "delivery", "to=%s domain=%s result=%s reply=%s",
		 log_qs((char[300]){0}, 300, r->address), j->domain,
		 r->state == SPOOL_RCPT_DELIVERED ? "sent"
		 : r->state == SPOOL_RCPT_FAILED  ? "bounced"
						  : "deferred",
		 log_qs(q, sizeof(q), reply));
}

void relay_rcpt_result(struct relay_job *j, size_t i, int code,
		       const char *status, const char *text)
{
	char reply[SMTP_REPLY_TEXT_MAX + 64];
	bool has_status = status != NULL && *status != '\0';
	int cls;

	/*
	 * A server's reply is "code status text" (RFC 5321 4.2, RFC 3463);
	 * the client's own verdicts have no code, and a made-up "0" would
	 * read as one in the DSN's Diagnostic-Code: "status text" only.
	 */
	if (code != 0)
		snprintf(reply, sizeof(reply), "%d%s%s %s", code,
			 has_status ? " " : "", has_status ? status : "",
			 text != NULL ? text : "");
	else
		snprintf(reply, sizeof(reply), "%s%s%s",
			 has_status ? status : "4.0.0", text != NULL ? " " : "",
			 text != NULL ? text : "");
	cls = code != 0 ? code / 100 : has_status ? status[0] - '0' : 4;
	relay_rcpt_store(j, i,
			 cls == 2   ? SPOOL_RCPT_DELIVERED
			 : cls == 5 ? SPOOL_RCPT_FAILED
				    : SPOOL_RCPT_DEFERRED,
			 reply);
}

void relay_rcpt_verdict(struct relay_job *j, size_t i, bool permanent,
			const char *reply)
{
	relay_rcpt_store(j, i,
			 permanent ? SPOOL_RCPT_FAILED : SPOOL_RCPT_DEFERRED,
			 reply);
}

/*
 * RFC 5321 4.5.4.1: give up on recipient i, and say so. The last reply
 * (the remote server's, or why no server answered) stays: it is the cause
 * the DSN reports, with its own 4.x.x status. Only a recipient that never
 * got one gets 4.4.7 (RFC 3463 3.5: delivery time expired).
 */
static void relay_rcpt_expire(struct relay_job *j, size_t i)
{
	struct spool_rcpt *r = &j->env.rcpts[i];
	const char *at = strrchr(r->address, '@');
	char q[600];

	if (r->last_reply == NULL || r->last_reply[0] == '\0') {
		free(r->last_reply);
		r->last_reply = xstrdup("4.4.7 message expired in the queue");
	}
	r->state = SPOOL_RCPT_FAILED;
	r->updated = time(NULL);
	log_info(j->id, "delivery", "to=%s domain=%s result=expired reply=%s",
		 log_qs((char[300]){0}, 300, r->address),
		 at != NULL ? at + 1 : "", log_qs(q, sizeof(q), r->last_reply));
}

/* Copy the queued message into one delivery. */
static int relay_copy(struct relay_job *j, struct maildir_delivery *d,
		      const char **error_r)
{
	char buf[65536];
	off_t off = 0;
	ssize_t n;

	while ((n = pread(j->fd, buf, sizeof(buf), off)) > 0) {
		if (maildir_delivery_write(d, buf, (size_t)n, error_r) < 0)
			return -1;
		off += n;
	}
	if (n < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	return 0;
}

/* RFC 5321 4.4: the final delivery records the envelope sender. */
static int relay_return_path(struct relay_job *j, struct maildir_delivery *d,
			     const char **error_r)
{
	char hdr[DSN_ADDRESS_MAX + 32];
	size_t n = received_return_path(hdr, sizeof(hdr), j->env.sender);

	return maildir_delivery_write(d, hdr, n, error_r);
}

/* One recipient of a local domain (a DSN to a local sender, mostly). */
static void relay_local_one(struct relay_job *j, size_t i)
{
	const char *address = j->env.rcpts[i].address;
	const char *at = strrchr(address, '@');
	struct userdb_mailbox boxes[16];
	struct maildir_target targets[16];
	struct maildir_delivery *d;
	char local[USERDB_LOCAL_MAX + 1], id[64];
	const char *error = "lookup failed";
	size_t n = 0;

	snprintf(local, sizeof(local), "%.*s",
		 at != NULL ? (int)(at - address) : 0, address);
	switch (userdb_resolve(j->ctx->userdb, local, j->domain, boxes, 16,
			       &n)) {
	case USERDB_FOUND:
		break;
	case USERDB_NO_USER:
	case USERDB_NO_DOMAIN:
		relay_rcpt_result(j, i, 550, "5.1.1", "user unknown");
		return;
	case USERDB_TEMPFAIL:
		relay_rcpt_result(j, i, 451, "4.3.0", error);
		return;
	}
	for (size_t k = 0; k < n; k++)
		targets[k] = (struct maildir_target){
			boxes[k].domain, boxes[k].local, boxes[k].quota};
	d = maildir_delivery_new(j->ctx->data_dir, j->ctx->hostname, &error);
	if (d != NULL && relay_return_path(j, d, &error) == 0 &&
	    relay_copy(j, d, &error) == 0 &&
	    maildir_delivery_commit(d, targets, n, id, sizeof(id), &error) ==
		    0) {
		relay_rcpt_result(j, i, 250, "2.0.0", "delivered locally");
		if (j->env.rcpts[i].notify & DSN_NOTIFY_SUCCESS)
			j->success[i] = DSN_DELIVERED;
	} else
		relay_rcpt_result(j, i, 451, "4.3.0", error);
	maildir_delivery_free(&d);
}

void relay_local(struct relay_job *j)
{
	for (size_t k = 0; k < j->nbatch; k++)
		relay_local_one(j, j->batch[k]);
	j->batch_done = true;
	relay_next_domain(j);
}

/* The start of the original, enough for its header or all of it. */
static char *relay_read_original(struct relay_job *j, size_t *len_r)
{
	size_t cap = RELAY_DSN_RETURN_MAX + 1;
	char *buf = xmalloc(cap);
	size_t len = 0;
	ssize_t n;

	while (len < cap &&
	       (n = pread(j->fd, buf + len, cap - len, (off_t)len)) > 0)
		len += (size_t)n;
	*len_r = len;
	return buf;
}

/* Queue the DSN from <> to the sender. */
static void relay_queue_dsn(struct relay_job *j, const char *text, size_t len)
{
	char id[SPOOL_ID_SIZE];
	const char *error;

	if (spool_queue_notice(j->ctx->data_dir, j->env.sender, text, len, id,
			       &error) < 0)
		log_error(j->id, "cannot queue the DSN", "error=%s",
			  log_qs((char[300]){0}, 300, error));
	else
		log_info(j->id, "dsn queued", "dsn=%s to=%s", id,
			 log_qs((char[300]){0}, 300, j->env.sender));
}

/*
 * "550 5.1.1 text" (a server's reply) or "4.4.1 text" (the relay's own
 * verdict) -> "5.1.1" or "4.4.1" in buf (RFC 3463); "" when there is none.
 */
static const char *relay_reply_status(const char *reply, char *buf, size_t size)
{
	const char *p = reply;
	size_t n = 0;

	buf[0] = '\0';
	if (p[0] < '2' || p[0] > '5' || p[1] != '.') {
		p = strchr(reply, ' ');
		if (p == NULL)
			return buf;
		p++;
	}
	if ((p[0] != '2' && p[0] != '4' && p[0] != '5') || p[1] != '.')
		return buf;
	while (p[n] != '\0' && p[n] != ' ' && n + 1 < size)
		n++;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

/*
 * What recipient i has to report now (RFC 3461 4.1), or -1: a failure
 * once the message leaves the queue (final), a success in the attempt
 * that made it, a delay once, in the first attempt past warn_after.
 */
static int relay_dsn_action(const struct relay_job *j, size_t i, bool final,
			    bool warn)
{
	const struct spool_rcpt *r = &j->env.rcpts[i];
	int action = -1;

	if (final && r->state == SPOOL_RCPT_FAILED)
		action = DSN_FAILED;
	else if (j->success[i] >= 0)
		action = j->success[i];
	else if (warn && (r->state == SPOOL_RCPT_DEFERRED ||
			  r->state == SPOOL_RCPT_PENDING))
		action = DSN_DELAYED;
	if (action >= 0 &&
	    !dsn_wanted(r->notify, (enum dsn_action)action, j->env.sender))
		action = -1;
	return action;
}

static void relay_dsn_send(struct relay_job *j, const struct dsn_rcpt *dr,
			   size_t n, bool failed)
{
	struct dsn_report rep;
	size_t olen, len;
	char *orig = relay_read_original(j, &olen);
	char *text;

	rep = (struct dsn_report){
		.reporting_mta = j->ctx->hostname,
		.envid = j->env.envid,
		.sender = j->env.sender,
		.arrival = j->env.created,
		.rcpts = dr,
		.nrcpts = n,
		.return_full = failed && j->env.ret == SPOOL_RET_FULL,
		.original = orig,
		.original_len = olen,
		.max_return = RELAY_DSN_RETURN_MAX,
	};
	text = dsn_compose(&rep, time(NULL), j->id, &len);
	if (text != NULL)
		relay_queue_dsn(j, text, len);
	free(text);
	free(orig);
}

/* One DSN for everything this attempt has to tell the sender. */
static void relay_dsn(struct relay_job *j, bool final, bool warn)
{
	struct dsn_rcpt *dr = xcalloc(j->env.nrcpts, sizeof(*dr));
	char(*status)[16] = xcalloc(j->env.nrcpts, sizeof(*status));
	size_t n = 0;
	bool failed = false;

	for (size_t i = 0; i < j->env.nrcpts; i++) {
		const struct spool_rcpt *r = &j->env.rcpts[i];
		int action = relay_dsn_action(j, i, final, warn);

		if (action < 0)
			continue;
		failed |= action == DSN_FAILED;
		relay_reply_status(r->last_reply, status[n], sizeof(status[n]));
		/* RFC 3464 2.3.4: a delay is a transient condition (a 5xx
		 * that only deferred, such as a refused EHLO). */
		if (action == DSN_DELAYED && status[n][0] == '5')
			status[n][0] = '4';
		dr[n] = (struct dsn_rcpt){
			.address = r->address,
			.orcpt = r->orcpt,
			.action = (enum dsn_action)action,
			.status = status[n],
			.diagnostic = r->last_reply,
			.remote_mta = j->remote[i],
			.last_attempt = r->updated,
			.will_retry_until =
				action == DSN_DELAYED
					? j->env.created + j->ctx->lifetime
					: 0,
		};
		n++;
	}
	if (n > 0)
		relay_dsn_send(j, dr, n, failed);
	free(dr);
	free(status);
}

static void relay_free(struct relay_job *j)
{
	for (size_t i = 0; i < j->env.nrcpts; i++)
		free(j->remote[i]);
	free(j->remote);
	spool_envelope_fini(&j->env);
	if (j->fd >= 0)
		close(j->fd);
	free(j->batch);
	free(j->crcpts);
	free(j->tried);
	free(j->success);
	free(j->hosts);
	free(j);
}

struct relay_result {
	relay_done_cb *done;
	void *arg;
	char id[SPOOL_ID_SIZE];
	time_t next;
};

static void relay_report(evutil_socket_t fd, short what, void *arg)
{
	struct relay_result *res = arg;

	res->done(res->arg, res->id, res->next);
	free(res);
}

/*
 * What the operator asked while this attempt ran (postern queue bounce,
 * flush, hold, release, delete; ETRN), taken from the envelope on disk
 * now rather than overwritten with the copy read at the start: the rule
 * is spool_envelope_merge()'s. Returns -1 when the message was deleted,
 * 1 when the next attempt is asked for now, else 0. A request that races
 * the final write itself can still be lost; it is then as if given a
 * moment earlier, to an attempt that ignored it.
 */
static int relay_requests(struct relay_job *j)
{
	struct spool_envelope disk;
	const char *error;
	int ret;

	if (spool_envelope_read(j->ctx->data_dir, j->id, &disk, &error) < 0) {
		if (!spool_queued(j->ctx->data_dir, j->id))
			return -1;
		log_warn(j->id, "cannot read the envelope back", "error=%s",
			 log_qs((char[300]){0}, 300, error));
		return 0; /* this attempt's copy, as it is */
	}
	ret = spool_envelope_merge(&j->env, &disk) ? 1 : 0;
	spool_envelope_fini(&disk);
	return ret;
}

/* Every recipient final: DSN, then out of the spool. Else reschedule. */
static time_t relay_settle(struct relay_job *j, time_t now)
{
	struct spool_envelope *env = &j->env;
	bool open = false, expired;
	const char *error;
	int asked = relay_requests(j);

	if (asked < 0) {
		/* postern queue delete: no DSN, nothing written back. */
		log_info(j->id, "deleted during the attempt", NULL);
		return 0;
	}
	env->attempts++;
	expired = schedule_expired(env->created, now, j->ctx->lifetime);
	for (size_t i = 0; i < env->nrcpts; i++) {
		struct spool_rcpt *r = &env->rcpts[i];

		if (expired && (r->state == SPOOL_RCPT_PENDING ||
				r->state == SPOOL_RCPT_DEFERRED))
			relay_rcpt_expire(j, i);
		open |= r->state == SPOOL_RCPT_PENDING ||
			r->state == SPOOL_RCPT_DEFERRED;
	}
	if (!open) {
		relay_dsn(j, true, false);
		if (spool_remove(j->ctx->data_dir, j->id, &error) < 0)
			log_error(j->id, "cannot remove from the spool",
				  "error=%s",
				  log_qs((char[300]){0}, 300, error));
		else
			log_info(j->id, "removed", "attempts=%u",
				 env->attempts);
		return 0;
	}
	/* Once: the first attempt to end past warn_after (RFC 3461 4.1). */
	relay_dsn(j, false,
		  schedule_warn_due(env->created, now, j->ctx->warn_after,
				    j->last_attempt >=
					    env->created + j->ctx->warn_after));
	/* Asked for now: due at once (0 would tell done() it is gone). */
	env->next_attempt =
		asked == 1 ? now
			   : schedule_next(env->attempts, now, env->created,
					   j->ctx->lifetime, j->ctx->retry,
					   j->ctx->retry_count);
	if (spool_envelope_update(j->ctx->data_dir, env, &error) < 0) {
		/* Deleted just now: the update brought nothing back. */
		if (!spool_queued(j->ctx->data_dir, j->id)) {
			log_info(j->id, "deleted during the attempt", NULL);
			return 0;
		}
		log_error(j->id, "cannot update the envelope", "error=%s",
			  log_qs((char[300]){0}, 300, error));
	}
	return env->next_attempt;
}

void relay_finish(struct relay_job *j)
{
	struct relay_result *res = xcalloc(1, sizeof(*res));
	struct timeval now_tv = {0, 0};

	res->done = j->done;
	res->arg = j->arg;
	strlcpy_p(res->id, j->id, sizeof(res->id));
	res->next = relay_settle(j, time(NULL));
	/* done() from the loop, never from inside relay_message(). */
	event_base_once(j->ctx->base, -1, EV_TIMEOUT, relay_report, res,
			&now_tv);
	relay_free(j);
}
