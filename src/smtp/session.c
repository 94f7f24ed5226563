/*
 * SMTP server session: lifecycle, input loop, the command table and its
 * dispatcher, replies.
 *
 * SECURITY: hostile input. The table below is the one place that says
 * which command is allowed when; handlers never re-check it.
 */
#include "smtp/session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cidr.h"
#include "lib/limits.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "smtp/session_int.h"

/* Flags of a command table row. */
#define CMD_NO_ARG 0x01 /* takes no argument (RFC 5321 4.1.1) */

static const struct smtp_command {
	enum smtp_verb verb;
	smtp_handler *handler;
	unsigned states; /* SMTP_STATE_* where it is allowed */
	unsigned flags;
} smtp_commands[] = {
	{SMTP_VERB_EHLO, smtp_cmd_ehlo, SMTP_STATES_COMMAND, 0},
	{SMTP_VERB_HELO, smtp_cmd_helo, SMTP_STATES_COMMAND, 0},
	{SMTP_VERB_MAIL, smtp_cmd_mail, SMTP_STATE_HELO, 0},
	{SMTP_VERB_RCPT, smtp_cmd_rcpt, SMTP_STATE_MAIL | SMTP_STATE_RCPT, 0},
	{SMTP_VERB_DATA, smtp_cmd_data, SMTP_STATE_MAIL | SMTP_STATE_RCPT,
	 CMD_NO_ARG},
	{SMTP_VERB_BDAT, smtp_cmd_bdat,
	 SMTP_STATE_MAIL | SMTP_STATE_RCPT | SMTP_STATE_CHUNK, 0},
	{SMTP_VERB_RSET, smtp_cmd_rset, SMTP_STATES_COMMAND, CMD_NO_ARG},
	{SMTP_VERB_NOOP, smtp_cmd_noop, SMTP_STATES_COMMAND, 0},
	{SMTP_VERB_QUIT, smtp_cmd_quit, SMTP_STATES_COMMAND, CMD_NO_ARG},
	{SMTP_VERB_VRFY, smtp_cmd_vrfy, SMTP_STATES_COMMAND, 0},
	{SMTP_VERB_EXPN, smtp_cmd_expn, SMTP_STATES_COMMAND, 0},
	{SMTP_VERB_HELP, smtp_cmd_help, SMTP_STATES_COMMAND, 0},
	/* RFC 1985 5: not inside a mail transaction. */
	{SMTP_VERB_ETRN, smtp_cmd_etrn, SMTP_STATE_HELO, 0},
	{SMTP_VERB_STARTTLS, smtp_cmd_starttls,
	 SMTP_STATE_INIT | SMTP_STATE_HELO, CMD_NO_ARG},
	{SMTP_VERB_AUTH, smtp_cmd_auth, SMTP_STATE_HELO, 0},
};

static const char *smtp_state_name(enum smtp_state state)
{
	switch (state) {
	case SMTP_STATE_INIT:
		return "init";
	case SMTP_STATE_HELO:
		return "helo";
	case SMTP_STATE_MAIL:
		return "mail";
	case SMTP_STATE_RCPT:
		return "rcpt";
	case SMTP_STATE_DATA:
		return "data";
	case SMTP_STATE_BDAT:
		return "bdat";
	case SMTP_STATE_CHUNK:
		return "chunk";
	case SMTP_STATE_QUIT:
		return "quit";
	case SMTP_STATE_AUTH:
		return "auth";
	}
	return "?";
}

void smtp_session_set_state(struct smtp_session *s, enum smtp_state state)
{
	bool body = state == SMTP_STATE_DATA || state == SMTP_STATE_BDAT;

	if (s->state == state)
		return;
	log_debug(conn_sid(s->conn), "state", "from=%s to=%s",
		  smtp_state_name(s->state), smtp_state_name(state));
	s->state = state;
	/* RFC 5321 4.5.3.2: different waits for commands and for data. */
	conn_set_timeout(s->conn,
			 body ? s->srv->data_timeout : s->srv->idle_timeout);
}

