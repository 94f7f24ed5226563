/*
 * POP3 server session (RFC 1939, 2449, 2595, 5034): lifecycle, input
 * loop, the command table and its dispatcher, replies, CAPA and STLS.
 *
 * SECURITY: hostile input before login. The table below is the one place
 * that says which command is allowed when and which ones carry
 * credentials (refused before TLS); handlers never re-check it.
 */
#include "pop3/session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "pop3/session_int.h"

/* Flags of a command table row. */
#define CMD_CREDENTIALS 0x01 /* carries a password: only over TLS */

#define AUTH_STATES POP3_STATE_AUTHORIZATION
#define TXN_STATES POP3_STATE_TRANSACTION
#define ANY_STATE (POP3_STATE_AUTHORIZATION | POP3_STATE_TRANSACTION)

static pop3_handler pop3_cmd_capa, pop3_cmd_stls, pop3_cmd_quit;

static const struct pop3_command_def {
	enum pop3_cmd cmd;
	pop3_handler *handler;
	unsigned states; /* POP3_STATE_* where it is allowed */
	unsigned flags;
} pop3_commands[] = {
	/* RFC 2449 5: CAPA in both states. */
	{POP3_CMD_CAPA, pop3_cmd_capa, ANY_STATE, 0},
	/* RFC 2595 4: STLS only in AUTHORIZATION. */
	{POP3_CMD_STLS, pop3_cmd_stls, AUTH_STATES, 0},
	{POP3_CMD_USER, pop3_cmd_user, AUTH_STATES, CMD_CREDENTIALS},
	{POP3_CMD_PASS, pop3_cmd_pass, AUTH_STATES, CMD_CREDENTIALS},
	{POP3_CMD_AUTH, pop3_cmd_auth, AUTH_STATES, CMD_CREDENTIALS},
	{POP3_CMD_APOP, pop3_cmd_apop, AUTH_STATES, 0},
	{POP3_CMD_STAT, pop3_cmd_stat, TXN_STATES, 0},
	{POP3_CMD_LIST, pop3_cmd_list, TXN_STATES, 0},
	{POP3_CMD_RETR, pop3_cmd_retr, TXN_STATES, 0},
	{POP3_CMD_TOP, pop3_cmd_top, TXN_STATES, 0},
	{POP3_CMD_DELE, pop3_cmd_dele, TXN_STATES, 0},
	{POP3_CMD_NOOP, pop3_cmd_noop, TXN_STATES, 0},
	{POP3_CMD_RSET, pop3_cmd_rset, TXN_STATES, 0},
	{POP3_CMD_UIDL, pop3_cmd_uidl, TXN_STATES, 0},
	{POP3_CMD_QUIT, pop3_cmd_quit, ANY_STATE, 0},
};

static const char *pop3_state_name(enum pop3_state state)
{
	switch (state) {
	case POP3_STATE_AUTHORIZATION:
		return "authorization";
	case POP3_STATE_SASL:
		return "sasl";
	case POP3_STATE_TRANSACTION:
		return "transaction";
	case POP3_STATE_UPDATE:
		return "update";
	case POP3_STATE_DONE:
		return "done";
	}
	return "?";
}

void pop3_set_state(struct pop3_session *s, enum pop3_state state)
{
	if (s->state == state)
		return;
	log_debug(conn_sid(s->conn), "state", "from=%s to=%s",
		  pop3_state_name(s->state), pop3_state_name(state));
	s->state = state;
}

/* One response line, cut to RFC 2449 4's 512 octets with CRLF. */
static void __attribute__((format(printf, 4, 0)))
pop3_vreply(struct pop3_session *s, const char *status, const char *code,
	    const char *fmt, va_list ap)
{
	char text[POP3_RESPONSE_MAX];
	int n;

	if (code != NULL)
		n = snprintf(text, sizeof(text), "%s [%s] ", status, code);
	else
		n = snprintf(text, sizeof(text), "%s ", status);
	if (n < 0 || (size_t)n >= sizeof(text))
		panic("pop3 reply prefix too long");
	vsnprintf(text + n, sizeof(text) - 2 - (size_t)n, fmt, ap);
	conn_printf(s->conn, "%s\r\n", text);
}

void pop3_ok(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pop3_vreply(s, "+OK", NULL, fmt, ap);
	va_end(ap);
}

void pop3_err(struct pop3_session *s, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pop3_vreply(s, "-ERR", code, fmt, ap);
	va_end(ap);
}

/* Hang up without the UPDATE state: nothing is deleted (RFC 1939 6). */
static void pop3_hangup(struct pop3_session *s)
{
	pop3_sasl_reset(s);
	pop3_set_state(s, POP3_STATE_DONE);
	conn_close(s->conn);
}

void pop3_err_count(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pop3_vreply(s, "-ERR", NULL, fmt, ap);
	va_end(ap);
	if (++s->errors < POP3_MAX_ERRORS)
		return;
	log_info(conn_sid(s->conn), "too many errors", "peer=%s errors=%d",
		 conn_peer_ip(s->conn), s->errors);
	pop3_err(s, NULL, "Too many errors, closing connection");
	pop3_hangup(s);
}

