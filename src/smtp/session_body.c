/*
 * Where a message body goes: the trace headers, the submission header
 * rules (From: must be the user's, Message-ID: and Date: added when
 * missing, RFC 6409 8), and durable storage: the outbound spool for
 * remote recipients and the Maildirs of local ones, before the 250.
 *
 * SECURITY: the header block of a submitted message is held in memory
 * only up to the scanner's limits; everything else streams to disk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "mail/dsn.h"
#include "mail/header.h"
#include "mail/received.h"
#include "net/conn.h"
#include "queue/spool.h"
#include "smtp/session_int.h"

static void smtp_body_error(struct smtp_session *s, const char *what,
			    const char *error)
{
	char q[300];

	log_error(conn_sid(s->conn), what, "error=%s",
		  log_qs(q, sizeof(q), error));
	s->txn.write_failed = true;
}

/* Octets of the stored message, to every destination. */
static void smtp_sink(struct smtp_session *s, const char *p, size_t n)
{
	struct smtp_txn *t = &s->txn;
	const char *error;

	if (t->write_failed || n == 0)
		return;
	if (t->delivery != NULL &&
	    maildir_delivery_write(t->delivery, p, n, &error) < 0)
		smtp_body_error(s, "cannot store message", error);
	else if (t->spool != NULL &&
		 spool_msg_write(t->spool, p, n, &error) < 0)
		smtp_body_error(s, "cannot spool message", error);
}

static const char *smtp_body_id(const struct smtp_txn *t)
{
	return t->spool != NULL ? spool_msg_id(t->spool)
				: maildir_delivery_id(t->delivery);
}

/* Return-Path and Received, the first octets of the stored message. */
static void smtp_trace_headers(struct smtp_session *s)
{
	struct smtp_txn *t = &s->txn;
	struct received_info ri;
	char sender[ADDRESS_PATH_MAX + 1];
	char rcpt[ADDRESS_PATH_MAX + 1];
	char hdr[2048];
	size_t n;

	address_format(&t->from, sender, sizeof(sender));
	n = received_return_path(hdr, sizeof(hdr), sender);
	memset(&ri, 0, sizeof(ri));
	ri.helo = s->helo[0] != '\0' ? s->helo : NULL;
	ri.peer_ip = conn_peer_ip(s->conn);
	ri.by_host = s->srv->hostname;
	ri.protocol = received_protocol(s->esmtp, conn_is_tls(s->conn),
					s->user[0] != '\0', t->mail.smtputf8);
	ri.tls_version = conn_tls_version(s->conn);
	ri.tls_cipher = conn_tls_cipher(s->conn);
	ri.id = smtp_body_id(t);
	ri.hide_ip = s->srv->hide_client_ip && s->user[0] != '\0';
	if (t->nrcpts == 1) {
		address_format(&t->rcpts[0].addr, rcpt, sizeof(rcpt));
		ri.for_rcpt = rcpt;
	}
	ri.when = time(NULL);
	if (n < sizeof(hdr))
		n += received_format(hdr + n, sizeof(hdr) - n, &ri);
	if (n >= sizeof(hdr) || n == 0)
		smtp_body_error(s, "cannot store message", "trace too long");
	else
		smtp_sink(s, hdr, n);
}

int smtp_body_begin(struct smtp_session *s)
{
	struct smtp_txn *t = &s->txn;
	const char *error = NULL;

	if (t->nboxes > 0)
		t->delivery = maildir_delivery_new(s->srv->data_dir,
						   s->srv->hostname, &error);
	if (error == NULL && t->nremote > 0)
		t->spool = spool_msg_new(s->srv->data_dir, &error);
	if (error != NULL) {
		smtp_body_error(s, "cannot store message", error);
		smtp_body_free(s);
		smtp_reply(s, 451, "4.3.0",
			   "Local error in processing, try again later");
		return -1;
	}
	smtp_trace_headers(s);
	/* RFC 6409 8: the submission server looks at what it relays. */
	if (s->user[0] != '\0')
		t->hdr = header_scan_new(NULL);
	return 0;
}