static void __attribute__((format(printf, 4, 0)))
smtp_vreply(struct smtp_session *s, int code, const char *status,
	    const char *fmt, va_list ap)
{
	char text[512];

	vsnprintf(text, sizeof(text), fmt, ap);
	if (status != NULL)
		conn_printf(s->conn, "%d %s %s\r\n", code, status, text);
	else
		conn_printf(s->conn, "%d %s\r\n", code, text);
}

void smtp_reply(struct smtp_session *s, int code, const char *status,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	smtp_vreply(s, code, status, fmt, ap);
	va_end(ap);
}

/* Too many errors: say so and hang up (RFC 5321 4.3.2 allows 421). */
static void smtp_error_limit(struct smtp_session *s)
{
	log_info(conn_sid(s->conn), "too many errors", "peer=%s errors=%d",
		 conn_peer_ip(s->conn), s->errors);
	smtp_reply(s, 421, "4.7.0", "%s Too many errors, closing connection",
		   s->srv->hostname);
	smtp_session_set_state(s, SMTP_STATE_QUIT);
	conn_close(s->conn);
}

void smtp_reply_error(struct smtp_session *s, int code, const char *status,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	smtp_vreply(s, code, status, fmt, ap);
	va_end(ap);
	if (++s->errors >= s->srv->max_errors)
		smtp_error_limit(s);
}

void smtp_reply_parse_error(struct smtp_session *s,
			    const struct smtp_error *err)
{
	smtp_reply_error(s, err->code, err->status, "%s", err->text);
}

unsigned smtp_session_exts(const struct smtp_session *s)
{
	if (!s->esmtp)
		return 0;
	return SMTP_EXT_SIZE | SMTP_EXT_8BITMIME | SMTP_EXT_SMTPUTF8 |
	       SMTP_EXT_DSN | (smtp_auth_offered(s) ? SMTP_EXT_AUTH : 0);
}

static const struct smtp_command *smtp_command_find(enum smtp_verb verb)
{
	for (size_t i = 0; i < sizeof(smtp_commands) / sizeof(smtp_commands[0]);
	     i++) {
		if (smtp_commands[i].verb == verb)
			return &smtp_commands[i];
	}
	return NULL;
}

/* The dispatcher: the table's rules, then the handler. */
static void smtp_dispatch(struct smtp_session *s, const char *line, size_t len)
{
	const struct smtp_command *cmd;
	enum smtp_verb verb;
	const char *arg;
	size_t arg_len;

	verb = smtp_parse_verb(line, len, &arg, &arg_len);
	cmd = smtp_command_find(verb);
	if (cmd == NULL) {
		smtp_reply_error(s, 500, "5.5.2", "Command not recognized");
		return;
	}
	if ((cmd->states & s->state) == 0) {
		smtp_reply_error(s, 503, "5.5.1", "Bad sequence of commands");
		return;
	}
	if ((cmd->flags & CMD_NO_ARG) && arg_len > 0) {
		smtp_reply_error(s, 501, "5.5.4",
				 "Syntax: %s takes no "
				 "argument",
				 smtp_verb_name(verb));
		return;
	}
	cmd->handler(s, arg, arg_len);
}

/* One command line, or the line reader's complaint about it. */
static void smtp_line(struct smtp_session *s, enum linereader_result r,
		      const char *line, size_t len, unsigned flags)
{
	if (r == LINE_TOO_LONG)
		/* RFC 5321 4.5.3.1.4, 4.5.3.1.10 */
		smtp_reply_error(s, 500, "5.5.2", "Line too long");
	else if (r != LINE_OK)
		smtp_reply_error(s, 500, "5.5.2",
				 "Command lines end in CRLF, not a bare CR "
				 "or LF");
	else if (flags & LINE_F_NUL)
		smtp_reply_error(s, 500, "5.5.2", "NUL in command line");
	else if (s->state == SMTP_STATE_AUTH)
		smtp_auth_input(s, line, len);
	else
		smtp_dispatch(s, line, len);
	if (r != LINE_OK && s->state == SMTP_STATE_AUTH)
		smtp_auth_reset(s); /* a broken response ends the exchange */
}