bool pop3_auth_allowed(const struct pop3_session *s)
{
	return conn_is_tls(s->conn);
}

/* RFC 2449 5, 6; RFC 2595 4; RFC 5034 3. */
static void pop3_cmd_capa(struct pop3_session *s,
			  const struct pop3_command *cmd)
{
	struct conn *c = s->conn;

	(void)cmd;
	pop3_ok(s, "Capability list follows");
	conn_printf(c, "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
		       "PIPELINING\r\n");
	/* Announced in both states once TLS is up; never before it. */
	if (pop3_auth_allowed(s))
		conn_printf(c, "USER\r\nSASL %s\r\n", sasl_mech_list());
	if (s->state == POP3_STATE_AUTHORIZATION && s->srv->starttls &&
	    s->srv->tls != NULL && !conn_is_tls(c))
		conn_printf(c, "STLS\r\n");
	conn_printf(c, "IMPLEMENTATION postern\r\n.\r\n");
}

/* RFC 2595 4 */
static void pop3_cmd_stls(struct pop3_session *s,
			  const struct pop3_command *cmd)
{
	(void)cmd;
	if (conn_is_tls(s->conn)) {
		pop3_err_count(s, "Command not permitted when TLS active");
		return;
	}
	if (!s->srv->starttls || s->srv->tls == NULL) {
		pop3_err_count(s, "STLS not available");
		return;
	}
	pop3_ok(s, "Begin TLS negotiation");
	/* SECURITY: drops what was pipelined after STLS in plaintext. */
	conn_start_tls(s->conn, s->srv->tls, NULL);
	s->user[0] = '\0';
}

/* QUIT: from TRANSACTION it enters the UPDATE state (RFC 1939 6). */
static void pop3_cmd_quit(struct pop3_session *s,
			  const struct pop3_command *cmd)
{
	if (s->state == POP3_STATE_TRANSACTION) {
		pop3_cmd_quit_update(s, cmd);
	} else {
		/* RFC 1939 4: QUIT in AUTHORIZATION */
		pop3_ok(s, "%s postern signing off", s->srv->hostname);
	}
	pop3_set_state(s, POP3_STATE_DONE);
	conn_close(s->conn);
}

static const struct pop3_command_def *pop3_command_find(enum pop3_cmd cmd)
{
	for (size_t i = 0; i < sizeof(pop3_commands) / sizeof(pop3_commands[0]);
	     i++) {
		if (pop3_commands[i].cmd == cmd)
			return &pop3_commands[i];
	}
	return NULL;
}

/* The dispatcher: the table's rules, then the handler. */
static void pop3_dispatch(struct pop3_session *s, const char *line, size_t len)
{
	const struct pop3_command_def *def;
	struct pop3_command cmd;
	const char *error = "Syntax error";

	if (pop3_parse_command(line, len, &cmd, &error) != 0) {
		/* RFC 1939 3: unknown or malformed gets -ERR */
		pop3_err_count(s, "%s", error);
		return;
	}
	def = pop3_command_find(cmd.cmd);
	if (def == NULL) {
		pop3_err_count(s, "Unknown command");
		return;
	}
	if ((def->states & s->state) == 0) {
		pop3_err_count(s, "%s is not valid in the %s state",
			       pop3_cmd_name(cmd.cmd),
			       pop3_state_name(s->state));
		return;
	}
	if ((def->flags & CMD_CREDENTIALS) && !pop3_auth_allowed(s)) {
		/* DESIGN.md 7; RFC 5034 4: no plaintext passwords before
		 * TLS. */
		pop3_err(s, "AUTH",
			 s->srv->starttls && s->srv->tls != NULL
				 ? "Log in only after STLS: plaintext "
				   "passwords are refused"
				 : "Log in only over TLS");
		s->user[0] = '\0';
		return;
	}
	/* RFC 1939 7: PASS only right after USER (CAPA may come between) */
	if (cmd.cmd != POP3_CMD_USER && cmd.cmd != POP3_CMD_PASS &&
	    cmd.cmd != POP3_CMD_CAPA)
		s->user[0] = '\0';
	def->handler(s, &cmd);
}

/* One command line, or the line reader's complaint about it. */
static void pop3_line(struct pop3_session *s, enum linereader_result r,
		      const char *line, size_t len, unsigned flags)
{
	if (r == LINE_TOO_LONG) {
		/* RFC 2449 4 */
		pop3_err_count(s, "Line too long");
	} else if (r != LINE_OK || (flags & LINE_F_NUL)) {
		pop3_err_count(s, "Lines end in CRLF and hold no NUL");
	} else if (s->state == POP3_STATE_SASL) {
		pop3_sasl_input(s, line, len);
		return;
	} else {
		pop3_dispatch(s, line, len);
		return;
	}
	if (s->state == POP3_STATE_SASL) {
		/* a broken response ends the exchange (RFC 5034 4) */
		pop3_sasl_reset(s);
	}
}

