/*
 * The mail transaction: MAIL, RCPT, DATA and BDAT, and the durable
 * delivery that must happen before the 250 (DESIGN.md section 2).
 *
 * SECURITY: the body streams through the DATA decoder to a file; it is
 * never held in memory whole, and its size is checked as it comes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/limits.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "mail/received.h"
#include "net/conn.h"
#include "smtp/session_int.h"
#include "store/maildir.h"

/* Mailboxes one message may reach after alias expansion. */
#define SMTP_MAX_BOXES 1000
/* Body octets decoded per step. */
#define SMTP_BODY_CHUNK 16384

void smtp_txn_reset(struct smtp_session *s)
{
	struct smtp_txn *t = &s->txn;

	smtp_body_free(s);
	free(t->rcpts);
	free(t->boxes);
	memset(t, 0, sizeof(*t));
}

/* Is local@domain the authenticated user (case-insensitive)? */
static bool smtp_is_user(const struct smtp_session *s, const char *local,
			 const char *domain)
{
	const char *at = strrchr(s->user, '@');
	size_t llen = strlen(local);

	return at != NULL && (size_t)(at - s->user) == llen &&
	       strncasecmp(s->user, local, llen) == 0 &&
	       strcasecmp(at + 1, domain) == 0;
}

/*
 * Is local@domain the authenticated user's: their own address, or an
 * address (alias, +tag) that delivers to them?
 */
bool smtp_address_owned(struct smtp_session *s, const char *local,
			const char *domain)
{
	struct userdb_mailbox boxes[64];
	size_t n = 0;

	if (smtp_is_user(s, local, domain))
		return true;
	if (userdb_resolve(s->srv->userdb, local, domain, boxes, 64, &n) !=
	    USERDB_FOUND)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (smtp_is_user(s, boxes[i].local, boxes[i].domain))
			return true;
	}
	return false;
}

void smtp_cmd_mail(struct smtp_session *s, const char *arg, size_t len)
{
	struct smtp_txn *t = &s->txn;
	struct smtp_error err;

	if (s->srv->submission && s->user[0] == '\0') {
		/* RFC 6409 4.3, RFC 4954 6 */
		smtp_reply_error(s, 530, "5.7.0", "Authentication required");
		return;
	}
	if (smtp_parse_mail(arg, len, smtp_session_exts(s), &t->from, &t->mail,
			    &err) < 0) {
		smtp_reply_parse_error(s, &err);
		return;
	}
	/* The null path is refused: a user's mail is never a bounce. */
	if (s->user[0] != '\0' &&
	    (t->from.null || t->from.literal ||
	     !smtp_address_owned(s, t->from.local, t->from.domain))) {
		/* DESIGN.md 7: users send only as themselves. */
		smtp_reply_error(s, 553, "5.7.1",
				 "Sender address not owned by the "
				 "authenticated user");
		return;
	}
	/* RFC 1870 6.2 */
	if (t->mail.has_size && t->mail.size > s->srv->max_message_size) {
		smtp_reply(s, 552, "5.3.4",
			   "Message size exceeds fixed limit of %zu octets",
			   s->srv->max_message_size);
		return;
	}
	smtp_session_set_state(s, SMTP_STATE_MAIL);
	smtp_reply(s, 250, "2.1.0", "OK");
}

/* Add box to the transaction's distinct mailboxes. */
static void smtp_txn_add_box(struct smtp_txn *t,
			     const struct userdb_mailbox *box)
{
	for (size_t i = 0; i < t->nboxes; i++) {
		if (strcmp(t->boxes[i].local, box->local) == 0 &&
		    strcmp(t->boxes[i].domain, box->domain) == 0)
			return;
	}
	if (t->nboxes >= SMTP_MAX_BOXES)
		return;
	t->boxes = xrealloc(t->boxes, (t->nboxes + 1) * sizeof(*t->boxes));
	t->boxes[t->nboxes++] = *box;
}

struct maildir_target smtp_target(const struct userdb_mailbox *box)
{
	return (struct maildir_target){box->domain, box->local, box->quota};
}