void smtp_body_free(struct smtp_session *s)
{
	struct smtp_txn *t = &s->txn;

	maildir_delivery_free(&t->delivery);
	spool_msg_free(&t->spool);
	header_scan_free(&t->hdr);
	xfree(&t->hdrbuf);
	t->hdrlen = 0;
}

/*
 * The held header block goes out, with Message-ID: and Date: added
 * before its empty line when the client left them out (RFC 6409 8.2,
 * 8.3). ended: the block has its empty line (else the message is all
 * header).
 */
static void smtp_header_flush(struct smtp_session *s, bool ended)
{
	struct smtp_txn *t = &s->txn;
	size_t keep = ended && t->hdrlen >= 2 ? t->hdrlen - 2 : t->hdrlen;
	char add[512], date[HEADER_DATE_SIZE], mid[300];
	size_t n = 0;

	t->hdr_done = true;
	smtp_sink(s, t->hdrbuf, keep);
	if (!t->hdr_limit && !header_scan_has(t->hdr, "Message-ID")) {
		header_message_id(mid, sizeof(mid), smtp_body_id(t),
				  s->srv->hostname);
		n += (size_t)snprintf(add + n, sizeof(add) - n,
				      "Message-ID: %s\r\n", mid);
	}
	if (!t->hdr_limit && !header_scan_has(t->hdr, "Date") &&
	    n < sizeof(add)) {
		header_date_format(date, sizeof(date), time(NULL));
		n += (size_t)snprintf(add + n, sizeof(add) - n, "Date: %s\r\n",
				      date);
	}
	smtp_sink(s, add, n < sizeof(add) ? n : 0);
	smtp_sink(s, t->hdrbuf + keep, t->hdrlen - keep);
	xfree(&t->hdrbuf);
	t->hdrlen = 0;
}

/* Submission: hold the header block until it is complete. */
static size_t smtp_header_feed(struct smtp_session *s, const char *p, size_t n)
{
	struct smtp_txn *t = &s->txn;
	size_t used = 0;
	int r = header_scan_feed(t->hdr, p, n, &used);

	/* The scanner's limits bound what is held here. */
	t->hdrbuf = xrealloc(t->hdrbuf, t->hdrlen + used + 1);
	memcpy(t->hdrbuf + t->hdrlen, p, used);
	t->hdrlen += used;
	if (r == 1) {
		smtp_header_flush(s, true);
	} else if (r < 0) {
		t->hdr_limit = true;
		smtp_header_flush(s, false);
	}
	return used;
}

void smtp_body_write(struct smtp_session *s, const char *p, size_t n)
{
	struct smtp_txn *t = &s->txn;
	size_t used;

	if (t->too_big || t->write_failed || n == 0)
		return;
	if (t->data.size > s->srv->max_message_size) {
		t->too_big = true;
		return;
	}
	received_hops_feed(&t->hops, p, n);
	if (t->hdr != NULL && !t->hdr_done) {
		used = smtp_header_feed(s, p, n);
		p += used;
		n -= used;
	}
	smtp_sink(s, p, n);
}

/* Refuse the message for what the decoder found, or return 0. */
static int smtp_body_refused(struct smtp_session *s, unsigned flags)
{
	if (flags & (SMTP_DATA_BARE_LF | SMTP_DATA_BARE_CR)) {
		/* SMTP smuggling defence (DESIGN.md 7): never normalised. */
		smtp_reply(s, 550, "5.6.0",
			   "Message contains a bare CR or LF; lines must end "
			   "in CRLF");
		return -1;
	}
	if (flags & SMTP_DATA_NUL) {
		smtp_reply(s, 550, "5.6.0", "Message contains a NUL octet");
		return -1;
	}
	if (flags & SMTP_DATA_LONG_LINE) {
		/* RFC 5321 4.5.3.1.6 */
		smtp_reply(s, 552, "5.6.0",
			   "Message has a line longer than 1000 octets");
		return -1;
	}
	if (s->txn.too_big) {
		smtp_reply(s, 552, "5.3.4",
			   "Message size exceeds fixed limit of %zu octets",
			   s->srv->max_message_size);
		return -1;
	}
	/* RFC 5321 6.3; 5.4.6 is "routing loop detected" (RFC 3463). */
	if (s->txn.hops.count >= RECEIVED_HOPS_MAX) {
		smtp_reply(s, 554, "5.4.6",
			   "Too many hops (%u Received: fields): mail loop?",
			   s->txn.hops.count);
		return -1;
	}
	return 0;
}