/* Still reading commands: not closing, answering late or sending. */
static bool pop3_reading(const struct pop3_session *s)
{
	return (s->state & (POP3_STATE_AUTHORIZATION | POP3_STATE_SASL |
			    POP3_STATE_TRANSACTION)) != 0 &&
	       !s->auth_failed_pending && !s->auth_checking &&
	       s->send.kind == POP3_SEND_NONE;
}

/*
 * RFC 2449 6.6 PIPELINING: run what is buffered, each command in turn.
 * Stops while a multi-line response or other output is backed up.
 */
static void pop3_input(struct pop3_session *s)
{
	const char *line;
	size_t len;
	unsigned flags;

	while (!conn_output_blocked(s->conn)) {
		enum linereader_result r;

		if (!pop3_reading(s))
			break;
		r = conn_read_line(s->conn, &line, &len, &flags);
		if (r == LINE_MORE)
			return;
		pop3_line(s, r, line, len, flags);
	}
	if (s->state != POP3_STATE_DONE && !s->auth_failed_pending)
		conn_pause(s->conn); /* resumed by CONN_EV_FLUSHED */
}

/* Output drained: continue a multi-line response, then read again. */
static void pop3_flushed(struct pop3_session *s)
{
	if (s->send.kind != POP3_SEND_NONE && !pop3_send_pump(s))
		return;
	if (s->shutdown_pending) {
		pop3_err(s, "SYS/TEMP", "Server shutting down");
		pop3_hangup(s);
		return;
	}
	if (!s->auth_failed_pending) /* else CONN_EV_WAKE resumes */
		conn_resume(s->conn);
}

/*
 * RFC 1939 3: on autologout close without a response. A slow reader of
 * a long RETR sends no input but is making progress: let it go on.
 */
static void pop3_timeout(struct pop3_session *s)
{
	if (s->send.kind != POP3_SEND_NONE &&
	    s->send.progress != s->send.at_timeout) {
		s->send.at_timeout = s->send.progress;
		conn_set_timeout(s->conn, s->timeout);
		return;
	}
	log_info(conn_sid(s->conn), "timeout", "peer=%s state=%s",
		 conn_peer_ip(s->conn), pop3_state_name(s->state));
	pop3_hangup(s);
}

static void pop3_session_free(struct pop3_session **sp)
{
	struct pop3_session *s = *sp;

	if (s == NULL)
		return;
	pop3_sasl_reset(s);
	pop3_send_reset(s);
	/* RFC 1939 6: no QUIT, no UPDATE: nothing is deleted. */
	pop3_maildrop_close(s);
	conn_free(&s->conn);
	explicit_bzero(s->user, sizeof(s->user));
	free(s);
	*sp = NULL;
}

static void pop3_on_conn(struct conn *conn, enum conn_event ev, void *arg)
{
	struct pop3_session *s = arg;

	switch (ev) {
	case CONN_EV_DATA:
		pop3_input(s);
		break;
	case CONN_EV_FLUSHED:
		pop3_flushed(s);
		break;
	case CONN_EV_WAKE:
		pop3_auth_wake(s);
		pop3_input(s);
		break;
	case CONN_EV_TLS_DONE:
		log_info(conn_sid(conn), "stls", "version=%s cipher=%s",
			 conn_tls_version(conn), conn_tls_cipher(conn));
		break;
	case CONN_EV_TIMEOUT:
		pop3_timeout(s);
		break;
	case CONN_EV_SHUTDOWN:
		/* A multi-line response in flight finishes first. */
		if (s->send.kind != POP3_SEND_NONE) {
			s->shutdown_pending = true;
			break;
		}
		pop3_err(s, "SYS/TEMP", "Server shutting down");
		pop3_hangup(s);
		break;
	case CONN_EV_CLOSED:
		log_info(conn_sid(conn), "disconnect", "peer=%s errors=%d",
			 conn_peer_ip(conn), s->errors);
		pop3_session_free(&s);
		break;
	}
}

static struct pop3_session *pop3_session_new(struct conn *conn,
					     const struct pop3_server *srv)
{
	struct pop3_session *s = xcalloc(1, sizeof(*s));
	int timeout = srv->idle_timeout;

	if (timeout > 0 && timeout < POP3_IDLE_TIMEOUT_MIN)
		timeout = POP3_IDLE_TIMEOUT_MIN;
	s->conn = conn;
	s->srv = srv;
	s->state = POP3_STATE_AUTHORIZATION;
	s->lock = -1;
	s->timeout = timeout;
	conn_set_max_line(conn, POP3_COMMAND_MAX);
	conn_set_timeout(conn, timeout);
	conn_set_callback(conn, pop3_on_conn, s);
	return s;
}

void pop3_session_start(struct conn *conn, const struct pop3_server *srv)
{
	struct pop3_session *s = pop3_session_new(conn, srv);

	/* RFC 1939 4; no timestamp: APOP is not offered. */
	pop3_ok(s, "%s postern ready", srv->hostname);
}

void pop3_session_refuse(struct conn *conn, const struct pop3_server *srv,
			 const char *why)
{
	struct pop3_session *s = pop3_session_new(conn, srv);

	pop3_err(s, "SYS/TEMP", "%s, try again later", why);
	pop3_hangup(s);
}