/* Quota for the boxes of one RCPT, with the size MAIL announced. */
static int smtp_rcpt_quota(struct smtp_session *s,
			   const struct userdb_mailbox *boxes, size_t n)
{
	uint64_t size = s->txn.mail.has_size ? s->txn.mail.size : 0;

	for (size_t i = 0; i < n; i++) {
		struct maildir_target target = smtp_target(&boxes[i]);
		int r = maildir_quota_check(s->srv->data_dir, &target, size);

		if (r < 0) {
			smtp_reply(s, 451, "4.3.0",
				   "Temporary mailbox lookup failure");
			return -1;
		}
		if (r == 2) {
			smtp_reply(s, 552, "5.2.2",
				   "Message exceeds the mailbox's quota");
			return -1;
		}
		if (r == 1) {
			smtp_reply(s, 452, "4.2.2", "Mailbox full");
			return -1;
		}
	}
	return 0;
}

/* RFC 5321 4.1.1.3: Postmaster without a domain is ours. */
static const char *smtp_postmaster_domain(struct smtp_session *s)
{
	const char *dot = strchr(s->srv->hostname, '.');

	if (userdb_domain_is_local(s->srv->userdb, s->srv->hostname) == 1 ||
	    dot == NULL)
		return s->srv->hostname;
	return dot + 1;
}

static void smtp_rcpt_accept(struct smtp_session *s,
			     const struct smtp_rcpt *rcpt,
			     const struct userdb_mailbox *boxes, size_t n)
{
	struct smtp_txn *t = &s->txn;

	if (smtp_rcpt_quota(s, boxes, n) < 0) {
		t->bad_rcpt_seen = true;
		return;
	}
	t->rcpts = xrealloc(t->rcpts, (t->nrcpts + 1) * sizeof(*t->rcpts));
	t->rcpts[t->nrcpts++] = *rcpt;
	t->nremote += rcpt->remote;
	for (size_t i = 0; i < n; i++)
		smtp_txn_add_box(t, &boxes[i]);
	smtp_session_set_state(s, SMTP_STATE_RCPT);
	smtp_reply(s, 250, "2.1.5", "OK");
}

void smtp_cmd_rcpt(struct smtp_session *s, const char *arg, size_t len)
{
	struct smtp_txn *t = &s->txn;
	struct userdb_mailbox boxes[64];
	struct smtp_rcpt rcpt = {.remote = false};
	struct smtp_error err;
	const char *domain;
	size_t n = 0;

	if (smtp_parse_rcpt(arg, len, smtp_session_exts(s), t->mail.smtputf8,
			    &rcpt.addr, &rcpt.params, &err) < 0) {
		smtp_reply_parse_error(s, &err);
		t->bad_rcpt_seen = true;
		return;
	}
	if (t->nrcpts >= s->srv->max_recipients) {
		/* RFC 5321 4.5.3.1.10 */
		smtp_reply(s, 452, "4.5.3", "Too many recipients");
		return;
	}
	domain = rcpt.addr.domain[0] != '\0' ? rcpt.addr.domain
					     : smtp_postmaster_domain(s);
	switch (rcpt.addr.literal
			? USERDB_NO_DOMAIN
			: userdb_resolve(s->srv->userdb, rcpt.addr.local,
					 domain, boxes, 64, &n)) {
	case USERDB_FOUND:
		smtp_rcpt_accept(s, &rcpt, boxes, n);
		return;
	case USERDB_NO_USER:
		smtp_reply_error(s, 550, "5.1.1", "User unknown");
		break;
	case USERDB_NO_DOMAIN:
		if (s->user[0] != '\0' || s->relay_ok) {
			rcpt.remote = true;
			smtp_rcpt_accept(s, &rcpt, NULL, 0);
			return;
		}
		/* DESIGN.md 7: no open relay. */
		smtp_reply_error(s, 554, "5.7.1", "Relay access denied");
		break;
	case USERDB_TEMPFAIL:
		smtp_reply(s, 451, "4.3.0", "Temporary lookup failure");
		break;
	}
	t->bad_rcpt_seen = true;
}

void smtp_cmd_data(struct smtp_session *s, const char *arg, size_t len)
{
	struct smtp_txn *t = &s->txn;

	if (t->nrcpts == 0) {
		/* RFC 2920 3.1: DATA after only refused recipients. */
		smtp_reply_error(s, 554, "5.5.1", "No valid recipients");
		return;
	}
	if (smtp_body_begin(s) < 0)
		return;
	smtp_data_init(&t->data, true, LIMIT_SMTP_TEXT_LINE);
	smtp_session_set_state(s, SMTP_STATE_DATA);
	smtp_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
}

