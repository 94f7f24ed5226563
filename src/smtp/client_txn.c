/*
 * SMTP client messages: the checks made before sending, MAIL/RCPT/DATA
 * one by one or as one pipelined group (RFC 2920), the body streamed
 * from its file with dot-stuffing (RFC 5321 4.5.2), and each recipient's
 * outcome.
 *
 * SECURITY: envelope strings go into command lines, so a control
 * character in one refuses the message instead of injecting a command.
 * The body is sent with CRLF line ends only: a bare CR or LF in the file
 * could otherwise end the data early at a lax server (SMTP smuggling).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "smtp/client_int.h"

/* Read from the message file at a time; the output holds its worst
 * case, every byte doubled (see client_stuff). */
#define CLIENT_BODY_CHUNK (64 * 1024)
#define CLIENT_BODY_OUT (2 * CLIENT_BODY_CHUNK + 8)

/* Command at position pos of the transaction; RCPT sets *rcpt_r. */
static enum smtp_client_cmd txn_cmd(const struct smtp_client_txn *t, size_t pos,
				    size_t *rcpt_r)
{
	if (t->rset) {
		if (pos == 0)
			return SMTP_CMD_RSET;
		pos--;
	}
	if (pos == 0)
		return SMTP_CMD_MAIL;
	if (pos <= t->msg->nrcpts) {
		*rcpt_r = pos - 1;
		return SMTP_CMD_RCPT;
	}
	return SMTP_CMD_DATA;
}

int smtp_client_txn_minutes(const struct smtp_client *c)
{
	size_t i;

	/* RFC 5321 4.5.3.2.2-4: MAIL and RCPT 5 minutes, DATA 2. */
	if (c->txn.msg == NULL)
		return 5;
	return txn_cmd(&c->txn, c->txn.next_in, &i) == SMTP_CMD_DATA ? 2 : 5;
}

enum smtp_client_stage smtp_client_txn_stage(const struct smtp_client *c)
{
	size_t i;

	if (c->txn.msg == NULL)
		return SMTP_STAGE_MAIL;
	switch (txn_cmd(&c->txn, c->txn.next_in, &i)) {
	case SMTP_CMD_RCPT:
		return SMTP_STAGE_RCPT;
	case SMTP_CMD_DATA:
		return SMTP_STAGE_DATA;
	case SMTP_CMD_RSET:
	case SMTP_CMD_MAIL:
		break;
	}
	return SMTP_STAGE_MAIL;
}

/* RFC 3461 4.1: NOTIFY=NEVER or a list of SUCCESS, FAILURE, DELAY. */
static void txn_write_notify(struct conn *conn, unsigned notify)
{
	static const struct {
		unsigned bit;
		const char *name;
	} words[] = {
		{SMTP_NOTIFY_SUCCESS, "SUCCESS"},
		{SMTP_NOTIFY_FAILURE, "FAILURE"},
		{SMTP_NOTIFY_DELAY, "DELAY"},
	};
	const char *sep = "=";

	conn_write(conn, " NOTIFY", 7);
	if (notify & SMTP_NOTIFY_NEVER) {
		conn_write(conn, "=NEVER", 6);
		return;
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (notify & words[i].bit) {
			conn_printf(conn, "%s%s", sep, words[i].name);
			sep = ",";
		}
	}
}

static void txn_write_mail(struct smtp_client *c)
{
	const struct smtp_client_msg *m = c->txn.msg;
	const struct smtp_ehlo *e = &c->ehlo;

	conn_printf(c->conn, "MAIL FROM:<%s>", m->sender);
	if (e->size && m->size > 0) /* RFC 1870 6 */
		conn_printf(c->conn, " SIZE=%" PRIu64, m->size);
	if (e->eightbitmime && (m->body_8bit || c->txn.utf8)) /* RFC 6152 */
		conn_write(c->conn, " BODY=8BITMIME", 14);
	if (c->txn.utf8) /* RFC 6531 3.4 */
		conn_write(c->conn, " SMTPUTF8", 9);
	if (e->dsn && m->ret != SMTP_RET_DEFAULT) /* RFC 3461 4.3 */
		conn_printf(c->conn, " RET=%s",
			    m->ret == SMTP_RET_FULL ? "FULL" : "HDRS");
	if (e->dsn && m->envid != NULL && m->envid[0] != '\0')
		conn_printf(c->conn, " ENVID=%s", m->envid);
	conn_write(c->conn, "\r\n", 2);
}

