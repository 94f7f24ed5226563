/*
 * POP3 TRANSACTION and UPDATE states (RFC 1939 5, 6, 7): the maildrop as
 * it was at login, numbered 1..n; DELE only marks, QUIT removes.
 *
 * Multi-line responses (RETR, TOP, LIST, UIDL) are written in pieces
 * while the connection's output drains (conn_output_blocked, then
 * CONN_EV_FLUSHED), so a large message never queues more than about
 * LIMIT_CONN_OUTPUT_HIGH plus one chunk.
 *
 * SECURITY: message numbers come from the client and are checked against
 * the snapshot before any index; sizes come from the store.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "pop3/session_int.h"
#include "store/store.h"

/* Messages not marked deleted, and their octets (RFC 1939 5 STAT). */
static void pop3_drop_totals(const struct pop3_session *s, size_t *n_r,
			     uint64_t *octets_r)
{
	*n_r = 0;
	*octets_r = 0;
	for (size_t i = 0; i < s->nmsgs; i++) {
		if (s->msgs[i].deleted)
			continue;
		(*n_r)++;
		*octets_r += s->msgs[i].size;
	}
}

/*
 * The message a parameter names: a number 1..n not marked deleted.
 * Returns its index, or -1 after answering -ERR.
 */
static long pop3_msg_arg(struct pop3_session *s, const struct pop3_arg *arg)
{
	uint32_t n;

	if (pop3_parse_number(arg->p, arg->len, &n) < 0) {
		pop3_err_count(s, "Invalid message number");
		return -1;
	}
	if (n == 0 || n > s->nmsgs) {
		pop3_err(s, NULL,
			 "No such message, only %zu messages in "
			 "maildrop",
			 s->nmsgs);
		return -1;
	}
	if (s->msgs[n - 1].deleted) {
		pop3_err(s, NULL, "Message %u already deleted", n);
		return -1;
	}
	return (long)n - 1;
}

void pop3_cmd_stat(struct pop3_session *s, const struct pop3_command *cmd)
{
	size_t n;
	uint64_t octets;

	(void)cmd;
	pop3_drop_totals(s, &n, &octets);
	/* RFC 1939 5: exactly "+OK nn mm" */
	pop3_ok(s, "%zu %llu", n, (unsigned long long)octets);
}

/* Start a multi-line listing and write what fits now. */
static void pop3_send_start(struct pop3_session *s, enum pop3_send_kind kind)
{
	s->send.kind = kind;
	s->send.next = 0;
	s->send.progress = 0;
	s->send.at_timeout = 0;
	pop3_send_pump(s);
}

void pop3_cmd_list(struct pop3_session *s, const struct pop3_command *cmd)
{
	size_t n;
	uint64_t octets;
	long i;

	if (cmd->argc == 1) {
		i = pop3_msg_arg(s, &cmd->args[0]);
		if (i >= 0)
			pop3_ok(s, "%ld %llu", i + 1,
				(unsigned long long)s->msgs[i].size);
		return;
	}
	pop3_drop_totals(s, &n, &octets);
	pop3_ok(s, "%zu messages (%llu octets)", n, (unsigned long long)octets);
	pop3_send_start(s, POP3_SEND_LIST);
}

void pop3_cmd_uidl(struct pop3_session *s, const struct pop3_command *cmd)
{
	char uidl[POP3_UIDL_MAX + 1];
	long i;

	if (cmd->argc == 1) {
		i = pop3_msg_arg(s, &cmd->args[0]);
		if (i < 0)
			return;
		pop3_uidl(s->uidvalidity, s->msgs[i].uid, uidl, sizeof(uidl));
		pop3_ok(s, "%ld %s", i + 1, uidl);
		return;
	}
	pop3_ok(s, "Unique-id listing follows");
	pop3_send_start(s, POP3_SEND_UIDL);
}

/* RETR and TOP: load the message and start sending it. */
static void pop3_send_message(struct pop3_session *s, long i, bool top,
			      uint32_t lines)
{
	const char *error = "";
	char *data = NULL;
	size_t len = 0;
	int rc = store_msg_load(s->mb, s->msgs[i].uid, &data, &len, &error);

	if (rc == STORE_ERR_EXPUNGED) {
		pop3_err(s, NULL, "Message %ld was removed by another session",
			 i + 1);
		return;
	}
	if (rc < 0) {
		log_warn(conn_sid(s->conn), "message load failed",
			 "user=%s uid=%u error=%s",
			 log_qs((char[400]){0}, 400, s->login), s->msgs[i].uid,
			 log_qs((char[300]){0}, 300, error));
		pop3_err(s, "SYS/TEMP", "Cannot read message %ld", i + 1);
		return;
	}
	if (top) {
		pop3_ok(s, "Top of message follows");
	} else {
		s->msgs[i].retrieved = true;
		pop3_ok(s, "%zu octets", len);
	}
	s->send.data = data;
	s->send.len = len;
	s->send.off = 0;
	pop3_dotstuff_init(&s->send.ds, top, lines);
	pop3_send_start(s, POP3_SEND_BODY);
}

void pop3_cmd_retr(struct pop3_session *s, const struct pop3_command *cmd)
{
	long i = pop3_msg_arg(s, &cmd->args[0]);

	if (i >= 0)
		pop3_send_message(s, i, false, 0);
}

/* RFC 1939 7 TOP msg n */
void pop3_cmd_top(struct pop3_session *s, const struct pop3_command *cmd)
{
	uint32_t lines;
	long i;

	if (pop3_parse_number(cmd->args[1].p, cmd->args[1].len, &lines) < 0) {
		pop3_err_count(s, "Invalid number of lines");
		return;
	}
	i = pop3_msg_arg(s, &cmd->args[0]);
	if (i >= 0)
		pop3_send_message(s, i, true, lines);
}