void smtp_cmd_bdat(struct smtp_session *s, const char *arg, size_t len)
{
	struct smtp_txn *t = &s->txn;
	struct smtp_error err;
	uint64_t size;
	bool last;

	if (smtp_parse_bdat(arg, len, &size, &last, &err) < 0) {
		/* The chunk size is unknown: the session cannot resync. */
		smtp_reply_parse_error(s, &err);
		smtp_session_set_state(s, SMTP_STATE_QUIT);
		conn_close(s->conn);
		return;
	}
	if (s->state != SMTP_STATE_CHUNK) {
		smtp_data_init(&t->data, false, LIMIT_SMTP_TEXT_LINE);
		/* RFC 3030 2: the chunk is read even when refused. */
		t->discard = t->nrcpts == 0 || smtp_body_begin(s) < 0;
		if (t->nrcpts == 0)
			t->bad_rcpt_seen = true;
	}
	t->chunk_left = size;
	t->chunk_last = last;
	smtp_session_set_state(s, SMTP_STATE_BDAT);
}

/* One line per transaction outcome, for the operator. */
static void smtp_log_txn(struct smtp_session *s, const char *result,
			 const char *id, const char *reason)
{
	struct smtp_txn *t = &s->txn;
	char from[ADDRESS_PATH_MAX + 1], to[ADDRESS_PATH_MAX + 1];
	char qh[300], qf[600], qt[600], qr[300];

	address_format(&t->from, from, sizeof(from));
	if (t->nrcpts > 0)
		address_format(&t->rcpts[0].addr, to, sizeof(to));
	else
		to[0] = '\0';
	log_info(conn_sid(s->conn), "message",
		 "result=%s id=%s peer=%s helo=%s from=%s to=%s rcpts=%zu "
		 "size=%llu tls=%s reason=%s",
		 result, id != NULL ? id : "-", conn_peer_ip(s->conn),
		 log_qs(qh, sizeof(qh), s->helo), log_qs(qf, sizeof(qf), from),
		 log_qs(qt, sizeof(qt), to), t->nrcpts,
		 (unsigned long long)t->data.size,
		 conn_is_tls(s->conn) ? conn_tls_version(s->conn) : "no",
		 log_qs(qr, sizeof(qr), reason));
}

/* The whole body is in: check it, deliver it durably, then reply. */
static void smtp_body_done(struct smtp_session *s, unsigned flags)
{
	struct smtp_txn *t = &s->txn;
	char id[64] = "";
	const char *result = "refused";

	if (t->discard) {
		smtp_reply(s, 554, "5.5.1", "No valid recipients");
	} else if (smtp_body_finish(s, flags, id, sizeof(id)) == 0) {
		/* RFC 5321 4.1.1.4: 250 only now that it is on disk. */
		smtp_reply(s, 250, "2.0.0", "OK: queued as %s", id);
		result = "accepted";
	}
	smtp_log_txn(s, result, id[0] != '\0' ? id : NULL,
		     flags != 0 ? "body" : "-");
	smtp_txn_reset(s);
	smtp_session_set_state(s, SMTP_STATE_HELO);
}

/* A BDAT chunk is in: acknowledge it, or finish on LAST. */
static void smtp_chunk_done(struct smtp_session *s)
{
	struct smtp_txn *t = &s->txn;

	if (t->chunk_last) {
		smtp_body_done(s, smtp_data_end(&t->data));
		return;
	}
	if (t->discard || t->write_failed || t->too_big) {
		/* RFC 3030 2: a failed chunk ends the transaction. */
		smtp_body_done(s, t->data.flags);
		return;
	}
	smtp_reply(s, 250, "2.0.0", "%llu octets received",
		   (unsigned long long)t->data.size);
	smtp_session_set_state(s, SMTP_STATE_CHUNK);
}

bool smtp_txn_body_input(struct smtp_session *s)
{
	struct smtp_txn *t = &s->txn;
	char out[SMTP_BODY_CHUNK];
	size_t avail, take, out_len, used;
	const char *in = conn_input(s->conn, &avail);
	int end;

	if (s->state == SMTP_STATE_BDAT && t->chunk_left == 0) {
		smtp_chunk_done(s);
		return false;
	}
	if (avail == 0)
		return true;
	take = avail < sizeof(out) ? avail : sizeof(out);
	if (s->state == SMTP_STATE_BDAT && take > t->chunk_left)
		take = (size_t)t->chunk_left;
	end = smtp_data_decode(&t->data, in, take, out, &out_len, &used);
	smtp_body_write(s, out, out_len);
	conn_input_consume(s->conn, used);
	if (s->state == SMTP_STATE_BDAT) {
		t->chunk_left -= used;
		return false; /* loop again: more input or chunk done */
	}
	if (end == 1)
		smtp_body_done(s, t->data.flags);
	return false;
}