static void txn_write_rcpt(struct smtp_client *c, size_t i)
{
	const struct smtp_client_rcpt *r = &c->txn.msg->rcpts[i];

	conn_printf(c->conn, "RCPT TO:<%s>", r->address);
	if (c->ehlo.dsn && r->notify != 0) /* RFC 3461 4.1 */
		txn_write_notify(c->conn, r->notify);
	if (c->ehlo.dsn && r->orcpt != NULL && r->orcpt[0] != '\0')
		conn_printf(c->conn, " ORCPT=%s", r->orcpt); /* 4.2 */
	conn_write(c->conn, "\r\n", 2);
}

/* Write the next command of the transaction. */
static void txn_write_next(struct smtp_client *c)
{
	size_t i = 0;

	switch (txn_cmd(&c->txn, c->txn.next_out, &i)) {
	case SMTP_CMD_RSET:
		conn_write(c->conn, "RSET\r\n", 6);
		break;
	case SMTP_CMD_MAIL:
		txn_write_mail(c);
		break;
	case SMTP_CMD_RCPT:
		txn_write_rcpt(c, i);
		break;
	case SMTP_CMD_DATA:
		conn_write(c->conn, "DATA\r\n", 6);
		break;
	}
	c->txn.next_out++;
}

/* Bytes that cannot go into a command line (CTL, and SP for xtext). */
static bool txn_bad_string(const char *s, bool space_ok, bool *utf8)
{
	for (const unsigned char *p = (const void *)s; p != NULL && *p; p++) {
		if (*p < 0x20 || *p == 0x7f || (*p == ' ' && !space_ok))
			return true;
		if (*p >= 0x80)
			*utf8 = true;
	}
	return false;
}

/*
 * Does the message file hold an octet above 127? Read only for a server
 * without 8BITMIME, so the common case costs nothing. A read error says
 * no: the body pump meets it again and reports it.
 */
static bool txn_file_8bit(int fd)
{
	unsigned char buf[16384];
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] >= 0x80)
				return true;
		}
		off += n;
	}
	return false;
}

/* Refuse what cannot be sent here. Returns 0, or -1 with t->result. */
static int txn_check(struct smtp_client *c, const struct smtp_client_msg *m)
{
	struct smtp_client_txn *t = &c->txn;
	bool utf8 = m->smtputf8, xtext8 = false;
	bool bad = txn_bad_string(m->sender, true, &utf8) ||
		   txn_bad_string(m->envid, false, &xtext8);

	for (size_t i = 0; i < m->nrcpts; i++) {
		bad = bad || txn_bad_string(m->rcpts[i].address, true, &utf8);
		bad = bad || txn_bad_string(m->rcpts[i].orcpt, false, &utf8);
	}
	t->utf8 = utf8;
	if (bad || xtext8) {
		smtp_client_result_set(&t->result, SMTP_STAGE_MAIL, "5.5.2",
				       "control character in the envelope");
		return -1;
	}
	if (utf8 && !c->ehlo.smtputf8) { /* RFC 6531 3.2 */
		smtp_client_result_set(&t->result, SMTP_STAGE_MAIL, "5.6.7",
				       "the message needs SMTPUTF8, which "
				       "the server does not offer");
		return -1;
	}
	/*
	 * RFC 6152 3: 8-bit data only to a server that offers 8BITMIME.
	 * Declared (BODY=8BITMIME) or found in the file, it is not sent as
	 * is, and there is no conversion to 7 bits here: a permanent
	 * failure, as Postfix gives when it cannot convert.
	 */
	if (!c->ehlo.eightbitmime && (m->body_8bit || txn_file_8bit(m->fd))) {
		smtp_client_result_set(&t->result, SMTP_STAGE_MAIL, "5.6.3",
				       "the message has 8-bit data and the "
				       "server does not offer 8BITMIME");
		return -1;
	}
	if (c->ehlo.size && c->ehlo.size_max > 0 &&
	    m->size > c->ehlo.size_max) { /* RFC 1870 6.1 */
		smtp_client_result_set(&t->result, SMTP_STAGE_MAIL, "5.3.4",
				       "message size %" PRIu64
				       " exceeds the server's limit %" PRIu64,
				       m->size, c->ehlo.size_max);
		return -1;
	}
	return 0;
}