/* Submission: every From: mailbox must be the user's (DESIGN.md 7). */
static int smtp_from_refused(struct smtp_session *s)
{
	struct smtp_txn *t = &s->txn;
	size_t n;

	if (t->hdr == NULL)
		return 0;
	if (!t->hdr_done) {
		/* All header, no body: the message ends inside it. */
		if (header_scan_finish(t->hdr) < 0)
			t->hdr_limit = true;
		smtp_header_flush(s, false);
	}
	n = header_scan_from_count(t->hdr);
	if (t->hdr_limit || header_scan_from_malformed(t->hdr) || n == 0) {
		smtp_reply(s, 550, "5.6.0",
			   "Message needs one well-formed From: header");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *from = header_scan_from(t->hdr, i);
		const char *at = strrchr(from, '@');
		char local[ADDRESS_LOCAL_MAX + 1];
		size_t llen = at != NULL ? (size_t)(at - from) : 0;

		if (at == NULL || llen >= sizeof(local))
			goto refuse;
		memcpy(local, from, llen);
		local[llen] = '\0';
		if (!smtp_address_owned(s, local, at + 1))
			goto refuse;
	}
	return 0;
refuse:
	smtp_reply(s, 553, "5.7.1",
		   "From: address not owned by the authenticated user");
	return -1;
}

/* Quota at the real size: 4.2.2 / 5.2.2 for the whole transaction. */
static int smtp_body_quota(struct smtp_session *s, uint64_t size)
{
	struct smtp_txn *t = &s->txn;
	int worst = 0;

	for (size_t i = 0; i < t->nboxes; i++) {
		struct maildir_target target = smtp_target(&t->boxes[i]);
		int r = maildir_quota_check(s->srv->data_dir, &target, size);

		if (r < 0) {
			smtp_reply(s, 451, "4.3.0",
				   "Temporary mailbox lookup failure");
			return -1;
		}
		worst = r > worst ? r : worst;
	}
	if (worst == 2)
		smtp_reply(s, 552, "5.2.2",
			   "Message exceeds a recipient's mailbox quota");
	else if (worst == 1)
		smtp_reply(s, 452, "4.2.2", "A recipient's mailbox is full");
	return worst == 0 ? 0 : -1;
}

static enum spool_ret smtp_spool_ret(enum smtp_ret ret)
{
	return ret == SMTP_RET_FULL   ? SPOOL_RET_FULL
	       : ret == SMTP_RET_HDRS ? SPOOL_RET_HDRS
				      : SPOOL_RET_DEFAULT;
}

/* The envelope of the remote recipients, committed with the message. */
static int smtp_spool_commit(struct smtp_session *s, const char **error_r)
{
	struct smtp_txn *t = &s->txn;
	struct spool_envelope env;
	char addr[ADDRESS_PATH_MAX + 1];
	int r;

	spool_envelope_init(&env);
	address_format(&t->from, addr, sizeof(addr));
	env.sender = xstrdup(addr);
	env.envid = xstrdup(t->mail.envid);
	env.auth = xstrdup(s->user);
	env.ret = smtp_spool_ret(t->mail.ret);
	env.body = t->mail.body == SMTP_BODY_8BITMIME ? SPOOL_BODY_8BITMIME
		   : t->mail.body == SMTP_BODY_7BIT   ? SPOOL_BODY_7BIT
						      : SPOOL_BODY_DEFAULT;
	env.smtputf8 = t->mail.smtputf8;
	for (size_t i = 0; i < t->nrcpts; i++) {
		if (!t->rcpts[i].remote)
			continue;
		address_format(&t->rcpts[i].addr, addr, sizeof(addr));
		/* SMTP_NOTIFY_* and SPOOL_NOTIFY_* are the RFC 3461 bits. */
		spool_envelope_add_rcpt(&env, addr, t->rcpts[i].params.orcpt,
					t->rcpts[i].params.notify);
	}
	r = spool_msg_commit(t->spool, &env, error_r);
	spool_envelope_fini(&env);
	return r;
}