void pop3_cmd_dele(struct pop3_session *s, const struct pop3_command *cmd)
{
	long i = pop3_msg_arg(s, &cmd->args[0]);

	if (i < 0)
		return;
	/* RFC 1939 5: removed only in the UPDATE state */
	s->msgs[i].deleted = true;
	pop3_ok(s, "Message %ld deleted", i + 1);
}

void pop3_cmd_noop(struct pop3_session *s, const struct pop3_command *cmd)
{
	(void)cmd;
	conn_printf(s->conn, "+OK\r\n");
}

void pop3_cmd_rset(struct pop3_session *s, const struct pop3_command *cmd)
{
	size_t n;
	uint64_t octets;

	(void)cmd;
	for (size_t i = 0; i < s->nmsgs; i++)
		s->msgs[i].deleted = false;
	pop3_drop_totals(s, &n, &octets);
	pop3_ok(s, "Maildrop has %zu messages (%llu octets)", n,
		(unsigned long long)octets);
}

/* RETR'd messages that stay get \Seen, as an IMAP client would see. */
static void pop3_mark_seen(struct pop3_session *s)
{
	const char *error = NULL;

	for (size_t i = 0; i < s->nmsgs; i++) {
		const struct pop3_msg *m = &s->msgs[i];

		if (!m->retrieved || m->deleted || m->seen)
			continue;
		if (store_msg_set_flags(s->mb, m->uid, STORE_FLAGS_ADD,
					STORE_F_SEEN, NULL, 0, &error) < 0)
			log_debug(conn_sid(s->conn), "seen flag not set",
				  "uid=%u error=%s", m->uid,
				  log_qs((char[300]){0}, 300, error));
	}
}

/* Remove the DELE'd messages; returns how many, or -1 on failure. */
static long pop3_expunge(struct pop3_session *s)
{
	uint32_t *uids = xcalloc(s->nmsgs > 0 ? s->nmsgs : 1, sizeof(*uids));
	const char *error = "";
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; i < s->nmsgs; i++) {
		if (s->msgs[i].deleted)
			uids[n++] = s->msgs[i].uid;
	}
	if (n > 0)
		rc = store_expunge(s->mb, uids, n, &error);
	free(uids);
	if (rc < 0) {
		log_warn(conn_sid(s->conn), "expunge failed",
			 "user=%s error=%s",
			 log_qs((char[400]){0}, 400, s->login),
			 log_qs((char[300]){0}, 300, error));
		return -1;
	}
	return (long)n;
}

/* RFC 1939 6: QUIT from TRANSACTION; the caller closes. */
void pop3_cmd_quit_update(struct pop3_session *s,
			  const struct pop3_command *cmd)
{
	char q[400];
	long n;

	(void)cmd;
	pop3_set_state(s, POP3_STATE_UPDATE);
	pop3_mark_seen(s);
	n = pop3_expunge(s);
	/* Released before the reply, so the client may log in again at
	 * once without meeting its own lock. */
	pop3_maildrop_close(s);
	log_info(conn_sid(s->conn), "logout", "user=%s deleted=%ld",
		 log_qs(q, sizeof(q), s->login), n);
	if (n < 0)
		pop3_err(s, "SYS/TEMP",
			 "Some deleted messages were not removed");
	else
		pop3_ok(s, "%s postern signing off (%ld messages deleted)",
			s->srv->hostname, n);
}

void pop3_send_reset(struct pop3_session *s)
{
	xfree(&s->send.data);
	s->send.kind = POP3_SEND_NONE;
}

/* One scan or unique-id listing; false when the list is done. */
static bool pop3_send_listing(struct pop3_session *s)
{
	char uidl[POP3_UIDL_MAX + 1];
	const struct pop3_msg *m;

	while (s->send.next < s->nmsgs && s->msgs[s->send.next].deleted)
		s->send.next++;
	if (s->send.next == s->nmsgs)
		return false;
	m = &s->msgs[s->send.next++];
	if (s->send.kind == POP3_SEND_LIST) {
		conn_printf(s->conn, "%zu %llu\r\n", s->send.next,
			    (unsigned long long)m->size);
	} else {
		pop3_uidl(s->uidvalidity, m->uid, uidl, sizeof(uidl));
		conn_printf(s->conn, "%zu %s\r\n", s->send.next, uidl);
	}
	s->send.progress++;
	return true;
}

/* One chunk of the message, byte-stuffed; false when it is all sent. */
static bool pop3_send_chunk(struct pop3_session *s)
{
	char out[POP3_SEND_CHUNK];
	size_t olen = 0, used;

	if (s->send.off == s->send.len || s->send.ds.done)
		return false;
	used = pop3_dotstuff(&s->send.ds, s->send.data + s->send.off,
			     s->send.len - s->send.off, out, sizeof(out),
			     &olen);
	conn_write(s->conn, out, olen);
	s->send.off += used;
	s->send.progress += olen;
	return true;
}

bool pop3_send_pump(struct pop3_session *s)
{
	char end[8];
	bool more = true;

	while (more && !conn_output_blocked(s->conn)) {
		if (s->send.kind == POP3_SEND_BODY)
			more = pop3_send_chunk(s);
		else
			more = pop3_send_listing(s);
	}
	if (more)
		return false; /* CONN_EV_FLUSHED calls again */
	if (s->send.kind == POP3_SEND_BODY)
		conn_write(s->conn, end,
			   pop3_dotstuff_end(&s->send.ds, end, sizeof(end)));
	else
		conn_write(s->conn, ".\r\n", 3);
	pop3_send_reset(s);
	return true;
}