int smtp_client_send(struct smtp_client *c, struct smtp_client_msg *m)
{
	struct smtp_client_txn *t = &c->txn;

	if (!smtp_client_idle(c) || m->nrcpts == 0 ||
	    m->nrcpts > SMTP_CLIENT_RCPTS_MAX)
		return -1;
	memset(t, 0, sizeof(*t));
	t->msg = m;
	for (size_t i = 0; i < m->nrcpts; i++)
		memset(&m->rcpts[i].result, 0, sizeof(m->rcpts[i].result));
	if (txn_check(c, m) < 0) {
		t->refused = true;
		smtp_client_kick(c); /* sent() from the loop */
		return 0;
	}
	t->rset = c->need_rset;
	t->count = (t->rset ? 1 : 0) + 1 + m->nrcpts + 1;
	smtp_client_set_state(c, SMTP_CLIENT_TXN);
	/* RFC 2920 3.1: DATA ends the group; it needs no earlier reply. */
	if (c->ehlo.pipelining) {
		while (t->next_out < t->count)
			txn_write_next(c);
	} else {
		txn_write_next(c);
	}
	return 0;
}

void smtp_client_txn_finish(struct smtp_client *c,
			    const struct smtp_client_result *r)
{
	struct smtp_client_txn *t = &c->txn;
	struct smtp_client_msg *m = t->msg;
	struct smtp_client_result res = *r;

	for (size_t i = 0; i < m->nrcpts; i++) {
		struct smtp_client_result *rr = &m->rcpts[i].result;

		/* A RCPT refusal is that recipient's final word. */
		if (rr->stage == SMTP_STAGE_RCPT && rr->code >= 400)
			continue;
		*rr = res;
	}
	log_debug(c->sid, "smtp client message", "stage=%s code=%d status=%s",
		  smtp_client_stage_name(res.stage), res.code, res.status);
	xfree(&t->in);
	xfree(&t->out);
	memset(t, 0, sizeof(*t));
	if (!smtp_client_gone(c) && c->cb.sent != NULL)
		c->cb.sent(c, m, &res, c->arg);
}

void smtp_client_txn_refused(struct smtp_client *c)
{
	if (!c->txn.refused || c->txn.msg == NULL)
		return;
	smtp_client_txn_finish(c, &c->txn.result);
}

/* The transaction is over on both sides: back to idle and report. */
static void txn_end(struct smtp_client *c)
{
	smtp_client_set_state(c, SMTP_CLIENT_READY);
	smtp_client_txn_finish(c, &c->txn.result);
}

/* Every RCPT was refused: the message's outcome is the last refusal. */
static void txn_all_refused(struct smtp_client_txn *t)
{
	t->result = t->msg->rcpts[t->last_refused].result;
}

/*
 * RFC 5321 4.5.2: a line starting with "." gets one more. Bare CR and
 * bare LF become CRLF (a CR at the end of a chunk waits for the next).
 * Writes at most 2 * n + 2 bytes to out; returns how many.
 */
static size_t client_stuff(struct smtp_client_txn *t, const char *in, size_t n,
			   char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char ch = in[i];

		if (t->pending_cr) {
			t->pending_cr = false;
			out[o++] = '\r';
			out[o++] = '\n';
			t->line_start = true;
			if (ch == '\n')
				continue;
		}
		if (ch == '\r') {
			t->pending_cr = true;
		} else if (ch == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
			t->line_start = true;
		} else {
			if (t->line_start && ch == '.')
				out[o++] = '.';
			out[o++] = ch;
			t->line_start = false;
		}
	}
	return o;
}

/* RFC 5321 4.1.1.4: the data ends with CRLF "." CRLF. */
static void body_end(struct smtp_client *c)
{
	struct smtp_client_txn *t = &c->txn;

	if (t->pending_cr || !t->line_start)
		conn_write(c->conn, "\r\n", 2);
	conn_write(c->conn, ".\r\n", 3);
	xfree(&t->in);
	xfree(&t->out);
	smtp_client_set_state(c, SMTP_CLIENT_DOT);
	smtp_client_kick(c); /* a reply that came early is read now */
}

void smtp_client_body_pump(struct smtp_client *c)
{
	struct smtp_client_txn *t = &c->txn;
	struct smtp_client_result r;

	while (!conn_output_blocked(c->conn)) {
		ssize_t n = pread(t->msg->fd, t->in, CLIENT_BODY_CHUNK, t->off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* Data cannot be taken back: only closing stops it. */
			smtp_client_result_set(&r, SMTP_STAGE_BODY, "4.3.0",
					       "cannot read the message: %s",
					       strerror(errno));
			smtp_client_fail(c, &r, false);
			return;
		}
		if (n == 0) {
			body_end(c);
			return;
		}
		t->off += n;
		conn_write(c->conn, t->out,
			   client_stuff(t, t->in, (size_t)n, t->out));
	}
	smtp_client_arm(c, 3); /* RFC 5321 4.5.3.2.5, again on progress */
}