/* Durable: the spool first, then the mailboxes (DESIGN.md 2). */
static int smtp_body_commit(struct smtp_session *s, char *id, size_t size)
{
	struct smtp_txn *t = &s->txn;
	struct maildir_target *targets;
	const char *error = NULL;
	char local_id[64];
	int r = 0;

	if (t->spool != NULL) {
		r = smtp_spool_commit(s, &error);
		if (r == 0)
			strlcpy_p(id, spool_msg_id(t->spool), size);
	}
	if (r == 0 && t->delivery != NULL) {
		targets = xcalloc(t->nboxes, sizeof(*targets));
		for (size_t i = 0; i < t->nboxes; i++)
			targets[i] = smtp_target(&t->boxes[i]);
		r = maildir_delivery_commit(t->delivery, targets, t->nboxes,
					    local_id, sizeof(local_id), &error);
		free(targets);
		if (r == 0 && t->spool == NULL)
			strlcpy_p(id, local_id, size);
	}
	if (r < 0) {
		smtp_body_error(s, "cannot deliver message", error);
		smtp_reply(s, 451, "4.3.0",
			   "Local error in processing, try again later");
	}
	return r;
}

/*
 * RFC 3461 4.1, 5.2.1: we advertised DSN, so a local delivery asked for
 * with NOTIFY=SUCCESS is reported ("delivered"); remote recipients are
 * the queue's to report. The original is not returned (RFC 3461 4.3).
 */
static void smtp_success_dsn(struct smtp_session *s)
{
	struct smtp_txn *t = &s->txn;
	char sender[ADDRESS_PATH_MAX + 1];
	char(*addr)[ADDRESS_PATH_MAX + 1];
	struct dsn_rcpt *dr;
	char id[SPOOL_ID_SIZE];
	const char *error;
	size_t n = 0, len;
	char *text;

	address_format(&t->from, sender, sizeof(sender));
	if (t->from.null || t->nrcpts == 0)
		return;
	addr = xcalloc(t->nrcpts, sizeof(*addr));
	dr = xcalloc(t->nrcpts, sizeof(*dr));
	for (size_t i = 0; i < t->nrcpts; i++) {
		const struct smtp_rcpt *r = &t->rcpts[i];

		if (r->remote ||
		    !dsn_wanted(r->params.notify, DSN_DELIVERED, sender))
			continue;
		address_format(&r->addr, addr[n], sizeof(addr[n]));
		dr[n] = (struct dsn_rcpt){.address = addr[n],
					  .orcpt = r->params.orcpt,
					  .action = DSN_DELIVERED,
					  .status = "2.0.0",
					  .last_attempt = time(NULL)};
		n++;
	}
	if (n > 0) {
		struct dsn_report rep = {.reporting_mta = s->srv->hostname,
					 .envid = t->mail.envid,
					 .sender = sender,
					 .arrival = time(NULL),
					 .rcpts = dr,
					 .nrcpts = n};

		text = dsn_compose(&rep, time(NULL), smtp_body_id(t), &len);
		if (text != NULL &&
		    spool_queue_notice(s->srv->data_dir, sender, text, len, id,
				       &error) < 0)
			log_error(conn_sid(s->conn),
				  "cannot queue a success notice", "error=%s",
				  log_qs((char[300]){0}, 300, error));
		free(text);
	}
	free(dr);
	free(addr);
}

int smtp_body_finish(struct smtp_session *s, unsigned flags, char *id,
		     size_t size)
{
	struct smtp_txn *t = &s->txn;
	uint64_t stored;

	if (smtp_body_refused(s, flags) < 0 || smtp_from_refused(s) < 0)
		return -1;
	if (t->write_failed) {
		smtp_reply(s, 451, "4.3.0",
			   "Local error in processing, try again later");
		return -1;
	}
	stored = t->delivery != NULL ? maildir_delivery_size(t->delivery) : 0;
	if (smtp_body_quota(s, stored) < 0 || smtp_body_commit(s, id, size) < 0)
		return -1;
	smtp_success_dsn(s);
	return 0;
}