/*
 * Read and run what is buffered, in order: command lines, then body data
 * when a command switched to it. Stops while output is backed up.
 */
static void smtp_input(struct smtp_session *s)
{
	const char *line;
	size_t len;
	unsigned flags;

	while (!conn_output_blocked(s->conn)) {
		enum linereader_result r;

		if (s->auth_checking)
			return; /* resumed when the password check is over */
		if (s->state == SMTP_STATE_DATA ||
		    s->state == SMTP_STATE_BDAT) {
			if (smtp_txn_body_input(s))
				return; /* waits for more body */
			continue;
		}
		if ((s->state & (SMTP_STATES_COMMAND | SMTP_STATE_AUTH)) == 0)
			return; /* QUIT */
		r = conn_read_line(s->conn, &line, &len, &flags);
		if (r == LINE_MORE)
			return;
		smtp_line(s, r, line, len, flags);
	}
	conn_pause(s->conn); /* resumed by CONN_EV_FLUSHED */
}

static void smtp_session_free(struct smtp_session **sp)
{
	struct smtp_session *s = *sp;

	if (s == NULL)
		return;
	smtp_txn_reset(s);
	smtp_auth_reset(s);
	conn_free(&s->conn);
	free(s);
	*sp = NULL;
}

static void smtp_on_conn(struct conn *conn, enum conn_event ev, void *arg)
{
	struct smtp_session *s = arg;

	switch (ev) {
	case CONN_EV_DATA:
		smtp_input(s);
		break;
	case CONN_EV_FLUSHED:
		conn_resume(conn);
		break;
	case CONN_EV_WAKE:
		smtp_session_wake(s);
		break;
	case CONN_EV_TLS_DONE:
		log_info(conn_sid(conn), "starttls", "version=%s cipher=%s",
			 conn_tls_version(conn), conn_tls_cipher(conn));
		break;
	case CONN_EV_TIMEOUT:
		/* RFC 5321 4.5.3.2: the server may close an idle session. */
		smtp_reply(s, 421, "4.4.2", "%s Timeout, closing connection",
			   s->srv->hostname);
		smtp_session_set_state(s, SMTP_STATE_QUIT);
		conn_close(conn);
		break;
	case CONN_EV_SHUTDOWN:
		/* A body in flight finishes; the 421 comes after it. */
		if (s->state == SMTP_STATE_DATA || s->state == SMTP_STATE_BDAT)
			break;
		smtp_reply(s, 421, "4.3.2", "%s Service shutting down",
			   s->srv->hostname);
		smtp_session_set_state(s, SMTP_STATE_QUIT);
		conn_close(conn);
		break;
	case CONN_EV_CLOSED:
		log_info(conn_sid(conn), "disconnect", "peer=%s errors=%d",
			 conn_peer_ip(conn), s->errors);
		smtp_session_free(&s);
		break;
	}
}

static struct smtp_session *smtp_session_new(struct conn *conn,
					     const struct smtp_server *srv)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));

	s->conn = conn;
	s->srv = srv;
	s->state = SMTP_STATE_INIT;
	for (size_t i = 0; i < srv->relay_count; i++) {
		if (cidr_match(&srv->relay_networks[i], conn_peer_ip(conn)))
			s->relay_ok = true;
	}
	conn_set_max_line(conn, LIMIT_SMTP_COMMAND_LINE);
	conn_set_timeout(conn, srv->idle_timeout);
	conn_set_callback(conn, smtp_on_conn, s);
	return s;
}

void smtp_session_start(struct conn *conn, const struct smtp_server *srv)
{
	struct smtp_session *s = smtp_session_new(conn, srv);

	/* RFC 5321 4.3.1 */
	smtp_reply(s, 220, NULL, "%s ESMTP postern", srv->hostname);
}

void smtp_session_refuse(struct conn *conn, const struct smtp_server *srv,
			 const char *why)
{
	struct smtp_session *s = smtp_session_new(conn, srv);

	smtp_reply(s, 421, "4.7.0", "%s %s, try again later", srv->hostname,
		   why);
	smtp_session_set_state(s, SMTP_STATE_QUIT);
	conn_close(conn);
}