static void body_start(struct smtp_client *c)
{
	struct smtp_client_txn *t = &c->txn;

	t->off = 0;
	t->line_start = true;
	t->pending_cr = false;
	t->in = xmalloc(CLIENT_BODY_CHUNK);
	t->out = xmalloc(CLIENT_BODY_OUT);
	smtp_client_set_state(c, SMTP_CLIENT_BODY);
	smtp_client_body_pump(c);
}

static void txn_data_reply(struct smtp_client *c,
			   const struct smtp_reply *reply)
{
	struct smtp_client_txn *t = &c->txn;

	if (reply->code == 354) {
		if (t->mail_ok && t->accepted > 0) {
			body_start(c);
			return;
		}
		/* RFC 2920 3.1: DATA accepted with no recipient: "." ends
		 * the empty message. */
		t->dot_only = true;
		conn_write(c->conn, ".\r\n", 3);
		smtp_client_set_state(c, SMTP_CLIENT_DOT);
		return;
	}
	if (t->mail_ok && t->accepted > 0)
		smtp_client_result_reply(&t->result, SMTP_STAGE_DATA, reply);
	else if (t->mail_ok)
		txn_all_refused(t);
	txn_end(c);
}

static void txn_dot_reply(struct smtp_client *c, const struct smtp_reply *reply)
{
	struct smtp_client_txn *t = &c->txn;

	if (!t->dot_only)
		smtp_client_result_reply(&t->result, SMTP_STAGE_BODY, reply);
	else if (t->mail_ok)
		txn_all_refused(t);
	c->need_rset = false; /* whatever the reply, the transaction ended */
	txn_end(c);
}

/* After the reply to RSET, MAIL or RCPT: the next command, or the end. */
static void txn_next(struct smtp_client *c, enum smtp_client_cmd answered)
{
	struct smtp_client_txn *t = &c->txn;
	size_t i = 0;

	/* Not pipelined: stop at a refused MAIL, skip a needless DATA. */
	if (t->next_out < t->count) {
		if (answered == SMTP_CMD_MAIL && !t->mail_ok) {
			txn_end(c);
			return;
		}
		if (txn_cmd(t, t->next_out, &i) == SMTP_CMD_DATA &&
		    t->accepted == 0) {
			txn_all_refused(t);
			txn_end(c);
			return;
		}
		txn_write_next(c);
	}
	smtp_client_arm(c, smtp_client_txn_minutes(c));
}

void smtp_client_txn_reply(struct smtp_client *c,
			   const struct smtp_reply *reply)
{
	struct smtp_client_txn *t = &c->txn;
	struct smtp_client_result r;
	enum smtp_client_cmd cmd;
	size_t i = 0;
	bool ok = reply->code / 100 == 2;

	if (c->state == SMTP_CLIENT_DOT) {
		txn_dot_reply(c, reply);
		return;
	}
	cmd = txn_cmd(t, t->next_in++, &i);
	switch (cmd) {
	case SMTP_CMD_RSET:
		if (!ok) { /* RFC 5321 4.1.1.5: RSET cannot fail */
			smtp_client_result_reply(&r, SMTP_STAGE_MAIL, reply);
			smtp_client_fail(c, &r, reply->code != 421);
			return;
		}
		c->need_rset = false;
		break;
	case SMTP_CMD_MAIL:
		t->mail_ok = ok;
		if (ok)
			c->need_rset = true; /* until the end of data */
		else
			smtp_client_result_reply(&t->result, SMTP_STAGE_MAIL,
						 reply);
		break;
	case SMTP_CMD_RCPT:
		/* After a refused MAIL the RCPT replies say nothing new. */
		if (!t->mail_ok)
			break;
		smtp_client_result_reply(&t->msg->rcpts[i].result,
					 SMTP_STAGE_RCPT, reply);
		if (ok)
			t->accepted++;
		else
			t->last_refused = i;
		break;
	case SMTP_CMD_DATA:
		txn_data_reply(c, reply);
		return;
	}
	txn_next(c, cmd);
}
